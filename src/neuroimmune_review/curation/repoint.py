"""Re-pointing evidence rows at the works their reference numbers now resolve to.

A row that cites the source article (``nava2025modulation``) keeps the article's reference
number(s) in ``review_ref``. Once ``data/reference_map.csv`` resolves a number, the row
should cite that primary work instead (and keep the number). The same rule settles rows
whose numbers resolve to different works, or whose cited work the map no longer places at
their number: each row ends up citing exactly the work its number(s) stand for, one row per
work (evidence model v2), unresolved numbers staying with the source article.

:func:`plan_repoint` is pure (rows in, plan out); :func:`repoint_evidence` applies a plan
to ``data/evidence.csv`` with the curation rules: one writer at a time, checked on a shadow
copy first, one atomic write, nothing written if the data set would gain an error.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from .. import paths
from ..bib import SOURCE_ARTICLE_KEY, parse_number_list
from .evidence import EVIDENCE_FILE, format_id, historical_ids, ids_in
from .safe_write import (
    CurationError,
    atomic_write,
    describe_problem,
    detect_newline,
    exclusive_lock,
    new_errors,
    shadow_root,
    validate_tree,
)


@dataclass
class Change:
    """What happens to one row: re-pointed in place, split, or merged into an equal row."""

    id: str
    before: dict[str, str]
    after: list[dict[str, str]] = field(default_factory=list)  # after[0] keeps the id
    merged_into: str = ""  # set when the re-pointed row equals a row already there
    kept_as_is: list[str] = field(default_factory=list)  # parts already present elsewhere

    def describe(self) -> str:
        def cite(row: dict[str, str]) -> str:
            return f"{row['citation']} [{row['review_ref']}]"

        head = f"{self.id}: {cite(self.before)}"
        if self.merged_into:
            return f"{head} -> same finding as {self.merged_into} once re-pointed; row removed (id not reused)"
        if len(self.after) == 1 and not self.kept_as_is:
            return f"{head} -> {cite(self.after[0])}"
        parts = [f"{cite(self.after[0])} keeps {self.id}"] if self.after else []
        parts += [f"{cite(row)} as new row {row['id']}" for row in self.after[1:]]
        parts += [f"{part} (already present)" for part in self.kept_as_is]
        return f"{head} -> split: " + "; ".join(parts)


@dataclass
class RepointPlan:
    header: list[str]
    rows: list[dict[str, str]]  # the evidence after the change, in file order
    changes: list[Change] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # rows left alone, with the reason

    def lines(self) -> list[str]:
        return [change.describe() for change in self.changes] + [
            f"skipped {reason}" for reason in self.skipped
        ]


def _numbers(cell: str) -> list[int]:
    numbers, _invalid = parse_number_list(cell)
    return list(dict.fromkeys(numbers))


def _groups(numbers: list[int], keys_by_number: dict[int, list[str]], source_key: str):
    """Key -> the row's numbers that stand for it (unresolved numbers stay with the source)."""
    groups: dict[str, list[int]] = {}
    for number in numbers:
        keys = keys_by_number.get(number) or [source_key]
        groups.setdefault(keys[0], []).append(number)
    return groups


def _signature(row: dict[str, str], source_key: str) -> tuple[str, ...]:
    """Equal for two rows the validator would call the same finding (its FINDING_COLUMNS; rows
    citing the source article are further told apart by their reference numbers)."""
    from ..validate import FINDING_COLUMNS

    values = tuple(row.get(column, "").strip() for column in FINDING_COLUMNS)
    if row.get("citation", "").strip() == source_key:
        values += (";".join(map(str, sorted(_numbers(row.get("review_ref", ""))))),)
    return values


def plan_repoint(
    header: list[str],
    rows: list[dict[str, str]],
    keys_by_number: dict[int, list[str]],
    *,
    next_number: int,
    source_key: str = SOURCE_ARTICLE_KEY,
) -> RepointPlan:
    """The evidence after re-pointing every row to the work(s) its numbers resolve to.

    *next_number* is the first free id number (new rows of a split get it and the ones after).
    """
    plan = RepointPlan(header=header, rows=[])
    targets: list[tuple[dict[str, str], list[dict[str, str]], Change | None]] = []
    for row in rows:
        citation = row.get("citation", "").strip()
        numbers = _numbers(row.get("review_ref", ""))
        if not numbers or not citation:
            targets.append((row, [row], None))
            continue
        if ";" in citation:
            plan.skipped.append(
                f"{row.get('id', '?')}: cites several keys ({citation}); one key per row is needed first"
            )
            targets.append((row, [row], None))
            continue
        groups = _groups(numbers, keys_by_number, source_key)
        if list(groups) == [citation]:
            targets.append((row, [row], None))
            continue
        # The row keeps its id for the work it already cites if that work is still behind one of
        # its numbers; a row citing the source article keeps it for its first resolved work.
        order = list(groups)
        resolved = [key for key in order if key != source_key]
        first = (
            citation
            if citation in groups and citation != source_key
            else resolved[0]
            if resolved
            else order[0]
        )
        order.remove(first)
        outputs = []
        for key in [first, *order]:
            new = dict(row, citation=key, review_ref=";".join(map(str, groups[key])))
            outputs.append(new)
        targets.append((row, outputs, Change(id=row.get("id", ""), before=row)))

    # A row that keeps its id claims its finding first (unchanged rows, then re-pointed ones, in
    # file order); a re-pointed row equal to one claimed before it is merged into that row, and a
    # split part equal to a claimed finding is not added a second time.
    seen: dict[tuple[str, ...], str] = {}
    for row, outputs, change in sorted(targets, key=lambda t: t[2] is not None):
        signature = _signature(outputs[0], source_key)
        if signature in seen and change is not None:
            change.merged_into = seen[signature]
        else:
            seen.setdefault(signature, row.get("id", ""))
    for row, outputs, change in targets:
        if change is None:
            plan.rows.append(row)
            continue
        kept, *parts = outputs
        if not change.merged_into:
            plan.rows.append(kept)
            change.after.append(kept)
        for part in parts:
            signature = _signature(part, source_key)
            if signature in seen:
                change.kept_as_is.append(
                    f"{part['citation']} [{part['review_ref']}] = {seen[signature]}"
                )
                continue
            part = dict(part, id=format_id(next_number))
            next_number += 1
            if "note" in header:
                origin = (
                    f"Split from {row.get('id', '')}, which the source article cites at "
                    f"{row.get('review_ref', '').replace(';', ', ')}."
                )
                part["note"] = f"{part.get('note', '').strip()} {origin}".strip()
            seen[signature] = part["id"]
            plan.rows.append(part)
            change.after.append(part)
        plan.changes.append(change)
    # New rows go after every existing one, so ids stay in ascending order in the file.
    original_ids = {row.get("id", "") for row in rows}
    plan.rows = [r for r in plan.rows if r.get("id", "") in original_ids] + [
        r for r in plan.rows if r.get("id", "") not in original_ids
    ]
    return plan


@dataclass
class RepointResult:
    plan: RepointPlan
    written: bool = False


def _read(original: bytes, rel: str) -> tuple[list[str], list[dict[str, str]]]:
    text = original.decode("utf-8").lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error as error:
        raise CurationError(f"{rel}: malformed CSV near line {reader.line_num}: {error}") from None
    header = reader.fieldnames or []
    missing = [name for name in ("id", "citation", "review_ref") if name not in header]
    if missing:
        raise CurationError(f"{rel}: no column {', '.join(missing)}; expected the evidence columns")
    return header, rows


def _serialise(header: list[str], rows: list[dict[str, str]], newline: bytes) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline.decode())
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return buffer.getvalue().encode("utf-8")


def repoint_evidence(root: str | Path | None = None, *, dry_run: bool = False) -> RepointResult:
    """Re-point ``data/evidence.csv`` after ``data/reference_map.csv``; see :func:`plan_repoint`.

    Raises :class:`CurationError` and writes nothing if a file cannot be read or the result
    would give the data set an error it did not have.
    """
    from ..reference_map import MAP_FILE, keys_by_number, load_map

    root = Path(root) if root is not None else paths.find_root()
    root = root.resolve()
    evidence = paths.data_dir(root) / EVIDENCE_FILE
    map_file = paths.data_dir(root) / MAP_FILE
    for needed in (evidence, map_file):
        if not needed.is_file():
            raise CurationError(f"{needed} not found; is {root} the review's root?")
    rel = evidence.relative_to(root).as_posix()
    history = historical_ids(root, evidence)
    with exclusive_lock(root):
        original = evidence.read_bytes()
        try:
            header, rows = _read(original, rel)
            numbers = keys_by_number(load_map(root))
        except (UnicodeDecodeError, ValueError, KeyError) as error:
            raise CurationError(f"cannot read the evidence or the reference map: {error}") from None
        current = ids_in(original)
        next_number = max(current | history | {0}) + 1
        plan = plan_repoint(header, rows, numbers, next_number=next_number)
        result = RepointResult(plan)
        if not plan.changes:
            return result
        candidate = _serialise(header, plan.rows, detect_newline(original))
        before = validate_tree(root)
        with shadow_root(root, {rel: candidate}) as shadow:
            after = validate_tree(shadow)
        blocking = new_errors(before, after)
        if blocking:
            raise CurationError(
                f"re-pointing would make the data set invalid; nothing was written to {rel}",
                [describe_problem(p) for p in blocking],
            )
        if not dry_run:
            atomic_write(evidence, candidate)
            result.written = True
        return result
