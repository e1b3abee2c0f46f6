"""Appending findings to ``data/evidence.csv``: rows checked on a shadow copy, then one atomic write."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import git, paths
from .safe_write import (
    CurationError,
    appendable,
    atomic_write,
    describe_problem,
    detect_newline,
    exclusive_lock,
    new_errors,
    new_warnings,
    shadow_root,
    validate_tree,
)

EVIDENCE_FILE = "evidence.csv"
ID_PREFIX = "EV"
ID_PATTERN = re.compile(r"EV(\d+)")


# ---------------------------------------------------------------------------
# Evidence


@dataclass
class EvidenceResult:
    ids: list[str]
    warnings: list[str] = field(default_factory=list)
    existing_errors: int = 0  # errors the data set had before, not caused by these rows
    written: bool = False


def read_rows(text: str, source: str = "input") -> list[dict[str, str]]:
    """Rows of a CSV text with a header (the ``id`` column may be absent)."""
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        records = [(reader.line_num, record) for record in reader]
    except csv.Error as error:
        raise CurationError(
            f"{source}: malformed CSV near line {reader.line_num}: {error}"
        ) from None
    records = [(line, record) for line, record in records if any(cell.strip() for cell in record)]
    if not records:
        raise CurationError(f"{source}: no header row; expected a CSV with the evidence columns")
    header = [name.strip() for name in records[0][1]]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise CurationError(
            f"{source}: column(s) {', '.join(repeated)} appear more than once in the header"
        )
    rows = []
    for line, record in records[1:]:
        if len(record) != len(header):
            raise CurationError(
                f"{source}: the record ending on line {line} has {len(record)} fields; "
                f"expected {len(header)} as in the header"
            )
        rows.append(dict(zip(header, record, strict=False)))
    if not rows:
        raise CurationError(f"{source}: no rows below the header; nothing to add")
    return rows


def _header_of(original: bytes) -> list[str]:
    text = original.decode("utf-8", errors="replace").lstrip("\ufeff")
    first = next(csv.reader(io.StringIO(text, newline="")), None)
    if not first:
        raise CurationError("data/evidence.csv has no header row; fix the file before adding rows")
    return first


def ids_in(data: bytes) -> set[int]:
    numbers = set()
    for line in data.decode("utf-8", errors="replace").splitlines():
        match = ID_PATTERN.match(line.lstrip('+-"'))
        if match:
            numbers.add(int(match.group(1)))
    return numbers


def historical_ids(root: Path, evidence: Path) -> set[int]:
    """Ids that ever appeared in committed versions of the file (so a withdrawn id is never reused)."""
    try:
        relative = evidence.relative_to(root).as_posix()
    except ValueError:
        return set()
    log = git.run(root, "log", "--all", "--format=", "-p", "--", relative, timeout=60)
    if log is None:
        return set()
    numbers = set()
    for line in log.decode("utf-8", errors="replace").splitlines():
        if line[:1] in "+- " and not line.startswith(("+++", "---")):
            match = ID_PATTERN.match(line[1:].lstrip('"'))
            if match:
                numbers.add(int(match.group(1)))
    return numbers


def _refuse_v1_file(evidence: Path, root: Path) -> None:
    """Rows are never appended to a file of the v1 evidence model: it must be converted first."""
    from ..schema import SchemaError, load_root_package
    from ..validate import v1_evidence_problem

    try:
        spec = load_root_package(root).table("evidence")
    except SchemaError:
        return  # the validation below reports an unusable data package
    old = v1_evidence_problem(evidence, root, spec)
    if old is not None:
        raise CurationError(f"{old.path}:{old.line}: {old.message}; nothing was written")


def format_id(number: int) -> str:
    return f"{ID_PREFIX}{number:04d}"


def _serialise(rows: list[dict[str, str]], header: list[str], newline: bytes) -> list[bytes]:
    out = []
    for row in rows:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=newline.decode()).writerow(
            [row.get(name, "") for name in header]
        )
        out.append(buffer.getvalue().encode("utf-8"))
    return out


def add_evidence(
    rows: list[dict[str, str]],
    root: str | Path | None = None,
    *,
    dry_run: bool = False,
) -> EvidenceResult:
    """Append *rows* to ``data/evidence.csv`` and return the ids they got.

    Rows are dicts keyed by column name; missing columns are empty, a missing or
    empty ``id`` is assigned (the next number after every id the file has or ever had).
    Raises :class:`CurationError` (and writes nothing) if a column is unknown or
    the data set with the new rows has errors it did not have before.
    """
    root = Path(root) if root is not None else paths.find_root()
    root = root.resolve()
    if not rows:
        raise CurationError("no rows to add")
    evidence = paths.data_dir(root) / EVIDENCE_FILE
    if not evidence.is_file():
        raise CurationError(f"{evidence} not found; is {root} the review's root?")
    rel = evidence.relative_to(root).as_posix()
    _refuse_v1_file(evidence, root)
    history = historical_ids(root, evidence)  # committed history: stable while we wait for the lock

    with exclusive_lock(root):
        original = evidence.read_bytes()
        newline = detect_newline(original)
        header = _header_of(original)
        unknown = sorted({name for row in rows for name in row if name not in header})
        if unknown:
            raise CurationError(
                f"unknown column(s) {', '.join(unknown)}; the evidence columns are: {', '.join(header)}"
            )
        clean = [{name: (row.get(name) or "").strip() for name in header} for row in rows]

        current = ids_in(original)
        given = {m.group(1) for row in clean if (m := ID_PATTERN.fullmatch(row.get("id", "")))}
        reused = sorted(
            format_id(int(n)) for n in given if int(n) in history and int(n) not in current
        )
        if reused:
            raise CurationError(
                f"id(s) {', '.join(reused)} belonged to findings that were withdrawn; ids are never reused. "
                "Leave the id column empty to get new ids."
            )
        next_number = max(current | history | {int(n) for n in given} | {0}) + 1
        assigned = []
        for row in clean:
            if "id" in header and not row["id"]:
                row["id"] = format_id(next_number)
                next_number += 1
            assigned.append(row.get("id", ""))

        base = appendable(original, newline)
        encoded = _serialise(clean, header, newline)
        first_line = base.count(b"\n") + 1
        starts: list[int] = []
        line = first_line
        for chunk in encoded:
            starts.append(line)
            line += chunk.count(b"\n")
        new_lines = {rel: range(first_line, line)}
        candidate = base + b"".join(encoded)

        before = validate_tree(root)
        with shadow_root(root, {rel: candidate}) as shadow:
            after = validate_tree(shadow)
        blocking = new_errors(before, after, new_lines)
        if blocking:

            def note(problem) -> str:
                if problem.path == rel and problem.line >= first_line:
                    index = max(i for i, start in enumerate(starts) if start <= problem.line)
                    return f"  [new row {index + 1}, id {assigned[index] or '?'}]"
                return ""

            raise CurationError(
                f"the new row(s) would make the data set invalid; nothing was written to {rel}",
                [describe_problem(p, note(p)) for p in blocking],
            )
        result = EvidenceResult(
            ids=assigned,
            warnings=[describe_problem(p) for p in new_warnings(before, after)],
            existing_errors=sum(p.severity == "error" for p in before),
        )
        if not dry_run:
            atomic_write(evidence, candidate)
            result.written = True
        return result
