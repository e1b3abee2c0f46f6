"""A small valid review to break one thing in, for the validator's tests (tests/validate/).

Each rule is tested by breaking one thing in a copy of a small valid review
(tests/fixtures/valid plus the repository's data/datapackage.json) and checking
that the report names the file, the physical line, the field and the value.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from neuroimmune_review.validate import WARNING, Problem, format_problem, validate_root

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
