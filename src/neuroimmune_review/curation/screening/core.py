"""The search log, the screening queue and the screening decisions.

Three tables of the data package (``data/datapackage.json`` holds their schemas):

- ``searches.csv``: one row per literature search (date, database, exact query, limits, count);
- ``screening_queue.csv``: every record an imported export held, with ``duplicate_of`` set when it
  was already in ``references.bib``, in an earlier search or earlier in the same export;
- ``screening.csv``: append-only decisions (include, or exclude with a reason from a fixed list).
  A later row for the same record revises an earlier one; rows are never edited or removed.

Writes follow the rules of :mod:`neuroimmune_review.curation`: the whole data set is validated
with the new rows before anything is written, files are replaced atomically, new bytes are only
appended. Screening writers hold ``data/.screening.lock``; an include then calls the reference
import (which takes the curation lock), so the lock order is always screening, then curation.

Long by design: import, duplicate detection and decisions share one lock, one whole-set validation and one atomic write path, kept together so the byte-identical guarantee has one implementation.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ... import curation, paths
from ...schema import load_root_package
from ...text import split_list
from .. import importers, safe_write

SEARCHES = "searches"
QUEUE = "screening_queue"
DECISIONS = "screening"
LOCK_NAME = ".screening.lock"
IMPORT_FORMATS = ("ris", "medline")
SEARCH_ID = re.compile(r"S(\d+)")
RECORD_ID = re.compile(r"R(\d+)")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

CurationError = curation.CurationError


# ---------------------------------------------------------------------------
# Files


def table_path(root: Path, resource: str) -> Path:
    return load_root_package(root).table_path(resource)


def read_table(root: Path, resource: str) -> list[dict[str, str]]:
    """Rows of one screening table (empty when the file is missing or has only its header)."""
    path = table_path(root, resource)
    if not path.is_file():
        return []
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    return [dict(row) for row in csv.DictReader(io.StringIO(text, newline=""))]


def columns(root: Path, resource: str) -> list[str]:
    return load_root_package(root).table(resource).columns


def reasons(root: Path) -> tuple[str, ...]:
    """The fixed list of exclusion reasons (the enum of screening.csv's ``reason``)."""
    return load_root_package(root).table(DECISIONS).field("reason").enum or ()


@contextlib.contextmanager
def screening_lock(root: Path) -> Iterator[None]:
    """One screening writer at a time (blocks until the others are done)."""
    with safe_write.exclusive_lock(root, LOCK_NAME):
        yield


def _serialise(rows: list[dict[str, str]], header: list[str], newline: bytes) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline.decode())
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return buffer.getvalue().encode("utf-8")


def _candidate(
    path: Path, rows: list[dict[str, str]], header: list[str]
) -> tuple[bytes, bytes, range]:
    """(original bytes, original + appended rows, lines the new rows occupy)."""
    original = path.read_bytes() if path.is_file() else b""
    newline = curation.detect_newline(original)
    base = safe_write.appendable(original, newline)
    if not base.strip():
        base = _serialise([dict(zip(header, header, strict=True))], header, newline)
    added = _serialise(rows, header, newline)
    first = base.count(b"\n") + 1
    return original, base + added, range(first, first + added.count(b"\n"))


def _write_checked(
    root: Path, changes: dict[Path, tuple[bytes, bytes, range]], what: str, dry_run: bool
) -> list[str]:
    """Validate the data set with *changes* applied; write them only if they add no error."""
    rels = {path: path.relative_to(root).as_posix() for path in changes}
    before = safe_write.validate_tree(root)
    with safe_write.shadow_root(
        root, {rels[p]: new for p, (_, new, _) in changes.items()}
    ) as shadow:
        after = safe_write.validate_tree(shadow)
    blocking = safe_write.new_errors(
        before, after, {rels[p]: lines for p, (_, _, lines) in changes.items()}
    )
    if blocking:
        raise CurationError(
            f"{what} would make the data set invalid; nothing was written",
            [safe_write.describe_problem(p) for p in blocking],
        )
    if dry_run:
        return []
    written: list[Path] = []
    try:
        for path, (_, new, _) in changes.items():
            curation.atomic_write(path, new)
            written.append(path)
    except BaseException:
        for path in written:  # put back what was already replaced
            curation.atomic_write(path, changes[path][0])
        raise
    return [safe_write.describe_problem(p) for p in safe_write.new_warnings(before, after)]


def _next_id(
    rows: list[dict[str, str]], column: str, pattern: re.Pattern, prefix: str, width: int
) -> Iterator[str]:
    numbers = [int(m.group(1)) for row in rows if (m := pattern.fullmatch(row.get(column, "")))]
    number = max(numbers, default=0)
    while True:
        number += 1
        yield f"{prefix}{number:0{width}d}"


# ---------------------------------------------------------------------------
# Reading an export


@dataclass
class ExportRecord:
    """One record of a PubMed/RIS export, with what screening needs beyond the house fields."""

    record: curation.Record
    abstract: str
    origin: str

    @property
    def fields(self) -> dict[str, str]:
        return self.record.fields


def read_export(
    path: str | Path, fmt: str | None = None, text: str | None = None
) -> list[ExportRecord]:
    """Records of a MEDLINE (.nbib) or RIS export; refuses truncated or unidentifiable records.

    The house fields come from the reference importer (one parser for every import path); the
    abstract and the completeness checks come from the same tag reader it uses.
    """
    name = Path(str(path)).name
    if text is None:
        try:
            text = Path(path).read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise CurationError(
                f"{name}: not UTF-8 text ({error}); expected a PubMed MEDLINE or RIS export"
            ) from None
    fmt = fmt or curation.detect_format(text, name)
    if fmt not in IMPORT_FORMATS:
        raise CurationError(
            f"{name}: this is a {fmt} file; expected a search export in PubMed MEDLINE (.nbib) "
            "or RIS (.ris) format, with one record per work found"
        )
    clean = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    raw = list(importers._ris_records(clean) if fmt == "ris" else importers._medline_records(clean))
    if not raw:
        raise CurationError(
            f"{name}: no {fmt.upper()} records found; expected a PubMed MEDLINE (.nbib) or RIS export "
            "(is the file empty, or saved in another format?)"
        )
    records = curation.parse_references(text, fmt, name)
    problems = []
    if fmt == "ris" and raw and ("TY_END", "") not in raw[-1][1]:
        problems.append(
            f"{name}, record {len(raw)} (line {raw[-1][0]}): no 'ER  -' line closes it; "
            "the export looks truncated; export the search again"
        )
    out = []
    # A truncated export parses fewer records than raw blocks; the problem above reports it.
    for number, ((line, tags), record) in enumerate(zip(raw, records, strict=False), start=1):
        values = importers._tag_values(tags)
        origin = f"{name}, record {number} (line {line})"
        abstract = " ".join(values.get("AB", []) + values.get("N2", []))
        if not record.fields.get("title"):
            problems.append(f"{origin}: no title (TI); expected every record to have one")
        if not (record.fields.get("pmid") or record.fields.get("doi")):
            problems.append(
                f"{origin} ({record.describe()}): no PMID or DOI; expected at least one identifier"
            )
        if fmt == "medline" and not values.get("PMID"):
            problems.append(
                f"{origin}: does not start with a PMID line; the export looks truncated or edited"
            )
        out.append(ExportRecord(record, " ".join(abstract.split()), origin))
    if problems:
        raise CurationError(
            f"{name}: the export has records that cannot be screened; nothing was imported",
            problems,
        )
    return out


# ---------------------------------------------------------------------------
# Duplicates


def fold_title(title: str) -> str:
    """Title compared without case, accents, punctuation or spacing."""
    return curation.ascii_letters(title)


class DuplicateIndex:
    """DOIs, PMIDs and normalised titles already known, and where each was seen."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], str] = {}

    def add(self, where: str, doi: str = "", pmid: str = "", title: str = "") -> None:
        for kind, value in (
            ("doi", curation.normalise_doi(doi) if doi else ""),
            ("pmid", pmid.strip()),
            ("title", fold_title(title) if len(fold_title(title)) >= 20 else ""),
        ):
            if value:
                self.seen.setdefault((kind, value), where)

    def find(self, doi: str = "", pmid: str = "", title: str = "") -> tuple[str, str] | None:
        for kind, value, label in (
            ("doi", curation.normalise_doi(doi) if doi else "", f"DOI {doi}"),
            ("pmid", pmid.strip(), f"PMID {pmid}"),
            ("title", fold_title(title), "title"),
        ):
            if value and (kind, value) in self.seen:
                return self.seen[(kind, value)], label
        return None


def known_works(root: Path) -> DuplicateIndex:
    """Every work in references.bib and every record screened before."""
    from ...bib import load_bibliography

    index = DuplicateIndex()
    bib_file = paths.bib_path(root)
    if bib_file.is_file():
        for key, fields in load_bibliography(bib_file).entries.items():
            index.add(
                f"bib:{key}", fields.get("doi", ""), fields.get("pmid", ""), fields.get("title", "")
            )
    for row in read_table(root, QUEUE):
        index.add(
            row["duplicate_of"] or row["record_id"],
            row.get("doi", ""),
            row.get("pmid", ""),
            row.get("title", ""),
        )
    return index


# ---------------------------------------------------------------------------
# Import


@dataclass
class ImportResult:
    search_id: str
    records: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def new(self) -> list[dict[str, str]]:
        return [r for r in self.records if not r["duplicate_of"]]

    @property
    def duplicates(self) -> list[dict[str, str]]:
        return [r for r in self.records if r["duplicate_of"]]


def import_search(
    export: str | Path,
    root: str | Path | None = None,
    *,
    database: str,
    query: str,
    date: str | None = None,
    date_limits: str = "",
    records_found: int | None = None,
    note: str = "",
    fmt: str | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Log one search and put its export's records in the screening queue.

    Records already in ``references.bib``, in an earlier search, or earlier in this export
    (same DOI, PMID or normalised title) are kept with ``duplicate_of`` set, so the flow
    diagram can count them, and are never offered for screening.
    """
    root = Path(root or paths.find_root()).resolve()
    items = read_export(export, fmt)
    date = date or dt.date.today().isoformat()
    if not query.strip():
        raise CurationError(
            "the search has no query string; give the exact query as run in the database (--query)"
        )
    with screening_lock(root):
        searches = read_table(root, SEARCHES)
        queue = read_table(root, QUEUE)
        search_id = next(_next_id(searches, "id", SEARCH_ID, "S", 3))
        ids = _next_id(queue, "record_id", RECORD_ID, "R", 4)
        index = known_works(root)
        result = ImportResult(search_id)
        for item in items:
            f = item.fields
            found = index.find(f.get("doi", ""), f.get("pmid", ""), f.get("title", ""))
            record_id = next(ids)
            row = {
                "record_id": record_id,
                "search_id": search_id,
                "pmid": f.get("pmid", ""),
                "doi": f.get("doi", ""),
                "title": f.get("title", ""),
                "authors": "; ".join(
                    a.strip() for a in f.get("author", "").split(" and ") if a.strip()
                ),
                "year": f.get("year", ""),
                "journal": f.get("journal", ""),
                "abstract": item.abstract,
                "duplicate_of": found[0] if found else "",
            }
            index.add(found[0] if found else record_id, row["doi"], row["pmid"], row["title"])
            result.records.append(row)
        export_name = Path(str(export)).as_posix()
        with contextlib.suppress(ValueError):
            export_name = Path(export).resolve().relative_to(root).as_posix()
        search = {
            "id": search_id,
            "date": date,
            "database": database,
            "query": " ".join(query.split()),
            "date_limits": date_limits,
            "records_found": str(records_found if records_found is not None else len(items)),
            "records_exported": str(len(items)),
            "export_file": export_name,
            "note": note,
        }
        changes = {
            table_path(root, QUEUE): _candidate(
                table_path(root, QUEUE), result.records, columns(root, QUEUE)
            ),
            table_path(root, SEARCHES): _candidate(
                table_path(root, SEARCHES), [search], columns(root, SEARCHES)
            ),
        }
        result.warnings = _write_checked(root, changes, f"search {search_id}", dry_run)
        result.written = not dry_run
        return result


# ---------------------------------------------------------------------------
# Decisions


def latest_decisions(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    """The decision in force for each record: its last row."""
    latest: dict[str, dict[str, str]] = {}
    for row in rows:
        latest[row["record_id"]] = row
    return latest


@dataclass
class DecisionResult:
    rows: list[dict[str, str]] = field(default_factory=list)
    added_references: list[str] = field(default_factory=list)
    existing_references: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: bool = False


def queue_record(row: dict[str, str]) -> curation.Record:
    """A queued record as a reference to import (house fields only)."""
    fields = {
        "author": " and ".join(split_list(row.get("authors", ""))),
        "title": row.get("title", ""),
        "journal": row.get("journal", ""),
        "year": row.get("year", ""),
        "doi": row.get("doi", ""),
        "pmid": row.get("pmid", ""),
    }
    return curation.normalise(
        curation.Record("article", fields, f"screening queue, record {row['record_id']}")
    )


def decide(
    record_ids: list[str],
    decision: str,
    root: str | Path | None = None,
    *,
    curator: str,
    reason: str = "",
    note: str = "",
    date: str | None = None,
    revise: bool = False,
    dry_run: bool = False,
) -> DecisionResult:
    """Record one decision for each of *record_ids* (append-only rows of screening.csv).

    An include imports the record into references.bib (or finds it there) and keeps the key in
    ``reference``; it counts as included in the synthesis once an evidence row cites that key.
    If anything fails, every file is left as it was.
    """
    root = Path(root or paths.find_root()).resolve()
    date = date or dt.date.today().isoformat()
    allowed = reasons(root)
    problems = []
    if decision not in ("include", "exclude"):
        problems.append(f"decision {decision!r} is not allowed; expected include or exclude")
    if decision == "exclude" and reason not in allowed:
        problems.append(
            f"reason {reason!r} is not allowed for an exclusion; expected one of: {', '.join(allowed)}"
            if reason
            else f"an exclusion needs a reason; expected one of: {', '.join(allowed)}"
        )
    if decision == "include" and reason:
        problems.append(f"an include takes no reason (got {reason!r}); reasons are for exclusions")
    if not curator.strip():
        problems.append("no curator given; expected your name or initials (--curator)")
    if not DATE.fullmatch(date):
        problems.append(f"date {date!r} is not a date; expected YYYY-MM-DD")
    if not record_ids:
        problems.append("no record ids given; expected ids from `screen.py next` such as R0004")
    if problems:
        raise CurationError("nothing was recorded", problems)

    with screening_lock(root):
        queue = {row["record_id"]: row for row in read_table(root, QUEUE)}
        decided = latest_decisions(read_table(root, DECISIONS))
        for record_id in record_ids:
            row = queue.get(record_id)
            if row is None:
                problems.append(
                    f"record {record_id}: not in {table_path(root, QUEUE).name}; expected an id from `screen.py next`"
                )
            elif row["duplicate_of"]:
                problems.append(
                    f"record {record_id}: a duplicate of {row['duplicate_of']}, removed before screening; nothing to decide"
                )
            elif record_id in decided and not revise:
                old = decided[record_id]
                problems.append(
                    f"record {record_id}: already decided ({old['decision']}{' ' + old['reason'] if old['reason'] else ''}, "
                    f"{old['date']}, {old['curator']}); give --revise to record a new decision"
                )
        if len(set(record_ids)) != len(record_ids):
            problems.append("a record id is given more than once")
        if problems:
            raise CurationError("nothing was recorded", problems)

        result = DecisionResult()
        # The reference import writes the bibliography and its provenance rows: both are put
        # back if the decision itself cannot be written.
        imported_files = [paths.bib_path(root), paths.data_dir(root) / "reference_provenance.csv"]
        before = {f: f.read_bytes() if f.exists() else None for f in imported_files}
        keys: dict[str, str] = {}
        if decision == "include":
            refs = curation.add_references(
                [queue_record(queue[r]) for r in record_ids], root, dry_run=dry_run
            )
            for key, record in refs.added:
                keys[record.origin.rsplit(" ", 1)[-1]] = key
                result.added_references.append(key)
            for dup in refs.duplicates:
                keys[dup.record.origin.rsplit(" ", 1)[-1]] = dup.existing_key
                result.existing_references.append(dup.existing_key)
            result.warnings += refs.warnings
        after = {f: f.read_bytes() if f.exists() else None for f in imported_files}
        rows = [
            {
                "record_id": r,
                "date": date,
                "curator": curator.strip(),
                "decision": decision,
                "reason": reason,
                "reference": keys.get(r, ""),
                "note": " ".join(note.split()),
            }
            for r in record_ids
        ]
        path = table_path(root, DECISIONS)
        try:
            result.warnings += _write_checked(
                root,
                {path: _candidate(path, rows, columns(root, DECISIONS))},
                "the decision(s)",
                dry_run,
            )
        except BaseException:
            changed = [f for f in imported_files if after[f] != before[f] and before[f] is not None]
            if changed:
                # Undo the reference import, unless someone wrote the file since.
                with curation.exclusive_lock(root):
                    for f in changed:
                        if f.read_bytes() == after[f]:
                            curation.atomic_write(f, before[f])
            raise
        result.rows = rows
        result.written = not dry_run
        return result
