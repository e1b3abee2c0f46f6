"""Tests of the validator (src/neuroimmune_review/validate.py) and its CLI (scripts/validate.py).

Each rule is tested by breaking one thing in a copy of a small valid review
(tests/fixtures/valid plus the repository's data/datapackage.json) and checking
that the report names the file, the physical line, the field and the value.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuroimmune_review.schema import FieldSpec
from neuroimmune_review.validate import (
    MAX_PROBLEMS_PER_RULE,
    WARNING,
    CsvTable,
    Problem,
    check_field,
    format_problem,
    validate,
    validate_root,
)

REPO = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "valid"
CLI = REPO / "scripts" / "validate.py"
EVIDENCE = "data/evidence.csv"
BIB = "references.bib"
EVIDENCE_HEADER = "id,claim_type,intervention,comparator,mediator,direction,reported_as,evidence_type,species,sample,dose,citation,review_ref,chapter,note"


def make_root(base: Path) -> Path:
    """A fresh copy of the valid fixture review, described by the repository's data package.

    Resources the fixture has no file for (tables added to the review later) are
    left out of the descriptor, so the fixture stays small.
    """
    root = base / "review"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(FIXTURE, root)
    descriptor = json.loads((REPO / "data" / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"] = [
        r for r in descriptor["resources"] if (root / "data" / r["path"]).exists()
    ]
    (root / "data" / "datapackage.json").write_text(
        json.dumps(descriptor, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return root


def line_containing(root: Path, relpath: str, text: str) -> int:
    """1-based number of the first line of *relpath* containing *text*."""
    for number, line in enumerate(
        (root / relpath).read_text(encoding="utf-8").splitlines(), start=1
    ):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {relpath}")


def edit(root: Path, relpath: str, old: str, new: str, count: int = 1) -> None:
    path = root / relpath
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not found in {relpath}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def errors(root: Path) -> list[Problem]:
    return [p for p in validate_root(root) if p.severity != WARNING]


def find(problems: list[Problem], path: str, line: int, field: str, *fragments: str) -> Problem:
    """The problem at path:line for field whose message contains every fragment, or a helpful failure."""
    for problem in problems:
        if (problem.path, problem.line, problem.field) == (path, line, field) and all(
            f in problem.message for f in fragments
        ):
            return problem
    listing = "\n".join(map(format_problem, problems)) or "(no problems)"
    pytest.fail(f"no problem {path}:{line}: {field}: …{fragments}… among:\n{listing}")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CLI), *args], capture_output=True, text=True, timeout=120
    )


def tree_digest(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_root(tmp_path)


# ---------------------------------------------------------------------------
# The real data and the fixture


def test_repository_data_passes():
    """The review's own data/ and references.bib have no errors (warnings are allowed)."""
    problems = [p for p in validate_root(REPO) if p.severity != WARNING]
    assert problems == [], "\n".join(map(format_problem, problems))


def test_fixture_is_clean(root):
    assert validate_root(root) == []


def test_format_problem():
    problem = Problem("data/evidence.csv", 7, "direction", "'up' is not allowed")
    assert format_problem(problem) == "data/evidence.csv:7: direction: 'up' is not allowed"
    warning = Problem("references.bib", 3, "key", "entry 'x' is not cited", WARNING)
    assert format_problem(warning) == "references.bib:3: key: warning: entry 'x' is not cited"


# ---------------------------------------------------------------------------
# evidence.csv: one test per rule. EV0001 spans lines 2-3, so EV0002 starts on line 4,
# EV0003 on line 5 … EV0006 on line 8: these tests also pin physical line numbers.


def test_non_utf8_bytes_are_reported_with_their_line(root):
    path = root / EVIDENCE
    path.write_bytes(path.read_bytes().replace(b"rat cortex", b"rat c\xf6rtex"))
    problem = find(errors(root), EVIDENCE, 6, "encoding", "0xf6", "not valid UTF-8")
    assert "expected UTF-8" in problem.message


def test_header_must_match_exactly(root):
    edit(
        root,
        EVIDENCE,
        "id,claim_type,intervention,comparator,mediator,",
        "id,claim_type,intervention,comparator,mediatr,",
    )
    problems = errors(root)
    find(problems, EVIDENCE, 1, "header", "missing column 'mediator'")
    find(problems, EVIDENCE, 1, "header", "unexpected column 'mediatr'", "did you mean 'mediator'")


def test_header_order_matters(root):
    edit(root, EVIDENCE, "species,sample", "sample,species")
    find(errors(root), EVIDENCE, 1, "header", "wrong order")


def test_required_field_must_not_be_empty(root):
    edit(root, EVIDENCE, "rat,rat cortex,", "rat,  ,")
    find(errors(root), EVIDENCE, 6, "sample", "required value is empty")


@pytest.mark.parametrize(
    ("old", "new", "field", "value", "suggestion"),
    [
        (
            "IL-6,increase,increased,clinical",
            "IL-6,increse,increased,clinical",
            "direction",
            "'increse'",
            "'increase'",
        ),
        (
            "IL-6,increase,increased,clinical",
            "IL-6,increase,increased,Clinical",
            "evidence_type",
            "'Clinical'",
            "'clinical'",
        ),
    ],
)
def test_enum_values_with_suggestion(root, old, new, field, value, suggestion):
    edit(root, EVIDENCE, old, new)
    problem = find(
        errors(root), EVIDENCE, 5, field, value, "expected one of", f"did you mean {suggestion}"
    )
    assert "no_change" in problem.message or "preclinical_in_vivo" in problem.message


def test_intervention_must_be_in_vocabulary(root):
    edit(
        root,
        EVIDENCE,
        "EV0004,intervention_effect,imipramine",
        "EV0004,intervention_effect,imipramin",
    )
    find(
        errors(root),
        EVIDENCE,
        6,
        "intervention",
        "'imipramin'",
        "data/interventions.csv",
        "did you mean 'imipramine'",
    )


def test_mediator_suggestion_uses_aliases(root):
    edit(root, EVIDENCE, "treatment,TNF-α,decrease", "treatment,TNF-alpha,decrease")
    find(
        errors(root),
        EVIDENCE,
        4,
        "mediator",
        "'TNF-alpha'",
        "data/mediators.csv",
        "did you mean 'TNF-α'",
    )


def test_ids_must_be_unique(root):
    edit(root, EVIDENCE, "EV0004,", "EV0003,")
    find(errors(root), EVIDENCE, 6, "id", "'EV0003'", "repeats line 5")


def test_id_pattern_from_the_data_package(root):
    edit(root, EVIDENCE, "EV0004,", "E4,")
    find(errors(root), EVIDENCE, 6, "id", "'E4'", "pattern")


def test_duplicate_findings(root):
    # Same intervention, mediator, direction, citation and sample as EV0001 (lines 2-3).
    edit(root, EVIDENCE, "before treatment,TNF-α", "before treatment,IL-6")
    problem = find(
        errors(root),
        EVIDENCE,
        4,
        "finding",
        "'EV0002'",
        "line 2",
        "'IL-6'",
        "'smith2010fluoxetine'",
    )
    assert "'serum, MDD patients'" in problem.message


def test_unresolved_rows_with_different_numbers_are_not_duplicates(root):
    # Both rows cite only the source article, under different reference numbers.
    edit(
        root,
        EVIDENCE,
        "EV0006,intervention_effect,lipopolysaccharide,vehicle or untreated,IL-10,no_change,unchanged,in_vitro,mouse,microglial culture",
        'EV0006,condition_vs_control,major depressive disorder,healthy controls,IL-1β,increase,elevated,clinical,human,"serum, MDD patients vs controls"',
    )
    assert [p for p in errors(root) if p.field == "finding"] == []


def test_citation_keys_must_exist(root):
    edit(root, EVIDENCE, "lee2001imipramine,20", "lee2001imipramin,20")
    find(
        errors(root),
        EVIDENCE,
        6,
        "citation",
        "'lee2001imipramin'",
        "references.bib",
        "did you mean 'lee2001imipramine'",
    )


def test_citation_list_with_empty_key(root):
    edit(root, EVIDENCE, "lee2001imipramine,20", '"lee2001imipramine;;doe2005tricyclic",20')
    find(
        errors(root), EVIDENCE, 6, "citation", "'lee2001imipramine;;doe2005tricyclic'", "empty key"
    )


@pytest.mark.parametrize(
    ("value", "fragment"), [("x20", "'x20'"), ("300", "300"), ("0", "0"), ("20;;21", "''")]
)
def test_review_ref_is_integer_from_1_to_224(root, value, fragment):
    edit(root, EVIDENCE, "lee2001imipramine,20,", f"lee2001imipramine,{value},")
    problems = errors(root)
    problem = find(problems, EVIDENCE, 6, "review_ref", fragment)
    assert "1" in problem.message and "224" in problem.message
    # One message per cell: the schema's pattern rule does not repeat it.
    assert [p for p in problems if (p.line, p.field) == (6, "review_ref")] == [problem]


def test_chapter_must_be_in_toc(root):
    edit(root, EVIDENCE, "20,book/antidepressants/tca", "20,book/antidepressants/tcas")
    find(
        errors(root),
        EVIDENCE,
        6,
        "chapter",
        "'book/antidepressants/tcas'",
        "_toc.yml",
        "did you mean 'book/antidepressants/tca'",
    )


def test_wrong_field_count(root):
    edit(root, EVIDENCE, "rat,rat cortex,10 mg/kg,", "rat,rat cortex,10 mg/kg,extra,")
    find(errors(root), EVIDENCE, 6, "row", "16 fields", "expected 15")


def test_unterminated_quote(root):
    with (root / EVIDENCE).open("a", encoding="utf-8") as handle:
        handle.write(
            'EV0009,intervention_effect,fluoxetine,before treatment,IL-6,decrease,reduced,clinical,human,"serum, never closed,,x,12,book/antidepressants/ssri,\n'
        )
    find(errors(root), EVIDENCE, 11, "row", "unterminated quoted field")


def test_text_after_closing_quote(root):
    edit(root, EVIDENCE, "human,plasma,", 'human,"plasma"x,')
    find(errors(root), EVIDENCE, 5, "row", "after a closing")


def test_blank_line(root):
    edit(root, EVIDENCE, "\nEV0004,", "\n\nEV0004,")
    find(errors(root), EVIDENCE, 6, "row", "blank line")


def test_nul_byte(root):
    edit(root, EVIDENCE, "rat cortex", "rat\x00cortex")
    find(errors(root), EVIDENCE, 6, "encoding", "NUL byte")


def test_empty_file(root):
    (root / EVIDENCE).write_bytes(b"")
    find(errors(root), EVIDENCE, 1, "header", "file is empty", EVIDENCE_HEADER)


def test_missing_file(root):
    (root / "data" / "mediators.csv").unlink()
    problems = errors(root)
    find(problems, "data/mediators.csv", 0, "file", "file not found")
    # The evidence is still checked on its own.
    assert not [p for p in problems if p.path == EVIDENCE]


def test_two_megabyte_field_is_reported_shortened(root):
    edit(
        root,
        EVIDENCE,
        "increased,clinical,human,plasma",
        "increased,clinical,human,plasma" + "é" * 2_000_000,
    )
    edit(
        root,
        EVIDENCE,
        "EV0003,intervention_effect,imipramine",
        "EV0003,intervention_effect,imipramine" + "x" * 2_000_000,
    )
    problem = find(errors(root), EVIDENCE, 5, "intervention", "2000010 characters")
    assert len(problem.message) < 400


def test_typed_fields_from_a_schema():
    """Integer, number and range rules, as used by tables such as meta_analyses.csv."""
    frame = pd.DataFrame(
        {"n": ["12", "0", "x", ""], "share": ["0.5", "1e2", "150", "-"]},
        index=[2, 3, 4, 5],
        dtype=object,
    )
    table = CsvTable("data/t.csv", ["n", "share"], 1, frame)
    n_problems = check_field(table, FieldSpec("n", type="integer", minimum=1))
    assert [(p.line, p.message) for p in n_problems] == [
        (3, "'0' is below the minimum 1"),
        (4, "'x' is not a valid integer"),
    ]
    share_problems = check_field(table, FieldSpec("share", type="number", maximum=100))
    assert [(p.line, p.message) for p in share_problems] == [
        (4, "'150' is above the maximum 100"),
        (5, "'-' is not a valid number"),
    ]


def test_vocabulary_enums(root):
    edit(root, "data/mediators.csv", "IL10,cytokine,Th2", "IL10,cytokin,Th2")
    find(errors(root), "data/mediators.csv", 5, "family", "'cytokin'", "did you mean 'cytokine'")


def test_vocabulary_names_unique(root):
    edit(root, "data/interventions.csv", "imipramine,drug,TCA", "fluoxetine,drug,TCA")
    problems = errors(root)
    find(problems, "data/interventions.csv", 4, "name", "'fluoxetine'", "repeats line 2")


def test_many_problems_are_capped(root):
    rows = "".join(
        f"EV{1000 + i},intervention_effect,fluoxetine,before treatment,IL-6,sideways,reduced,clinical,human,sample {i},,smith2010fluoxetine,12,book/antidepressants/ssri,\n"
        for i in range(MAX_PROBLEMS_PER_RULE + 10)
    )
    with (root / EVIDENCE).open("a", encoding="utf-8") as handle:
        handle.write(rows)
    direction = [p for p in errors(root) if p.field == "direction"]
    assert len(direction) == MAX_PROBLEMS_PER_RULE + 1
    assert "and 10 more" in direction[-1].message


def test_missing_or_broken_data_package(root):
    (root / "data" / "datapackage.json").write_text("{not json", encoding="utf-8")
    find(errors(root), "data/datapackage.json", 0, "schema", "not a readable JSON file")


def test_missing_toc(root):
    (root / "_toc.yml").unlink()
    find(errors(root), "_toc.yml", 0, "file", "file not found")


@pytest.mark.parametrize(
    "content", ["parts: [\n", "a: 2001-13-45\n", "[" * 5000, "a: &x [*x]\n", "just text\n", ""]
)
def test_broken_toc(root, content):
    (root / "_toc.yml").write_text(content, encoding="utf-8")
    problems = errors(root)
    assert [p.path for p in problems] == ["_toc.yml"], problems


@pytest.mark.parametrize(
    "descriptor",
    [
        "[" * 100_000,
        '{"resources": [{"name": "evidence", "path": ["a.csv", "b.csv"], "schema": {"fields": []}}]}',
        '{"resources": [{"name": "evidence", "path": "evidence.csv", "schema": "schema.json"}]}',
        '{"resources": [{"name": "e", "path": "evidence.csv", "schema": {"fields": [{"name": "id", "constraints": {"minimum": "1"}}]}}]}',
        '{"resources": [{"name": "e", "path": "evidence.csv", "schema": {"fields": [{"name": "id", "type": ["x"]}]}}]}',
        '{"resources": 5}',
        "null",
    ],
)
def test_unusable_data_package_is_reported(root, descriptor):
    (root / "data" / "datapackage.json").write_text(descriptor, encoding="utf-8")
    find(errors(root), "data/datapackage.json", 0, "schema", "expected a Frictionless data package")


def test_invalid_pattern_in_data_package(root):
    descriptor = json.loads((root / "data" / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"][0]["schema"]["fields"][0]["constraints"]["pattern"] = "EV[0-9"
    (root / "data" / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    find(errors(root), EVIDENCE, 0, "id", "not a valid regular expression")


# ---------------------------------------------------------------------------
# references.bib


def test_bib_parse_failure_has_line(root):
    with (root / BIB).open("a", encoding="utf-8") as handle:
        handle.write("\n@article{broken2020entry,\n  author = {Unclosed, Brace,\n  year = {2020}\n")
    line = (root / BIB).read_text(encoding="utf-8").splitlines().index(
        "@article{broken2020entry,"
    ) + 1
    find(errors(root), BIB, line, "entry", "'@article{broken2020entry,'", "could not be parsed")


def test_bib_duplicate_key(root):
    with (root / BIB).open("a", encoding="utf-8") as handle:
        handle.write(
            "\n@article{lee2001imipramine,\n  author = {Lee, M},\n  title = {Again},\n  year = {2001}\n}\n"
        )
    first = line_containing(root, BIB, "@article{lee2001imipramine")
    second = len((root / BIB).read_text(encoding="utf-8").splitlines()) - 4
    find(errors(root), BIB, second, "key", "duplicate key 'lee2001imipramine'", f"line {first}")


def test_bib_duplicate_doi(root):
    edit(root, BIB, "pmid = {123456}", "doi = {10.1000/FIXTURE.1}")
    find(
        errors(root),
        BIB,
        line_containing(root, BIB, "@article{doe2005tricyclic"),
        "doi",
        "'10.1000/FIXTURE.1'",
        "'smith2010fluoxetine'",
        f"line {line_containing(root, BIB, '@article{smith2010')}",
    )


@pytest.mark.parametrize(
    "doi", ["https://doi.org/10.1000/fixture.1", "10.10/x", "10.1000/with space"]
)
def test_bib_malformed_doi(root, doi):
    edit(root, BIB, "doi = {10.1000/fixture.1}", f"doi = {{{doi}}}")
    find(
        errors(root),
        BIB,
        line_containing(root, BIB, "@article{smith2010"),
        "doi",
        repr(doi),
        "malformed",
    )


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,<script>", "www.example.org/x"]
)
def test_bib_url_must_be_a_web_address(root, url):
    edit(root, BIB, "doi = {10.1000/fixture.1}", f"doi = {{10.1000/fixture.1}},\n  url = {{{url}}}")
    find(
        errors(root),
        BIB,
        line_containing(root, BIB, "@article{smith2010"),
        "url",
        repr(url),
        "https://",
    )


def test_bib_web_url_is_accepted(root):
    edit(
        root,
        BIB,
        "doi = {10.1000/fixture.1}",
        "doi = {10.1000/fixture.1},\n  url = {https://example.org/paper}",
    )
    assert not [p for p in errors(root) if p.field == "url"]


@pytest.mark.parametrize("field", ["author", "title", "year"])
def test_bib_missing_required_fields(root, field):
    text = (root / BIB).read_text(encoding="utf-8")
    start = text.index("@article{lee2001imipramine")
    block = text[start:]
    kept = "\n".join(
        line for line in block.splitlines() if not line.strip().startswith(f"{field} =")
    )
    (root / BIB).write_text(text[:start] + kept + "\n", encoding="utf-8")
    line = line_containing(root, BIB, "@article{lee2001imipramine")
    find(errors(root), BIB, line, field, "'lee2001imipramine'", f"has no {field}")


def test_bib_pmid_digits_only(root):
    edit(root, BIB, "pmid = {123456}", "pmid = {PMID:123456}")
    find(
        errors(root),
        BIB,
        line_containing(root, BIB, "@article{doe2005"),
        "pmid",
        "'PMID:123456'",
        "digits",
    )


def test_unused_bib_entry_is_a_warning_only(root):
    with (root / BIB).open("a", encoding="utf-8") as handle:
        handle.write(
            "\n@book{unused1999book,\n  author = {Nobody, N.},\n  title = {Never cited},\n  year = {1999}\n}\n"
        )
    problems = validate_root(root)
    line = line_containing(root, BIB, "@book{unused1999book")
    problem = find(problems, BIB, line, "key", "'unused1999book'", "not cited")
    assert problem.severity == WARNING
    assert errors(root) == []
    assert run_cli("--root", str(root)).returncode == 0


def test_book_citations_count_as_uses(root):
    with (root / BIB).open("a", encoding="utf-8") as handle:
        handle.write(
            "\n@book{book1999cited,\n  author = {Nobody, N.},\n  title = {Cited in a page},\n  year = {1999}\n}\n"
        )
    (root / "book").mkdir()
    (root / "book" / "page.md").write_text("As shown {cite:p}`book1999cited`.\n", encoding="utf-8")
    assert validate_root(root) == []


def test_source_only_row_whose_number_is_resolved_is_warned(root):
    edit(root, EVIDENCE, "nava2025modulation,9,", "nava2025modulation,12,")
    problem = find(
        validate_root(root), EVIDENCE, 8, "citation", "nava2025modulation", "smith2010fluoxetine"
    )
    assert problem.severity == WARNING


def test_missing_bib(root):
    (root / BIB).unlink()
    find(errors(root), BIB, 0, "file", "file not found")


# ---------------------------------------------------------------------------
# The command line


def test_cli_clean_exit_0_and_report(root):
    result = run_cli("--root", str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout
    assert "4 of 224 source-article reference numbers resolved" in result.stdout
    assert (
        "Evidence rows citing only the source article (nava2025modulation): 2 of 8" in result.stdout
    )
    assert result.stderr == ""


def test_cli_errors_exit_1_with_relative_paths(root):
    edit(root, EVIDENCE, "IL-6,increase,increased,clinical", "IL-6,increse,increased,clinical")
    result = run_cli("--root", str(root))
    assert result.returncode == 1
    assert "data/evidence.csv:5: direction: 'increse' is not allowed" in result.stdout
    assert str(root) not in result.stdout
    assert "1 error," in result.stdout


def test_cli_usage_error_exit_2(tmp_path):
    assert run_cli("--no-such-option").returncode == 2
    assert run_cli("--root", str(tmp_path / "missing")).returncode == 2


def test_validation_writes_nothing(root):
    edit(root, EVIDENCE, "IL-6,increase,increased,clinical", "IL-6,increse,increased,clinical")
    with (root / BIB).open("a", encoding="utf-8") as handle:
        handle.write("\n@article{broken,\n")
    before = tree_digest(root)
    validate_root(root)
    run_cli("--root", str(root))
    assert tree_digest(root) == before


def test_repository_validation_writes_nothing():
    watched = [REPO / "data", REPO / BIB, REPO / "_toc.yml"]
    before = {
        str(p): tree_digest(p) if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in watched
        if p.exists()
    }
    validate_root(REPO)
    after = {
        str(p): tree_digest(p) if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in watched
        if p.exists()
    }
    assert after == before


# ---------------------------------------------------------------------------
# Robustness: arbitrary bytes never cause a traceback, and never pass when invalid


def _assert_well_formed(problems: list[Problem]) -> None:
    for problem in problems:
        assert isinstance(problem.line, int) and problem.line >= 0
        assert isinstance(problem.path, str) and isinstance(problem.field, str) and problem.message
        format_problem(problem).encode("utf-8")  # printable without error


_bytes = st.one_of(
    st.binary(max_size=2000),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=500).map(lambda t: t.encode("utf-8")),
    # Near-valid CSV: the right header followed by arbitrary text.
    st.text(alphabet=st.sampled_from(list('ab,;"\n\r\x00 éIL-6EV0')), max_size=300).map(
        lambda t: (EVIDENCE_HEADER + "\n" + t).encode("utf-8")
    ),
)
_bib_bytes = st.one_of(
    st.binary(max_size=2000),
    st.text(alphabet=st.sampled_from(list('@article{}=," \n%abc0123')), max_size=400).map(
        lambda t: t.encode("utf-8")
    ),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=_bytes)
def test_arbitrary_evidence_bytes_never_crash(tmp_path_factory, data):
    root = make_root(tmp_path_factory.mktemp("fuzz"))
    (root / EVIDENCE).write_bytes(data)
    problems = validate_root(root)
    _assert_well_formed(problems)
    text = data.decode("utf-8", errors="replace")
    if not (text == EVIDENCE_HEADER or text.startswith(EVIDENCE_HEADER + "\n")):
        assert any(p.severity != WARNING and p.path == EVIDENCE for p in problems)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=_bib_bytes)
def test_arbitrary_bib_bytes_never_crash(tmp_path_factory, data):
    root = make_root(tmp_path_factory.mktemp("fuzz"))
    (root / BIB).write_bytes(data)
    result = validate(root)
    _assert_well_formed(result.problems)
    # The fixture's evidence cites four entries; garbage cannot define them all.
    assert result.errors


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(evidence=_bytes, bib=_bib_bytes)
def test_cli_on_arbitrary_bytes_exits_1_without_traceback(tmp_path_factory, evidence, bib):
    root = make_root(tmp_path_factory.mktemp("cli"))
    (root / EVIDENCE).write_bytes(evidence)
    (root / BIB).write_bytes(bib)
    result = run_cli("--root", str(root))
    assert "Traceback" not in result.stderr
    # Random bytes are almost always invalid, but a header-only CSV with an empty bibliography
    # is a valid (empty) data set: the CLI must exit 1 exactly when the validator finds errors.
    expected = 1 if validate(root).errors else 0
    assert result.returncode == expected, result.stdout


# ---------------------------------------------------------------------------
# Evidence model v2: claim types, directions, one citation, pooled groups, wording


def test_claim_type_required(root):
    edit(root, EVIDENCE, "EV0004,intervention_effect,", "EV0004,,")
    problem = find(errors(root), EVIDENCE, 6, "claim_type", "required value is empty")
    assert "condition_vs_control" in problem.message


def test_claim_type_must_be_in_enum(root):
    edit(root, EVIDENCE, "EV0004,intervention_effect,", "EV0004,drug_effect,")
    find(errors(root), EVIDENCE, 6, "claim_type", "'drug_effect'", "expected one of")


def test_changed_unspecified_is_a_direction_and_others_are_not(root):
    assert not [p for p in errors(root) if p.field == "direction"]  # EV0007 is changed_unspecified
    edit(root, EVIDENCE, "IL-6,changed_unspecified,", "IL-6,changed,")
    problem = find(errors(root), EVIDENCE, 9, "direction", "'changed'", "expected one of")
    assert "changed_unspecified" in problem.message


def test_citation_is_exactly_one_key(root):
    edit(root, EVIDENCE, "lee2001imipramine,20", '"lee2001imipramine;doe2005tricyclic",20')
    problem = find(errors(root), EVIDENCE, 6, "citation", "names 2 works", "exactly one BibTeX key")
    assert "one row per work" in problem.message


def test_citation_must_exist(root):
    edit(root, EVIDENCE, "lee2001imipramine,20", "lee2001imipramin,20")
    find(errors(root), EVIDENCE, 6, "citation", "'lee2001imipramin'", "not in references.bib")


def test_comparator_required(root):
    edit(root, EVIDENCE, "imipramine,vehicle or untreated,", "imipramine,,")
    find(errors(root), EVIDENCE, 6, "comparator", "required value is empty")


def test_reported_as_required(root):
    edit(root, EVIDENCE, "IL-6,decrease,lowered,", "IL-6,decrease,,")
    find(errors(root), EVIDENCE, 6, "reported_as", "required value is empty")


def test_reported_as_at_most_eight_words(root):
    eight = "was lowered in the cortex of treated rats"
    edit(root, EVIDENCE, "IL-6,decrease,lowered,", f"IL-6,decrease,{eight},")
    assert not [p for p in errors(root) if p.field == "reported_as"]
    edit(root, EVIDENCE, eight, eight + " today")
    problem = find(errors(root), EVIDENCE, 6, "reported_as", "has 9 words", "at most 8 words")
    # One message for the cell: the schema's generic pattern message is not repeated.
    assert len([p for p in errors(root) if p.field == "reported_as"]) == 1
    assert "note" in problem.message


def test_non_mediator_outcome_names_an_outcome(root):
    edit(
        root,
        EVIDENCE,
        "non_mediator_outcome,fluoxetine,placebo,depressive symptoms",
        "non_mediator_outcome,fluoxetine,placebo,IL-6",
    )
    find(errors(root), EVIDENCE, 10, "mediator", "'IL-6'", "family 'cytokine'", "clinical outcome")


INTERVENTIONS = "data/interventions.csv"
POOLED = '"SSRIs, pooled: fluoxetine, sertraline",pooled_group,SSRI,fluoxetine; sertraline,'


def test_pooled_group_members_must_exist(root):
    edit(root, INTERVENTIONS, "SSRI,fluoxetine; sertraline,", "SSRI,fluoxetine; sertralin,")
    find(errors(root), INTERVENTIONS, 8, "members", "'sertralin'", "did you mean 'sertraline'")


def test_pooled_group_members_must_be_drugs(root):
    edit(root, INTERVENTIONS, "SSRI,fluoxetine; sertraline,", "SSRI,fluoxetine; SSRIs,")
    find(errors(root), INTERVENTIONS, 8, "members", "'SSRIs' (kind drug_class)", "kind 'drug'")


def test_pooled_group_needs_two_members(root):
    edit(root, INTERVENTIONS, "SSRI,fluoxetine; sertraline,", "SSRI,fluoxetine,")
    find(errors(root), INTERVENTIONS, 8, "members", "1 member", "at least two")


def test_pooled_group_class_must_match_its_members(root):
    edit(root, INTERVENTIONS, POOLED, POOLED.replace(",SSRI,", ",TCA,"))
    find(
        errors(root), INTERVENTIONS, 8, "members", "drug_class 'TCA'", "expected drug_class 'SSRI'"
    )


def test_pooled_group_of_mixed_classes_has_no_class(root):
    edit(root, INTERVENTIONS, "SSRI,fluoxetine; sertraline,", "SSRI,fluoxetine; imipramine,")
    problem = find(errors(root), INTERVENTIONS, 8, "members", "do not share one class")
    assert "expected drug_class empty" in problem.message
    edit(root, INTERVENTIONS, ",SSRI,fluoxetine; imipramine,", ",,fluoxetine; imipramine,")
    assert not [p for p in errors(root) if p.field == "members"]


def test_members_only_for_pooled_groups(root):
    edit(
        root, INTERVENTIONS, "imipramine,drug,TCA,,", "imipramine,drug,TCA,fluoxetine; sertraline,"
    )
    find(errors(root), INTERVENTIONS, 4, "members", "kind 'drug'", "only for kind 'pooled_group'")


V1_HEADER = "id,intervention,mediator,direction,evidence_type,species,sample,dose,citation,review_ref,chapter,note"


def v1_text() -> str:
    return (
        V1_HEADER
        + '\nEV0001,fluoxetine,IL-6,decrease,clinical,human,"serum, MDD patients",20 mg/day,smith2010fluoxetine,12,book/antidepressants/ssri,note\n'
        + "EV0002,imipramine,IL-6,increase,clinical,human,plasma,,doe2005tricyclic,15;16,book/antidepressants/tca,\n"
    )


def test_old_model_file_gets_one_clear_error(root):
    (root / EVIDENCE).write_text(v1_text(), encoding="utf-8")
    before = tree_digest(root)
    evidence_problems = [p for p in errors(root) if p.path == EVIDENCE]
    assert len(evidence_problems) == 1, evidence_problems
    message = evidence_problems[0].message
    assert evidence_problems[0].line == 1
    assert "v1 evidence model" in message
    assert f"python scripts/convert_evidence_v1.py {EVIDENCE} > NEW.csv" in message
    result = run_cli("--root", str(root))
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert f"{EVIDENCE}:1: header:" in result.stdout
    assert tree_digest(root) == before


def run_converter(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "convert_evidence_v1.py"), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )


def test_converter_adds_the_three_columns_empty_and_validation_names_each(root, tmp_path):
    old = tmp_path / "old.csv"
    old.write_text(v1_text(), encoding="utf-8")
    result = run_converter(str(old))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == EVIDENCE_HEADER.split(",")
    assert [r["claim_type"] + r["comparator"] + r["reported_as"] for r in rows] == ["", ""]
    assert rows[0]["sample"] == "serum, MDD patients" and rows[1]["review_ref"] == "15;16"
    assert old.read_text(encoding="utf-8") == v1_text()  # the input is untouched
    (root / EVIDENCE).write_text(result.stdout, encoding="utf-8")
    problems = errors(root)
    for line in (2, 3):
        for column in ("claim_type", "comparator", "reported_as"):
            find(problems, EVIDENCE, line, column, "required value is empty")


def test_converter_refuses_a_v2_file_and_a_missing_file(tmp_path):
    result = run_converter(str(FIXTURE / "data" / "evidence.csv"))
    assert result.returncode == 1
    assert "not a v1 evidence file" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
    missing = run_converter(str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "file not found" in missing.stderr


def test_synonym_naming_another_entry_is_an_error(root):
    edit(root, INTERVENTIONS, "inhibitor,,Prozac", "inhibitor,,Prozac; imipramine")
    find(errors(root), INTERVENTIONS, 2, "synonyms", "'imipramine'", "the name of another entry")


def test_alias_shared_by_two_entries_is_a_warning(root):
    edit(root, "data/mediators.csv", "IL6; interleukin 6", "IL6; interleukin 6; TNFα")
    problems = validate_root(root)
    assert not [p for p in problems if p.field == "aliases" and p.severity != WARNING]
    warning = next(p for p in problems if p.field == "aliases")
    assert warning.line == 2 and "'TNFα' also of 'TNF-α'" in warning.message


def test_fast_reader_gives_the_careful_readers_table(tmp_path):
    # The regular-file path (pandas' C reader) must read exactly what the record-by-record
    # path reads, quoted commas and doubled quotes included; irregular files take the latter.
    from neuroimmune_review import validate as v

    text = (REPO / "data/evidence.csv").read_text(encoding="utf-8")
    text += 'EV9999,a,"b, with comma","say ""hi""",x,x,x,x,x,x,x,x,x,x,x\n'
    header, fast = v._regular_frame(text)
    records, starts, problems = v._parse_records(text, "evidence.csv")
    assert not problems and header == records[0]
    careful = pd.DataFrame(records[1:], index=pd.Index(starts[1:], name="line"), dtype=object)
    pd.testing.assert_frame_equal(fast, careful, check_column_type=False, check_index_type=False)
    for irregular in (
        text + "\n",
        text + "EV1,short\n",
        text + 'EV2,"open\nquote",x\n',
        text.replace("\n", "\r", 1),
        text + "EV3,\x00,x,x,x,x,x,x,x,x,x,x,x,x,x\n",
    ):
        assert v._regular_frame(irregular) is None
