"""The build's verdict after rows are appended to a valid evidence file: the new rows are
validated alone, and any error is reported by the full validation, word for word."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fixture_review import EVIDENCE, edit, make_root, tree_digest

from neuroimmune_review import provenance
from neuroimmune_review.build import early_checks, sphinx_ext
from neuroimmune_review.validate import ERROR, format_problem, incremental, validate_root


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = make_root(tmp_path)
    # One record per line (the plain path), as every real evidence file is.
    edit(root, EVIDENCE, "weeks;\nthe note spans", "weeks; the note spans")
    return root


@pytest.fixture
def runs(monkeypatch) -> list[str]:
    """'rows' for each validation of appended rows alone, 'all' for each full validation."""
    calls: list[str] = []
    real = incremental.validate

    def spy(root, tables=None):
        calls.append("rows" if tables else "all")
        return real(root, tables=tables)

    monkeypatch.setattr(incremental, "validate", spy)
    return calls


def _build_errors(root: Path) -> list[str]:
    files, keys = early_checks.validation_inputs(root)
    provenance._hash_file.cache_clear()
    return incremental.build_errors(root, files, keys)


def _full_errors(root: Path) -> list[str]:
    return [format_problem(p) for p in validate_root(root) if p.severity == ERROR]


def _last_row(root: Path) -> str:
    return (root / EVIDENCE).read_text(encoding="utf-8").splitlines()[-1]


def _append(root: Path, row: str) -> None:
    with (root / EVIDENCE).open("a", encoding="utf-8") as handle:
        handle.write(row + "\n")


def _new_finding(row: str, number: int = 90, **changes: str) -> str:
    """*row* as a new finding: a new id and sample, then *changes* by column."""
    header = (
        "id,claim_type,intervention,comparator,mediator,direction,reported_as,"
        "evidence_type,species,sample,dose,citation,review_ref,chapter,note"
    ).split(",")
    values = dict(zip(header, next(csv.reader([row])), strict=True))
    values.update({"id": f"EV{number:04d}", "sample": f"probe sample {number}"}, **changes)
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([values[c] for c in header])
    return out.getvalue()


def test_appended_valid_rows_are_validated_alone(root, runs):
    assert _build_errors(root) == [] and runs == ["all"]
    last = _last_row(root)
    _append(root, _new_finding(last, 90))
    assert _build_errors(root) == [] and runs == ["all", "rows"]
    _append(root, _new_finding(last, 91, note="quoted, with a comma"))  # and again, from there
    assert _build_errors(root) == [] and runs == ["all", "rows", "rows"]
    assert _full_errors(root) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"direction": "increse"}, "'increse' is not allowed"),
        ({"intervention": "fluoxetin"}, "is not a name in data/interventions.csv"),
        ({"id": "EV0001"}, "repeats line 2"),
        ({"sample": None}, "duplicates the finding on line"),
        ({"citation": "nosuchkey2020"}, "not in references.bib"),
    ],
)
def test_an_invalid_appended_row_fails_with_the_full_message(root, runs, changes, expected):
    assert _build_errors(root) == []
    last = _last_row(root)
    if changes.get("sample", "") is None:
        changes = {"sample": next(csv.reader([last]))[9]}  # the same finding as the last row
    _append(root, _new_finding(last, 92, **changes))
    before = tree_digest(root / "data")
    found = _build_errors(root)
    assert tree_digest(root / "data") == before  # nothing written but the build's memo
    assert found == _full_errors(root)
    assert any(expected in error for error in found), found
    assert runs[-1] == "all"  # reported by the full validation


def test_an_edited_row_in_the_middle_is_validated_in_full(root, runs):
    assert _build_errors(root) == []
    lines = (root / EVIDENCE).read_text(encoding="utf-8").splitlines(keepends=True)
    middle = len(lines) // 2
    edited = lines[middle].replace(",decrease,", ",decreese,", 1)
    assert edited != lines[middle]
    (root / EVIDENCE).write_text("".join([*lines[:middle], edited, *lines[middle + 1 :]]))
    _append(root, _new_finding(_last_row(root), 93))
    found = _build_errors(root)
    assert runs == ["all", "all"]
    assert found == _full_errors(root) and any("'decreese'" in e for e in found), found


def test_a_change_to_any_other_input_validates_in_full(root, runs):
    assert _build_errors(root) == []
    edit(root, "data/mediators.csv", "\nIL-6,", "\nIL-6x,")  # the appended row's mediator is gone
    _append(root, _new_finding(_last_row(root), 94, mediator="IL-6"))
    found = _build_errors(root)
    assert runs == ["all", "all"] and found == _full_errors(root) and found


def test_a_file_not_read_plain_is_validated_in_full(tmp_path, runs):
    root = make_root(tmp_path)  # its first record spans two lines
    assert _build_errors(root) == []
    _append(root, _new_finding(_last_row(root), 95))
    assert _build_errors(root) == [] and runs == ["all", "all"]


def test_the_build_stops_with_todays_message(root):
    # The build's own entry point: the verdict is kept, then an invalid appended row.
    sphinx_ext._validate_first(root)
    _append(root, _new_finding(_last_row(root), 96, direction="sideways"))
    with pytest.raises(sphinx_ext.ExtensionError) as raised:
        sphinx_ext._validate_first(root)
    full = _full_errors(root)
    assert str(raised.value) == (
        f"data validation failed with {len(full)} error(s); fix them before building:\n"
        + "\n".join(full[:30])
    )


def test_many_appended_rows_are_looked_up_among_the_kept_keys_too(root, runs):
    assert _build_errors(root) == []
    last = _last_row(root)
    rows = [_new_finding(last, number) for number in range(100, 140)]
    for row in rows:
        _append(root, row)
    assert _build_errors(root) == [] and runs == ["all", "rows"]
    _append(root, _new_finding(last, 200, id="EV0100"))  # repeats the first of them
    many = [_new_finding(last, number) for number in range(201, 240)]
    for row in many:
        _append(root, row)
    found = _build_errors(root)
    assert runs[-1] == "all" and found == _full_errors(root)
    assert any("'EV0100' repeats line" in error for error in found), found
