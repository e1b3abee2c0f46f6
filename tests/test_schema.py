"""Tests of data/datapackage.json (the data dictionary) and its reader, schema.py."""

from __future__ import annotations

import ast
import csv
import io
import json
import shutil
from pathlib import Path

import frictionless
import pytest

from neuroimmune_review import schema

REPO = Path(__file__).resolve().parents[1]
DATAPACKAGE = REPO / "data" / "datapackage.json"
EVIDENCE_COLUMNS = [
    "id",
    "claim_type",
    "intervention",
    "comparator",
    "mediator",
    "direction",
    "reported_as",
    "evidence_type",
    "species",
    "sample",
    "dose",
    "citation",
    "review_ref",
    "chapter",
    "note",
]


@pytest.fixture(scope="module")
def package() -> schema.PackageSpec:
    return schema.load_package(DATAPACKAGE)


def frictionless_errors(descriptor: Path) -> list[str]:
    report = frictionless.validate(str(descriptor))
    return [f"{task.name}: {error.message}" for task in report.tasks for error in task.errors] + [
        error.message for error in report.errors
    ]


def test_real_data_package_passes_frictionless():
    assert frictionless_errors(DATAPACKAGE) == []


def copy_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data, ignore=shutil.ignore_patterns("figures"))
    return data


def replace_first_value(path: Path, column: str, value: str) -> None:
    """Set *column* of the first data row, rewriting the file with the csv module so quoting stays right."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    rows[1][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


@pytest.mark.parametrize(
    ("column", "value", "error_type"),
    [
        ("direction", "upwards", "constraint"),
        ("mediator", "no-such-mediator", "foreign"),
        ("id", "", "constraint"),
    ],
)
def test_frictionless_is_an_independent_check(tmp_path, column, value, error_type):
    data = copy_data(tmp_path)
    replace_first_value(data / "evidence.csv", column, value)
    errors = frictionless_errors(data / "datapackage.json")
    assert errors, f"frictionless accepted {column}={value!r}"
    assert any(error_type in e.lower() for e in errors), errors


def test_evidence_columns_are_those_of_the_issue(package):
    assert package.table("evidence").columns == EVIDENCE_COLUMNS


def test_enums_come_from_the_descriptor(package):
    descriptor = json.loads(DATAPACKAGE.read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        for field in resource["schema"]["fields"]:
            enum = field.get("constraints", {}).get("enum")
            assert package.table(resource["name"]).field(field["name"]).enum == (
                tuple(enum) if enum else None
            )
    assert package.table("evidence").enums["direction"] == (
        "increase",
        "decrease",
        "no_change",
        "mixed",
        "changed_unspecified",
    )
    assert package.table("evidence").enums["claim_type"] == (
        "intervention_effect",
        "condition_vs_control",
        "association",
        "proposed_mechanism",
        "non_mediator_outcome",
    )
    assert {"clinical outcome", "neural function"} <= set(
        package.table("mediators").enums["family"]
    )
    assert set(package.table("mediators").enums) >= {"family", "th_axis", "inflammatory_role"}
    assert package.table("interventions").enums["kind"] == (
        "drug",
        "drug_class",
        "pooled_group",
        "non_drug",
        "condition",
        "stimulus",
    )
    interventions = package.table("interventions").columns
    assert interventions[interventions.index("drug_class") + 1] == "members"


def test_validator_does_not_repeat_the_enums():
    """The validator reads enums from datapackage.json; it must not hold its own copies."""
    modules = sorted((REPO / "src" / "neuroimmune_review" / "validate").glob("*.py"))
    assert len(modules) > 5  # the validator's modules were really read
    source = "".join(m.read_text(encoding="utf-8") for m in modules)
    for value in (
        "preclinical_in_vivo",
        "no_change",
        "non_drug",
        "acute-phase protein",
        "pleiotropic",
    ):
        assert value not in source


def test_every_field_is_documented(package):
    for table in package.tables.values():
        assert table.description, table.name
        for field in table.fields:
            assert len(field.description) > 20, f"{table.name}.{field.name} needs a description"


def test_keys_and_licence(package):
    evidence = package.table("evidence")
    assert evidence.primary_key == ("id",)
    assert {(fk.fields, fk.resource, fk.reference_fields) for fk in evidence.foreign_keys} >= {
        (("intervention",), "interventions", ("name",)),
        (("mediator",), "mediators", ("name",)),
    }
    assert package.table("interventions").primary_key == ("name",)
    assert package.table("mediators").primary_key == ("name",)
    assert [licence["name"] for licence in package.licenses] == ["CC-BY-4.0"]
    assert evidence.required_columns == [
        "id",
        "claim_type",
        "intervention",
        "comparator",
        "mediator",
        "direction",
        "reported_as",
        "evidence_type",
        "sample",
        "citation",
        "chapter",
    ]


def test_table_paths_resolve(package):
    assert package.table_path("evidence") == REPO / "data" / "evidence.csv"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "file not found"),
        (b"{not json", "not a readable JSON"),
        (b"\xff\xfe", "not a readable JSON"),
        (b'{"resources": [{"name": "x"}]}', "malformed"),
        (b"[]", "malformed"),
    ],
)
def test_unusable_descriptors_raise_schema_error_only(tmp_path, content, fragment):
    path = tmp_path / "datapackage.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(schema.SchemaError, match=fragment):
        schema.load_package(path)


def test_categories_give_a_label_to_every_enum_value_they_cover(package):
    for table in package.tables.values():
        for field in table.fields:
            if field.labels:
                assert field.enum is not None, f"{table.name}.{field.name} has labels but no enum"
                assert set(field.labels) == set(field.enum), f"{table.name}.{field.name}"


def _string_literals(node: ast.AST) -> list[str]:
    """The string elements (for a dict: the keys) of a list, tuple, set or dict literal."""
    items = node.keys if isinstance(node, ast.Dict) else node.elts
    return [i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)]


def test_no_literal_copy_of_an_enum_in_the_package(package):
    """Every enum and its display order come from datapackage.json (issue #12): a list, tuple,
    set or dict literal holding every value of an enum (3 values or more) is a copy that would go
    stale when the enum changes.  The palettes (one colour per value) are the one allowed home,
    and test_palettes_cover_every_enum_value keeps them complete."""
    enums = {
        f"{t.name}.{f.name}": set(f.enum)
        for t in package.tables.values()
        for f in t.fields
        if f.enum and len(f.enum) >= 3
    }
    package_dir = REPO / "src" / "neuroimmune_review"
    copies = []
    for file in sorted(package_dir.rglob("*.py")):
        if file.name == "palette.py":
            continue
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
                values = set(_string_literals(node))
                for name, enum in enums.items():
                    if enum <= values:
                        copies.append(f"{file.relative_to(REPO)}:{node.lineno}: copy of {name}")
    assert not copies, "\n".join(copies)


def test_the_enum_copy_check_can_fail(tmp_path):
    """The check above finds a copy when there is one."""
    node = ast.parse(
        'ORDER = ["increase", "decrease", "no_change", "mixed", "changed_unspecified"]'
    )
    values = set(_string_literals(node.body[0].value))
    assert set(schema.load_package(DATAPACKAGE).table("evidence").field("direction").enum) <= values


def test_palettes_cover_every_enum_value(package):
    from neuroimmune_review.pages import palette

    directions = set(package.table("evidence").field("direction").enum)
    assert set(palette.DIRECTION_COLOURS) == directions == set(palette.DIRECTION_SHAPES)
    assert len(set(palette.DIRECTION_SHAPES.values())) == len(directions)  # a shape each
    assert set(palette.EVIDENCE_COLOURS) == set(
        package.table("evidence").field("evidence_type").enum
    )
