"""Rules of the evidence table (validate/evidence.py): citations, reference numbers, duplicate
findings, evidence model v2 and the v1 converter."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from fixture_review import (
    EVIDENCE,
    EVIDENCE_HEADER,
    FIXTURE,
    REPO,
    edit,
    errors,
    find,
    make_root,
    run_cli,
    tree_digest,
)

from neuroimmune_review.validate import (
    WARNING,
    validate_root,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_root(tmp_path)


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


def test_source_only_row_whose_number_is_resolved_is_warned(root):
    edit(root, EVIDENCE, "nava2025modulation,9,", "nava2025modulation,12,")
    problem = find(
        validate_root(root), EVIDENCE, 8, "citation", "nava2025modulation", "smith2010fluoxetine"
    )
    assert problem.severity == WARNING


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


def test_distinct_finding_keys_are_counted_across_many_columns():
    """_distinct_rows combines the key columns into one integer per row, renumbering before it
    could overflow: it must count what DataFrame.drop_duplicates keeps."""
    import numpy as np
    import pandas as pd

    from neuroimmune_review.validate.evidence import _distinct_rows

    rng = np.random.default_rng(3)
    rows = rng.integers(-1, 3000, size=(4000, 9))  # 3001**9 > 2**62
    rows[2000:2500] = rows[:500]  # 500 repeated rows
    keys = pd.DataFrame(rows, columns=[f"c{i}" for i in range(9)])
    assert _distinct_rows(keys) == len(keys.drop_duplicates()) == 3500
    assert _distinct_rows(keys.iloc[:0]) == 0


def test_old_model_header_is_found_whatever_follows_it(root):
    # Only the header line is read for this check; bytes after it do not change the verdict.
    text = v1_text().replace("\n", "\r\n")
    (root / EVIDENCE).write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8") + b"EV0003,\xff\xfe\n")
    evidence_problems = [p for p in errors(root) if p.path == EVIDENCE]
    assert [(p.line, p.field) for p in evidence_problems] == [(1, "header")]
    assert "v1 evidence model" in evidence_problems[0].message
