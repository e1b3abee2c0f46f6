"""Loading the evidence and its vocabularies: the one source of facts for every page.

All readers go through the queries here, which are ``tracked``: the build knows which
slice of the data each page used (see ``provenance``).

Long by design: the evidence join, its copy on disk, the row hashes kept beside it and its
extension by appended rows share one key (the files' digests, this code, pandas); split
apart, a change to one could silently stop matching the others.
"""

from __future__ import annotations

import csv
import functools
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from . import paths, text
from .bib import SOURCE_ARTICLE_KEY
from .files import atomic_write
from .provenance import tracked
from .schema import DATAPACKAGE_FILE, PackageSpec, load_package

# Every enum, its display order and its labels come from data/datapackage.json (the enum's
# order is the display order; its ``categories`` give the labels): no copy of them lives in
# the code, so a new drug class or direction appears on every page without a code change.


@functools.lru_cache(maxsize=4)
def _cached_package(path: str, mtime_ns: int, size: int) -> PackageSpec:
    return load_package(path)


@functools.lru_cache(maxsize=8)
def _package_file(root: Path | None) -> str:
    return str(paths.data_dir(root) / DATAPACKAGE_FILE)


def package(root: Path | None = None) -> PackageSpec:
    """The data package descriptor of *root* (default: the review root), re-read when it changes."""
    # Performance: pages ask for labels per row (18,000 times on the contested page at 1000x);
    # the path is built once per root, the file's stat decides whether it is read again.
    path = _package_file(paths.find_root() if root is None else root)
    stat = os.stat(path)
    return _cached_package(path, stat.st_mtime_ns, stat.st_size)


@tracked(reads=(f"data/{DATAPACKAGE_FILE}",))
def enum(*, table: str, field: str) -> list[str]:
    """Allowed values of one field, in display order (tracked: a new value re-executes its pages)."""
    values = package().table(table).field(field).enum
    if values is None:
        raise ValueError(f"{table}.{field} has no enum in {DATAPACKAGE_FILE}")
    return list(values)


# (table, field) -> (the descriptor they came from, value -> label); by identity, since the
# descriptor object is the same while data/datapackage.json is unchanged (see package()).
_LABELS: dict[tuple[str, str], tuple[PackageSpec, dict[str, str]]] = {}


def labels(table: str, field: str) -> dict[str, str]:
    """Display label of every allowed value of one field, in display order."""
    values = enum(table=table, field=field)  # tracked: the page records the enum it used
    spec = package()
    cached = _LABELS.get((table, field))
    if cached is None or cached[0] is not spec:
        column = spec.table(table).field(field)
        cached = _LABELS[(table, field)] = (spec, {v: column.label(v) for v in values})
    return {value: cached[1][value] for value in values}


def evidence_columns() -> list[str]:
    return package().table("evidence").columns


def drug_classes() -> list[str]:
    return enum(table="interventions", field="drug_class")


def directions() -> list[str]:
    return enum(table="evidence", field="direction")


def direction_labels() -> dict[str, str]:
    return labels("evidence", "direction")


def evidence_types() -> list[str]:
    return enum(table="evidence", field="evidence_type")


def evidence_type_labels() -> dict[str, str]:
    return labels("evidence", "evidence_type")


def claim_types() -> list[str]:
    return enum(table="evidence", field="claim_type")


def claim_type_labels() -> dict[str, str]:
    return labels("evidence", "claim_type")


# Module attributes kept for callers of the old constants: computed from the package on access.
_DERIVED = {
    "EVIDENCE_COLUMNS": evidence_columns,
    "DRUG_CLASSES": drug_classes,
    "DIRECTIONS": directions,
    "DIRECTION_LABELS": direction_labels,
    "EVIDENCE_TYPES": evidence_types,
    "EVIDENCE_TYPE_LABELS": evidence_type_labels,
    "CLAIM_TYPES": claim_types,
    "CLAIM_TYPE_LABELS": claim_type_labels,
}


def __getattr__(name: str):
    if name in _DERIVED:
        return _DERIVED[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------
# Independent sources (the counting rule of the evidence model)


def _ref_numbers(review_ref: str) -> list[str]:
    numbers = set(text.split_list(review_ref))
    return sorted(numbers, key=lambda n: (not n.isdigit(), int(n) if n.isdigit() else 0, n))


def source_id(row) -> str:
    """The independent source of one evidence row (a mapping with citation and review_ref).

    The source is the row's citation key, unless the key is the source article itself: then
    it is the article plus the sorted set of its review_ref numbers (one unresolved reference
    of the article), or the review alone when review_ref is empty.  Every count on every page
    is of distinct ``source_id`` values, so a pooled result fanned out into per-drug rows, or a
    duplicated row, still counts once; a work cited under two numbers is one source.
    """
    key = str(row["citation"]).strip()
    if key != SOURCE_ARTICLE_KEY:
        return key
    numbers = _ref_numbers(row["review_ref"])
    return f"{key}#{','.join(numbers)}" if numbers else key


def source_ids(rows: pd.DataFrame) -> pd.Series:
    """``source_id`` of every row (computed once per distinct citation and review_ref)."""
    if rows.empty:
        return pd.Series([], index=rows.index, dtype=object)
    # Performance: each distinct (citation, review_ref) pair is found by factorising codes,
    # not by iterating the rows in Python (at 1000x, 3 s of every evidence join).
    citations, citation_values = pd.factorize(rows["citation"], use_na_sentinel=False)
    refs, ref_values = pd.factorize(rows["review_ref"], use_na_sentinel=False)
    pairs, inverse = np.unique(citations * len(ref_values) + refs, return_inverse=True)
    ids = np.array(
        [
            source_id(
                {
                    "citation": citation_values[p // len(ref_values)],
                    "review_ref": ref_values[p % len(ref_values)],
                }
            )
            for p in pairs.tolist()
        ],
        dtype=object,
    )
    return pd.Series(ids[inverse], index=rows.index, dtype=object)


def n_sources(rows: pd.DataFrame) -> int:
    """Distinct independent sources of *rows* (which may already carry a ``source_id`` column)."""
    if rows.empty:
        return 0
    ids = rows["source_id"] if "source_id" in rows else source_ids(rows)
    return int(ids.nunique())


def _read_csv(path: Path) -> pd.DataFrame:
    # Everything is text: ids, doses and reference numbers must not become floats.
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


@functools.lru_cache(maxsize=16)
def _cached_csv(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    parsed = _take_parsed(path, mtime_ns, size)
    if parsed is None:
        parsed = _evidence_from_join(path, mtime_ns, size)
    return parsed if parsed is not None else _read_csv(Path(path))


# Tables the validator has just read in this process: real path -> ((mtime_ns, size, inode)
# of the bytes it read, its frame).  Performance: a build validates data/ and then reads the
# same files for the pages' stamp and the evidence join; at 1000x that second parse of the
# 104 MB evidence.csv cost 0.8-1.1 s of CPU before any page could execute.
_PARSED: dict[str, tuple[tuple[int, int, int], pd.DataFrame]] = {}


def offer_parsed(path: Path, stat: os.stat_result, frame: pd.DataFrame) -> None:
    """The validator's frame of *path*, read from its bytes at *stat*: every column text, one row
    per record, columns named by a header without repeats (``read_csv_table``'s plain path)."""
    key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    _PARSED[os.path.realpath(path)] = (key, frame)


def _take_parsed(path: str, mtime_ns: int, size: int) -> pd.DataFrame | None:
    """The offered frame of *path* as ``_read_csv`` would read the file now, or None."""
    real = os.path.realpath(path)
    offered = _PARSED.pop(real, None)
    if offered is None:
        return None
    try:
        now = os.stat(real)
    except OSError:
        return None
    if offered[0] != (mtime_ns, size, now.st_ino) or (now.st_mtime_ns, now.st_size) != (
        mtime_ns,
        size,
    ):
        return None  # the file changed since validation read it
    # The same frame as pandas' reader with dtype=str gives (tested): text columns and a
    # RangeIndex (the validator's index is the physical line).
    return offered[1].reset_index(drop=True).astype(str)


def read_table(name: str, root: Path | None = None) -> pd.DataFrame:
    """A CSV of ``data/`` as text columns, re-read only when the file changes."""
    path = paths.data_dir(root) / f"{name}.csv"
    stat = path.stat()
    return _cached_csv(str(path), stat.st_mtime_ns, stat.st_size).copy()


# Pages call ``data.split_list``; its one home is :mod:`.text`.
split_list = text.split_list


def _file_key(name: str, root: Path | None = None) -> tuple[str, int, int]:
    path = paths.data_dir(root) / f"{name}.csv"
    stat = path.stat()
    return str(path), stat.st_mtime_ns, stat.st_size


JOIN_PREFIX = "evidence-join-"  # in provenance.MEMO_DIR, named by the three files' digests
# Beside each stored join: what it was built from (its files' digests and sizes, the code) and
# the hash of each of its rows (``provenance.row_hashes``), under the same name.
JOIN_META, JOIN_HASHES = ".json", ".hashes.npy"
# Evidence files the validator read on its plain path (one record per line), by content digest.
PLAIN_PREFIX = "evidence-plain-"
PLAIN_EVIDENCE = "evidence.csv"

# The stored join each cached frame came from (by identity), for its row hashes on disk.
_JOIN_STORED: list[tuple[pd.DataFrame, Path]] = []


@functools.lru_cache(maxsize=4)
def _cached_join(
    evidence_key: tuple, interventions_key: tuple, mediators_key: tuple
) -> pd.DataFrame:
    # Performance: pages call ``evidence()`` several times each, and pages executed in one
    # kernel share this; the join is redone only when one of the three files changes.  It is
    # also kept on disk under the files' content digests, so that the stale check and every
    # shared kernel of a build (and the next build) load it instead of parsing and joining
    # the CSVs again (at 1000x: about 1 s to load against 8-10 s to build, per process).
    kept = _kept_join(evidence_key, interventions_key, mediators_key)
    if kept is not None:
        return kept[0]
    memo, stored, meta = _join_names(evidence_key, interventions_key, mediators_key)
    evidence = _cached_csv(*evidence_key)
    joined = _build_join(evidence_key, interventions_key, mediators_key)
    meta["rows"] = len(evidence) if len(joined) == len(evidence) else None
    _store_or_defer(memo, stored, joined, meta, None)
    _JOIN_STORED[:] = [*_JOIN_STORED[-3:], (joined, stored)]
    return joined


def _join_names(
    evidence_key: tuple, interventions_key: tuple, mediators_key: tuple
) -> tuple[Path, Path, dict]:
    """Where the join of these files is kept, and what it is built from."""
    from . import provenance

    files = [Path(evidence_key[0]), Path(interventions_key[0]), Path(mediators_key[0])]
    # The code that builds it and the pandas that pickles it are part of the name.
    code = provenance.file_digest(Path(__file__))
    digests = [provenance.file_digest(f) for f in files]
    digest = provenance.digest([*digests, code, pd.__version__])
    memo = paths.build_dir(files[0].parent.parent) / provenance.MEMO_DIR
    meta = {"files": digests, "size": evidence_key[2], "code": code, "pandas": pd.__version__}
    return memo, memo / f"{JOIN_PREFIX}{digest}.pickle", meta


@functools.lru_cache(maxsize=4)
def _kept_join(
    evidence_key: tuple, interventions_key: tuple, mediators_key: tuple
) -> tuple[pd.DataFrame, dict] | None:
    """The join of these files as kept on disk, or extended from the join kept before rows
    were appended (and kept in its turn), with what it was built from; None if neither."""
    memo, stored, meta = _join_names(evidence_key, interventions_key, mediators_key)
    try:
        joined = pd.read_pickle(stored)
    except Exception:  # noqa: BLE001 - missing or unreadable: only a cache
        joined = None
    if joined is not None:
        try:
            meta = json.loads(_beside(stored, JOIN_META).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
    else:
        appended = _appended_join(memo, meta, evidence_key, interventions_key, mediators_key)
        if appended is None:
            return None
        joined, hashes, meta["rows"] = appended
        _store_or_defer(memo, stored, joined, meta, hashes)
        if hashes is not None:
            _ROW_HASHES[:] = [(joined, hashes)]
    _JOIN_STORED[:] = [*_JOIN_STORED[-3:], (joined, stored)]
    return joined, meta


def _evidence_from_join(path: str, mtime_ns: int, size: int) -> pd.DataFrame | None:
    """``_read_csv`` of the evidence file, taken from its kept join; None if there is none.

    Performance: the pages' stamp reads the evidence for its cited keys before the stale
    check loads the join; after rows were appended, the join is extended from the kept one
    (``_appended_join``) while a read of the file would parse all of it (at 1000x, ~1.9 s of
    CPU).  The join's first columns are the file's, row for row, when it has one row per
    evidence row (``rows`` in what it was built from) and the header names its first columns.
    """
    file = Path(path)
    if file.name != PLAIN_EVIDENCE:
        return None
    root = file.parent.parent
    try:
        keys = (_file_key("interventions", root), _file_key("mediators", root))
        with file.open("rb") as handle:
            header = next(csv.reader([handle.readline().decode("utf-8")]), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    kept = _kept_join((path, mtime_ns, size), *keys)
    if kept is None or not header or len(set(header)) != len(header):
        return None
    joined, meta = kept
    if meta.get("rows") != len(joined) or list(joined.columns[: len(header)]) != header:
        return None
    return joined.iloc[:, : len(header)]


# Joins to be written later (``defer_join_writes``); None: each is written when built.
_DEFERRED_JOINS: list[tuple] | None = None


def defer_join_writes() -> None:
    """In this process, keep each join built from now on in memory and write it only at
    :func:`write_deferred_joins`, unless another process has written it by then.

    For the Sphinx process of a build: its stale check builds the join (after an append, the
    kept one plus the new rows) while the page workers' fork server builds the same one, and
    both wrote it, ~0.2 s of pickling at 1000x; the Sphinx process's writing was on the way to
    the first page being sent to the workers.  It now writes after sending them, and only if
    the server has not (same name, so same files, code and pandas: the same join).
    """
    global _DEFERRED_JOINS
    if _DEFERRED_JOINS is None:
        _DEFERRED_JOINS = []


def forget_deferred_joins() -> None:
    """Write joins when built again, and drop those :func:`defer_join_writes` kept back: in the
    workers' fork server, once the checker that writes them has been forked from it."""
    global _DEFERRED_JOINS
    _DEFERRED_JOINS = None


def write_deferred_joins() -> None:
    """Write the joins :func:`defer_join_writes` kept back that no other process wrote."""
    pending = list(_DEFERRED_JOINS or [])
    if _DEFERRED_JOINS:
        _DEFERRED_JOINS.clear()
    for memo, stored, joined, meta, hashes in pending:
        written = [stored, _beside(stored, JOIN_META)]
        if hashes is not None:
            written.append(_beside(stored, JOIN_HASHES))
        if not all(path.exists() for path in written):
            _store_join(memo, stored, joined, meta, hashes)


def _store_or_defer(
    memo: Path, stored: Path, joined: pd.DataFrame, meta: dict, hashes: np.ndarray | None
) -> None:
    if _DEFERRED_JOINS is None:
        _store_join(memo, stored, joined, meta, hashes)
    else:
        _DEFERRED_JOINS.append((memo, stored, joined, dict(meta), hashes))


def _store_join(
    memo: Path, stored: Path, joined: pd.DataFrame, meta: dict, hashes: np.ndarray | None
) -> None:
    try:
        memo.mkdir(parents=True, exist_ok=True)
        tmp = stored.with_name(f"{stored.name}.{os.getpid()}.tmp")
        joined.to_pickle(tmp)
        tmp.replace(stored)
        atomic_write(_beside(stored, JOIN_META), json.dumps(meta).encode(), durable=False)
        if hashes is not None:
            _store_hashes(stored, hashes)
        for old in memo.glob(f"{JOIN_PREFIX}*"):
            if not old.name.startswith(stored.stem):
                old.unlink(missing_ok=True)  # joins of earlier data: nothing reads them again
    except OSError:
        pass


def _beside(stored: Path, suffix: str) -> Path:
    return stored.with_name(f"{stored.stem}{suffix}")


def _store_hashes(stored: Path, hashes: np.ndarray) -> None:
    try:
        tmp = stored.with_name(f"{stored.stem}.{os.getpid()}.tmp.npy")
        np.save(tmp, hashes, allow_pickle=False)
        tmp.replace(_beside(stored, JOIN_HASHES))
    except OSError:
        pass  # only a cache


def _stored_hashes(stored: Path, rows: int) -> np.ndarray | None:
    try:
        hashes = np.load(_beside(stored, JOIN_HASHES), allow_pickle=False)
    except (OSError, ValueError):
        return None
    return hashes if hashes.shape == (rows,) and hashes.dtype == np.uint64 else None


def mark_plain_evidence(file: Path, digest: str | None = None) -> None:
    """Remember that ``data/evidence.csv`` (whose content digest is *digest*) was read on the
    validator's plain path: every physical line one record.  A join of a longer file starting with these bytes
    may then be extended by its new lines alone (``_appended_join``)."""
    if file.name != PLAIN_EVIDENCE:
        return
    from . import provenance

    memo = paths.build_dir(file.parent.parent) / provenance.MEMO_DIR
    marker = memo / f"{PLAIN_PREFIX}{digest or provenance.file_digest(file)}"
    try:
        if not marker.exists():
            memo.mkdir(parents=True, exist_ok=True)
            marker.touch()
            # Only the latest few are ever a join's base: the others are dropped.
            kept = sorted(memo.glob(f"{PLAIN_PREFIX}*"), key=lambda p: p.stat().st_mtime_ns)
            for old in kept[:-4]:
                old.unlink(missing_ok=True)
    except OSError:
        pass  # only a shortcut


def _appended_join(
    memo: Path, meta: dict, evidence_key: tuple, interventions_key: tuple, mediators_key: tuple
) -> tuple[pd.DataFrame, np.ndarray | None, int | None] | None:
    """The join of the evidence as it is now, from a stored join of the same file before rows
    were appended to it, its row hashes and its number of evidence rows if it has one row per
    evidence row; None when there is no such join.

    Performance: one appended row used to cost a parse of the whole file and a new join (at
    1000x, 104 MB: ~1.5 s of CPU in the stale check and again in the workers' fork server),
    and a hash of every row (~0.7 s each).  Each row of the join depends on its own evidence
    line and the two vocabularies only (a left merge keeps the evidence's order; ``source_id``
    and the row hash are functions of the row), so the join of the new lines, appended to the
    stored join, is the join of the whole file (tested against building it).  Sound only where
    each physical line is one record: the stored join's evidence must have been read so by
    validation (``mark_plain_evidence``), and the new lines must be plain too.  Keyed by content:
    the stored file's bytes must be exactly the current file's first bytes (its digest over
    them), the vocabularies' digests, this code and pandas must be the same.
    """
    from . import provenance
    from .plain_csv import appended_lines

    path, _mtime, size = evidence_key
    for meta_file in memo.glob(f"{JOIN_PREFIX}*{JOIN_META}"):
        try:
            base = json.loads(meta_file.read_text(encoding="utf-8"))
            base_size = int(base["size"])
            same = base["files"][1:] == meta["files"][1:] and (base["code"], base["pandas"]) == (
                meta["code"],
                meta["pandas"],
            )
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            continue
        if not same or not 0 < base_size < size:
            continue
        if not (memo / f"{PLAIN_PREFIX}{base['files'][0]}").exists():
            continue
        appended = appended_lines(Path(path), base_size, base["files"][0])
        if appended is None:
            continue  # not an append to this join's file (or not plain lines)
        header, frame, digest, now = appended
        if now != size:
            return None  # changed since the join was asked for
        stored = meta_file.with_name(meta_file.name[: -len(JOIN_META)] + ".pickle")
        try:
            old = pd.read_pickle(stored)
        except Exception:  # noqa: BLE001 - missing or unreadable: build the join instead
            continue
        # The new lines as ``_read_csv`` reads them within the whole file (text, a RangeIndex).
        frame = frame.reset_index(drop=True).astype(str)
        frame.columns = header
        interventions = _cached_csv(*interventions_key)
        mediators = _cached_csv(*mediators_key)
        added = _join_frames(frame, interventions, mediators)
        if list(added.columns) != list(old.columns):
            return None
        joined = pd.concat([old, added], ignore_index=True)
        base_rows = base.get("rows")
        one_to_one = (
            isinstance(base_rows, int) and base_rows == len(old) and len(added) == len(frame)
        )
        rows = len(joined) if one_to_one else None
        old_hashes = _stored_hashes(stored, len(old))
        hashes = (
            None
            if old_hashes is None
            else np.concatenate([old_hashes, provenance.row_hashes(added)])
        )
        # The new file is plain too: the next appended row can start from this join.
        mark_plain_evidence(Path(path), digest)
        return joined, hashes, rows
    return None


def _build_join(
    evidence_key: tuple, interventions_key: tuple, mediators_key: tuple
) -> pd.DataFrame:
    return _join_frames(
        _cached_csv(*evidence_key), _cached_csv(*interventions_key), _cached_csv(*mediators_key)
    )


def _join_frames(
    evidence: pd.DataFrame, interventions: pd.DataFrame, mediators: pd.DataFrame
) -> pd.DataFrame:
    interventions = interventions[["name", "kind", "drug_class", "members"]]
    mediators = mediators[["name", "family", "th_axis", "inflammatory_role"]]
    joined = evidence.merge(
        interventions.rename(columns={"name": "intervention", "kind": "intervention_kind"}),
        on="intervention",
        how="left",
    ).merge(mediators.rename(columns={"name": "mediator"}), on="mediator", how="left")
    joined = joined.fillna("")
    joined["source_id"] = source_ids(joined)
    return joined


JOINED_TABLES = ("evidence", "interventions", "mediators")


def _joined_evidence(root: Path | None = None) -> pd.DataFrame:
    keys = (_file_key(name, root) for name in JOINED_TABLES)
    return _cached_join(*keys)


EVIDENCE_FILES = ("data/evidence.csv", "data/interventions.csv", "data/mediators.csv")


# The columns ``evidence()`` filters on: its keyword parameters, in this order.
EVIDENCE_FILTERS = ("drug_class", "chapter", "intervention_kind", "mediator", "claim_type")


def _evidence_positions(rows: pd.DataFrame, filters: dict[str, str | None]) -> np.ndarray | None:
    """Positions in the join of the rows *filters* select, in order (None: every row)."""
    unknown = sorted(set(filters) - set(EVIDENCE_FILTERS))
    if unknown:
        raise TypeError(f"evidence() has no filter {', '.join(unknown)}")
    positions = None
    for column in EVIDENCE_FILTERS:
        wanted = filters.get(column)
        if wanted is not None:
            found = _positions(rows, column).get(wanted, _NO_ROWS)
            positions = (
                found if positions is None else np.intersect1d(positions, found, assume_unique=True)
            )
    return positions


# (the join they hash, the hash of each of its rows), as ``provenance.digest`` hashes a frame's rows
_ROW_HASHES: list[tuple[pd.DataFrame, np.ndarray]] = []


def _evidence_answer(**filters: str | None) -> str:
    """``provenance.digest(evidence(...))`` for the same filters, without building the frame.

    Performance: the digest of a frame is a digest of its columns and of one hash per row, so
    the answer of every filter is a slice of the join's row hashes, computed once per join:
    the stale check after a data edit answers the 25 evidence queries of the book with one
    hashing pass over the join instead of one per query (at 1000x, 4 s).  The tests check
    that both give the same digest for every filter the book uses.
    """
    from . import provenance

    rows = _joined_evidence()
    if not _ROW_HASHES or _ROW_HASHES[0][0] is not rows:
        # Kept beside the stored join (same content key): the stale check, the fork server
        # and the next build hash the rows once between them.
        stored = next((path for frame, path in _JOIN_STORED if frame is rows), None)
        hashes = None if stored is None else _stored_hashes(stored, len(rows))
        if hashes is None:
            hashes = provenance.row_hashes(rows)
            if stored is not None:
                _store_hashes(stored, hashes)
        _ROW_HASHES[:] = [(rows, hashes)]
    hashes = _ROW_HASHES[0][1]
    positions = _evidence_positions(rows, filters)
    return provenance.frame_digest(rows.columns, hashes if positions is None else hashes[positions])


def evidence_row_hashes(**filters: str | None) -> np.ndarray:
    """The hash of each row of ``evidence(**filters)``, in its order, as every answer's digest
    is computed from (``provenance.row_hashes``).  Not a query: a page that uses them reads
    ``evidence()`` too, which records the answer."""
    _evidence_answer()
    rows, hashes = _ROW_HASHES[0]
    positions = _evidence_positions(rows, filters)
    return hashes if positions is None else hashes[positions]


@tracked(reads=EVIDENCE_FILES, answer=_evidence_answer)
def evidence(
    *,
    drug_class: str | None = None,
    chapter: str | None = None,
    intervention_kind: str | None = None,
    mediator: str | None = None,
    claim_type: str | None = None,
) -> pd.DataFrame:
    """Evidence rows joined with their vocabularies, optionally filtered.

    Columns: the evidence columns plus ``intervention_kind``, ``drug_class``, ``members``,
    ``family``, ``th_axis``, ``inflammatory_role`` and ``source_id`` (see :func:`source_id`).
    """
    rows = _joined_evidence()
    positions = _evidence_positions(
        rows,
        {
            "drug_class": drug_class,
            "chapter": chapter,
            "intervention_kind": intervention_kind,
            "mediator": mediator,
            "claim_type": claim_type,
        },
    )
    # take/reset_index give a new frame (copy-on-write): callers cannot modify the cached join.
    return (rows if positions is None else rows.take(positions)).reset_index(drop=True)


_NO_ROWS = np.array([], dtype=np.intp)
# column -> (the join it indexes, value -> positions of its rows in increasing order)
_POSITIONS: dict[str, tuple[pd.DataFrame, dict]] = {}


def _positions(rows: pd.DataFrame, column: str) -> dict:
    """Where each value of *column* occurs in the cached join, found once per join.

    Performance: pages filter the join by chapter, class or claim type several times each; a
    comparison over every row cost ~0.05 s per call at 1000x (357,000 rows), a lookup nothing.
    The rows taken are the ones ``rows[rows[column] == value]`` selects, in the same order.
    """
    cached = _POSITIONS.get(column)
    if cached is None or cached[0] is not rows:
        cached = _POSITIONS[column] = (rows, rows.groupby(column, sort=False).indices)
    return cached[1]


@tracked(reads=lambda name: [f"data/{name}.csv"])
def vocabulary(*, name: str) -> pd.DataFrame:
    """A vocabulary table: ``interventions`` or ``mediators``."""
    if name not in ("interventions", "mediators"):
        raise ValueError(f"unknown vocabulary {name!r}")
    return read_table(name)


@tracked(reads=lambda name: [f"data/{name}.csv"])
def table(*, name: str) -> pd.DataFrame:
    """Any other table of ``data/`` (e.g. ``meta_analyses``)."""
    return read_table(name)


@functools.lru_cache(maxsize=4)
def _cached_bibliography(path: str, mtime_ns: int, size: int):
    from .bib import load_bibliography

    return load_bibliography(path)


def bibliography():
    """The parsed ``references.bib``, shared by every caller until the file changes: read it,
    never change it.  Not tracked: a page that reads it records the bibliography as an input
    with :func:`references` (or :func:`citation_labels`) first."""
    # Performance: pages ask for citation labels in several cells each (0.05-0.08 s per parse
    # of references.bib); the parse is redone only when the file changes, as for the CSVs.
    path = paths.bib_path()
    try:
        stat = os.stat(path)
    except OSError:
        from .bib import load_bibliography

        return load_bibliography(path)  # reports the missing file as it always did
    return _cached_bibliography(str(path), stat.st_mtime_ns, stat.st_size)


@tracked(reads=("references.bib",))
def references(*, keys: tuple[str, ...] | list[str] | None = None) -> dict[str, dict[str, str]]:
    """Bibliography entries (all, or only *keys*), as lower-cased field dictionaries."""
    # Copies: the parsed bibliography is shared by every later call.
    entries = bibliography().entries
    if keys is None:
        return {key: dict(fields) for key, fields in entries.items()}
    return {key: dict(entries[key]) for key in keys if key in entries}


@tracked(reads=("references.bib",))
def citation_labels(*, keys: tuple[str, ...] | list[str]) -> dict[str, dict[str, str]]:
    """Short author-year label and DOI for each cited key, as shown in tables and tooltips."""
    parsed = bibliography()
    return {
        key: {
            "label": parsed.short_label(key),
            "doi": parsed.entries[key].get("doi", ""),
        }
        for key in sorted(set(keys))
        if key in parsed.entries
    }
