"""Adding findings to ``data/evidence.csv`` and works to ``references.bib`` safely.

Both operations follow the same rules:

- one writer at a time: an exclusive ``fcntl.flock`` on ``data/.evidence.lock``;
- existing bytes are never rewritten: new text is appended to a copy of the
  original bytes (same line endings), and the copy replaces the file atomically
  (temporary file in the same folder, ``fsync``, ``os.replace``);
- nothing is kept that makes the data set invalid: evidence rows are checked
  with :func:`validate.validate_root` on a temporary copy *before* anything is
  written; bibliography entries are appended, checked, and the original bytes
  put back if the check finds a new error.

Only errors the new rows or entries introduce block a write; problems the data
set already had are reported separately, so a curator is never blocked by
someone else's half-finished change.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .. import paths
from ..files import atomic_write  # noqa: F401 - curation's writes go through the one implementation

LOCK_NAME = ".evidence.lock"


class CurationError(Exception):
    """Nothing was written. ``details`` holds one line per problem (validator messages)."""

    def __init__(self, message: str, details: Iterable[str] = ()):
        super().__init__(message)
        self.message = message
        self.details = list(details)

    def __str__(self) -> str:
        return "\n".join([self.message, *("  " + line for line in self.details)])


# ---------------------------------------------------------------------------
# Files: lock, atomic replace, line endings


@contextlib.contextmanager
def exclusive_lock(root: Path, name: str = LOCK_NAME) -> Iterator[None]:
    """Hold the lock file *name* in *root*'s data folder (blocks until other writers are done).

    The curation lock by default; screening holds its own (``screening.core.LOCK_NAME``)."""
    lock_path = paths.data_dir(root) / name
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def detect_newline(data: bytes) -> bytes:
    """The file's line ending: CRLF if its first line ends in CRLF, else LF."""
    end = data.find(b"\n")
    if end > 0 and data[end - 1 : end] == b"\r":
        return b"\r\n"
    return b"\n"


def appendable(original: bytes, newline: bytes) -> bytes:
    """The original bytes, plus a line ending if the last line has none."""
    if original and not original.endswith(b"\n"):
        return original + newline
    return original


# ---------------------------------------------------------------------------
# Validation around a change


def _signature(problem) -> tuple[str, str, str]:
    return (problem.path, problem.field, problem.message)


def new_errors(before: list, after: list, new_lines: dict[str, range] | None = None) -> list:
    """Errors of *after* that *before* did not have, or that sit on newly added lines."""
    known = {_signature(p) for p in before if p.severity == "error"}
    new_lines = new_lines or {}
    blocking = []
    for problem in after:
        if problem.severity != "error":
            continue
        on_new_line = problem.line in new_lines.get(problem.path, range(0))
        if on_new_line or _signature(problem) not in known:
            blocking.append(problem)
    return blocking


def new_warnings(before: list, after: list) -> list:
    known = {_signature(p) for p in before if p.severity != "error"}
    return [p for p in after if p.severity != "error" and _signature(p) not in known]


@contextlib.contextmanager
def shadow_root(root: Path, replacements: dict[str, bytes]) -> Iterator[Path]:
    """A temporary review root that links to *root* except for the files in *replacements*.

    Paths in *replacements* are relative to *root* (``data/evidence.csv``); every other
    file and folder of ``root`` and ``root/data`` is a symlink to the original.
    """
    with tempfile.TemporaryDirectory(prefix="review-check-") as tmp:
        shadow = Path(tmp)
        replaced_dirs = {Path(rel).parts[0] for rel in replacements if len(Path(rel).parts) > 1}
        for entry in root.iterdir():
            if entry.name in replaced_dirs or entry.name in replacements:
                continue
            (shadow / entry.name).symlink_to(entry)
        for folder in replaced_dirs:
            (shadow / folder).mkdir()
            for entry in (root / folder).iterdir():
                rel = f"{folder}/{entry.name}"
                if rel not in replacements:
                    (shadow / folder / entry.name).symlink_to(entry)
        for rel, data in replacements.items():
            (shadow / rel).write_bytes(data)
        yield shadow


def validate_tree(root: Path) -> list:
    from ..validate import validate_root

    return validate_root(root)


def describe_problem(problem, note: str = "") -> str:
    from ..validate import format_problem

    return format_problem(problem) + note
