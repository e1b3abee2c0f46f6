"""What git can tell about the review: the files whose history is shown, the repository's
state (last data commit, tags, shallow clone, uncommitted edits) and committed file contents.

Every git call goes through :mod:`neuroimmune_review.git`, so a missing git or a folder that
is not a checkout answers None and the page says what it cannot show.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import git, paths

EVIDENCE = "data/evidence.csv"
BIBLIOGRAPHY = "references.bib"
REFERENCE_MAP = "data/reference_map.csv"
TRACKED_FILES = (EVIDENCE, BIBLIOGRAPHY, REFERENCE_MAP)
# The vocabularies give each mediator its inflammatory role and each drug its class, so an edit
# to them can change a summary-of-findings verdict: their commits are listed too.
VOCABULARIES = ("data/interventions.csv", "data/mediators.csv")
LOGGED = (*TRACKED_FILES, *VOCABULARIES)
_SEP, _END = "\x1f", "\x1e"


def _text(data: bytes | None) -> str:
    return data.decode("utf-8", errors="replace") if data is not None else ""


@dataclass
class Repository:
    """What git can tell about *root*; ``reason`` is set when it can tell nothing."""

    root: Path
    reason: str = ""
    prefix: str = ""  # path of root inside the work tree ("" at the top)
    shallow: bool = False
    shallow_commits: set[str] = field(default_factory=set)

    @property
    def available(self) -> bool:
        return not self.reason


def repository(root: Path) -> Repository:
    repo = Repository(root)
    if shutil.which("git") is None:
        repo.reason = "git is not installed on the machine that built this page"
        return repo
    inside = git.text(root, "rev-parse", "--is-inside-work-tree") or ""
    if inside != "true":
        repo.reason = "this copy of the review is not a git checkout"
        return repo
    if git.run(root, "rev-parse", "--verify", "-q", "HEAD") is None:
        repo.reason = "the repository has no commits yet"
        return repo
    repo.prefix = git.text(root, "rev-parse", "--show-prefix") or ""
    repo.shallow = (git.text(root, "rev-parse", "--is-shallow-repository") or "") == "true"
    if repo.shallow:
        shallow_file = git.text(root, "rev-parse", "--git-path", "shallow") or ""
        if shallow_file:
            path = Path(shallow_file) if os.path.isabs(shallow_file) else root / shallow_file
            try:
                repo.shallow_commits = set(path.read_text().split())
            except OSError:
                pass
    return repo


def _tags(root: Path) -> dict[str, list[str]]:
    """Commit -> tag names pointing at it (annotated tags are peeled)."""
    out = _text(
        git.run(
            root,
            "for-each-ref",
            "refs/tags",
            f"--format=%(objectname){_SEP}%(*objectname){_SEP}%(refname:short)",
        )
    )
    tags: dict[str, list[str]] = {}
    for line in out.splitlines():
        parts = line.split(_SEP)
        if len(parts) == 3:
            commit = parts[1] or parts[0]
            tags.setdefault(commit, []).append(parts[2])
    return {commit: sorted(names) for commit, names in tags.items()}


def _dirty(root: Path) -> bool:
    return bool(git.text(root, "status", "--porcelain", "--", *LOGGED))


def state(root: Path | None = None) -> dict[str, Any]:
    """Everything the page's content depends on, cheaply: last data commit, tags, clone depth."""
    root = (root or paths.find_root()).resolve()
    repo = repository(root)
    if not repo.available:
        return {"available": False, "reason": repo.reason}
    last = git.text(root, "log", "-1", "--format=%H", "--", *LOGGED) or ""
    return {
        "available": True,
        "last_data_commit": last,
        "tags": _tags(root),
        "shallow": repo.shallow,
        "dirty": _dirty(root),
    }


def _read_blobs(root: Path, names: list[str]) -> list[bytes | None]:
    """Contents of ``rev:path`` objects in one ``git cat-file --batch`` call (None if missing)."""
    if not names:
        return []
    out = git.run(root, "cat-file", "--batch", stdin="".join(f"{n}\n" for n in names).encode())
    if out is None:
        return [None] * len(names)
    results: list[bytes | None] = []
    position = 0
    for _ in names:
        end = out.index(b"\n", position)
        header = out[position:end].split()
        position = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            results.append(out[position : position + size])
            position += size + 1
        else:  # "<name> missing", or not a blob
            results.append(None)
    return results
