"""Re-pointing evidence rows at the works their reference numbers resolve to (curation/repoint.py)."""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from fixture_review import make_root

from neuroimmune_review.curation import CurationError
from neuroimmune_review.curation.repoint import plan_repoint, repoint_evidence
from neuroimmune_review.validate import validate_root

REPO = Path(__file__).resolve().parents[2]

SOURCE = "nava2025modulation"
HEADER = ["id", "intervention", "mediator", "direction", "sample", "citation", "review_ref", "note"]


def row(id_, citation, review_ref, mediator="IL-6", note=""):
    return {
        "id": id_,
        "intervention": "fluoxetine",
        "mediator": mediator,
        "direction": "decrease",
        "sample": "serum",
        "citation": citation,
        "review_ref": review_ref,
        "note": note,
    }


def test_source_row_whose_number_resolves_cites_the_work_and_keeps_the_number():
    plan = plan_repoint(HEADER, [row("EV0001", SOURCE, "12")], {12: ["smith2010a"]}, next_number=2)
    assert [(r["id"], r["citation"], r["review_ref"]) for r in plan.rows] == [
        ("EV0001", "smith2010a", "12")
    ]
    assert plan.lines() == [f"EV0001: {SOURCE} [12] -> smith2010a [12]"]


def test_unresolved_and_unnumbered_rows_are_left_alone():
    rows = [
        row("EV0001", SOURCE, "13"),
        row("EV0002", SOURCE, ""),
        row("EV0003", "smith2010a", "12"),
    ]
    plan = plan_repoint(HEADER, rows, {12: ["smith2010a"]}, next_number=4)
    assert plan.rows == rows and plan.changes == []


def test_numbers_resolving_to_different_works_split_the_row():
    rows = [row("EV0001", SOURCE, "7;8;9", note="Reported together."), row("EV0002", SOURCE, "20")]
    plan = plan_repoint(HEADER, rows, {7: ["doe2005a"], 9: ["lee2001b"]}, next_number=5)
    assert [(r["id"], r["citation"], r["review_ref"]) for r in plan.rows] == [
        ("EV0001", "doe2005a", "7"),
        ("EV0002", SOURCE, "20"),
        ("EV0005", SOURCE, "8"),  # the unresolved number stays with the source article
        ("EV0006", "lee2001b", "9"),
    ]
    assert (
        plan.rows[2]["note"]
        == "Reported together. Split from EV0001, which the source article cites at 7, 8, 9."
    )
    assert plan.rows[0]["note"] == "Reported together."
    assert plan.lines() == [
        f"EV0001: {SOURCE} [7;8;9] -> split: doe2005a [7] keeps EV0001; {SOURCE} [8] as new row EV0005; "
        "lee2001b [9] as new row EV0006"
    ]


def test_one_work_behind_two_numbers_stays_one_row():
    plan = plan_repoint(
        HEADER,
        [row("EV0001", SOURCE, "15;16")],
        {15: ["doe2005a"], 16: ["doe2005a"]},
        next_number=2,
    )
    assert [(r["id"], r["citation"], r["review_ref"]) for r in plan.rows] == [
        ("EV0001", "doe2005a", "15;16")
    ]


def test_work_the_map_no_longer_places_at_the_number_goes_back_to_the_source():
    rows = [row("EV0001", "huang2024a", "139;140"), row("EV0002", "huang2024a", "140", "IL-10")]
    plan = plan_repoint(HEADER, rows, {139: ["huang2024a"]}, next_number=3)
    assert [(r["id"], r["citation"], r["review_ref"]) for r in plan.rows] == [
        ("EV0001", "huang2024a", "139"),
        ("EV0002", SOURCE, "140"),
        ("EV0003", SOURCE, "140"),
    ]


def test_split_part_already_present_is_not_added_twice():
    # Two rows already code the finding once per work, each with both numbers.
    rows = [row("EV0001", "lesperance2024a", "207;208"), row("EV0002", "kavakbasi2024a", "207;208")]
    plan = plan_repoint(
        HEADER, rows, {207: ["lesperance2024a"], 208: ["kavakbasi2024a"]}, next_number=3
    )
    assert [(r["id"], r["citation"], r["review_ref"]) for r in plan.rows] == [
        ("EV0001", "lesperance2024a", "207"),
        ("EV0002", "kavakbasi2024a", "208"),
    ]


def test_rows_equal_once_repointed_are_merged_and_the_id_not_reused():
    rows = [row("EV0001", "smith2010a", "12"), row("EV0002", SOURCE, "12")]
    plan = plan_repoint(HEADER, rows, {12: ["smith2010a"]}, next_number=3)
    assert [r["id"] for r in plan.rows] == ["EV0001"]
    assert plan.changes[0].merged_into == "EV0001"


def test_row_with_several_keys_is_skipped_with_a_reason():
    rows = [row("EV0001", f"smith2010a;{SOURCE}", "12;13")]
    plan = plan_repoint(HEADER, rows, {12: ["smith2010a"]}, next_number=2)
    assert plan.rows == rows
    assert plan.skipped == [
        f"EV0001: cites several keys (smith2010a;{SOURCE}); one key per row is needed first"
    ]


# ---------------------------------------------------------------------------
# On a review root


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_root(tmp_path)


def set_map(root: Path, number: int, key: str) -> None:
    path = root / "data" / "reference_map.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for entry in rows:
        if entry["ref"] == str(number):
            entry["key"], entry["confidence"] = key, "probable"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def evidence_rows(root: Path) -> list[dict[str, str]]:
    with (root / "data" / "evidence.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_repoint_writes_a_valid_data_set(root):
    set_map(root, 7, "doe2005tricyclic")
    set_map(root, 9, "lee2001imipramine")
    result = repoint_evidence(root)
    assert result.written
    before_ids = {change.id for change in result.plan.changes}
    rows = {r["id"]: r for r in evidence_rows(root)}
    assert (rows["EV0005"]["citation"], rows["EV0005"]["review_ref"]) == ("doe2005tricyclic", "7")
    assert (rows["EV0006"]["citation"], rows["EV0006"]["review_ref"]) == ("lee2001imipramine", "9")
    (split,) = result.plan.changes[[c.id for c in result.plan.changes].index("EV0005")].after[1:]
    new_id = split["id"]
    assert new_id not in before_ids and int(new_id[2:]) > max(
        int(i[2:]) for i in rows if i != new_id
    )
    assert (rows[new_id]["citation"], rows[new_id]["review_ref"]) == (SOURCE, "8")
    assert rows[new_id]["mediator"] == rows["EV0005"]["mediator"] == "IL-1β"
    assert list(rows)[-1] == new_id  # new rows go after the existing ones
    assert [p for p in validate_root(root) if p.severity == "error"] == []
    # A second run has nothing left to do.
    assert repoint_evidence(root).plan.changes == []


def test_dry_run_writes_nothing(root):
    set_map(root, 9, "lee2001imipramine")
    before = digest(root / "data" / "evidence.csv")
    result = repoint_evidence(root, dry_run=True)
    assert not result.written and len(result.plan.changes) == 1
    assert digest(root / "data" / "evidence.csv") == before


def test_invalid_result_leaves_the_file_byte_identical(root):
    # The map names a key the bibliography lacks: the re-pointed row would cite a missing entry.
    set_map(root, 9, "missing2020key")
    before = (root / "data" / "evidence.csv").read_bytes()
    with pytest.raises(CurationError) as caught:
        repoint_evidence(root)
    assert "nothing was written" in str(caught.value)
    assert "missing2020key" in str(caught.value)
    assert (root / "data" / "evidence.csv").read_bytes() == before


def test_cli_dry_run_prints_the_changes(root):
    set_map(root, 9, "lee2001imipramine")
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "repoint_evidence.py"),
            "--root",
            str(root),
            "--dry-run",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"EV0006: {SOURCE} [9] -> lee2001imipramine [9]" in result.stdout
    assert "would change 1 row(s)" in result.stderr


def test_cli_error_exit_1(root):
    (root / "data" / "reference_map.csv").unlink()
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "repoint_evidence.py"), "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "reference_map.csv not found" in result.stderr
    assert "Traceback" not in result.stderr
