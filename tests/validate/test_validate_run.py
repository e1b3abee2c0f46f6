"""The validator's entry point (validate/run.py) and its CLI (scripts/validate.py): the real data,
the fixture, exit codes, writing nothing, and robustness on arbitrary bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fixture_review import (
    BIB,
    EVIDENCE,
    EVIDENCE_HEADER,
    REPO,
    edit,
    errors,
    find,
    make_root,
    run_cli,
    tree_digest,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuroimmune_review.validate import (
    WARNING,
    Problem,
    format_problem,
    validate,
    validate_root,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_root(tmp_path)


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


def test_missing_or_broken_data_package(root):
    (root / "data" / "datapackage.json").write_text("{not json", encoding="utf-8")
    find(errors(root), "data/datapackage.json", 0, "schema", "not a readable JSON file")


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
