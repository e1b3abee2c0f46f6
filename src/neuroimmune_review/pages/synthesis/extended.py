"""Aggregates over all evidence, extended by the rows appended since they were last computed.

Performance: the usual curation step appends rows to ``data/evidence.csv``, and the pages that
aggregate every row computed their tables again from all of them (at 1000x, 357,000 rows: the
explorer's strata 0.76 s, the contested pairs ~0.5 s, of a one-row rebuild's ~3.5 s of page
time), although only the groups the new rows fall in can change.  So each such table is kept
on disk with what it was computed from, and when the evidence is that evidence plus appended
rows, only the groups those rows can change are computed again, from all of their rows, and put
in place of their kept versions.

Sound because of what the computations are: every output row is a function of the rows of its
own group (a stratum, a pair) and of inputs common to all groups, which are part of the key:
the source labels (compared label by label: a new source keeps the others' labels unless it
takes one of theirs), the code of every module the computation can reach, the other files of
``data/`` and the bibliography, and pandas.  That the evidence is the kept evidence plus
appended rows is known from the hashes of the joined rows (``data.evidence_row_hashes``,
those every tracked answer is computed from): the first rows' hashes must be the kept ones.
Each use is tested against the computation over all rows, for appends of new and existing
sources, interventions and mediators.  Anything else (an edit, a removal, more than a tenth of
the rows new, a kept table that cannot be read) computes the whole table, and keeps it.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ... import data, paths, provenance
from ...files import atomic_write
from .common import source_labels

MEMO_PREFIX = "extended-"  # in provenance.MEMO_DIR, one file per table
_VERSION = 1  # of what is kept

# (rows, their labels) -> the table; (all rows, appended rows) -> (mask of the rows of every
# group the appended rows can change, mask of those groups among the table's rows)
Compute = Callable[[pd.DataFrame, dict[str, str]], pd.DataFrame]
Region = Callable[
    [pd.DataFrame, pd.DataFrame], tuple[np.ndarray, Callable[[pd.DataFrame], np.ndarray]]
]


def over_all_evidence(
    name: str,
    compute: Compute,
    region: Region,
    order: Callable[[pd.DataFrame], pd.DataFrame],
    labelled: Callable[[pd.DataFrame], pd.DataFrame] = lambda rows: rows,
    **filters: str,
) -> pd.DataFrame:
    """``compute(rows, labels)`` for the evidence rows ``data.evidence(**filters)`` and the
    labels of the sources of ``labelled(rows)``, extended from the table kept for the evidence
    before rows were appended when it can be (see the module's docstring).  *order* sorts a
    table as *compute* does."""
    rows = data.evidence(**filters)
    labels = source_labels(set(labelled(rows)["source_id"].unique()))
    hashes = data.evidence_row_hashes(**filters)
    root = paths.find_root()
    path = paths.build_dir(root) / provenance.MEMO_DIR / f"{MEMO_PREFIX}{name}.pickle"
    key = _key(root, compute, list(rows.columns), filters)
    table = _extended(path, key, rows, hashes, labels, compute, region, order)
    if table is None:
        table = compute(rows, labels)
    _keep(path, key, hashes, labels, table)
    return table


def _extended(path, key, rows, hashes, labels, compute, region, order) -> pd.DataFrame | None:
    try:
        kept = pickle.loads(path.read_bytes())
        if kept["key"] != key:
            return None
        n = int(kept["rows"])
        old_labels, table = kept["labels"], kept["table"]
    except Exception:  # noqa: BLE001 - missing, unreadable or of other code: compute it all
        return None
    if not 0 < n <= len(hashes) or len(hashes) - n > n // 10:
        return None
    if _prefix_digest(hashes, n) != kept["prefix"]:
        return None  # not the kept rows followed by new ones
    if any(labels.get(source) != label for source, label in old_labels.items()):
        return None  # a source's label changed: it may show in any group
    if n == len(hashes):
        return table
    appended = rows.iloc[n:]
    covered_rows, covered_groups = region(rows, appended)
    part = compute(rows[covered_rows].reset_index(drop=True), labels)
    kept_rows = table[~covered_groups(table)]
    # An empty piece would turn the other's typed columns into objects on concatenation (a
    # table computed empty has untyped columns): left out, and an empty result computed whole.
    pieces = [piece for piece in (kept_rows, part) if len(piece)]
    if not pieces:
        return None
    return order(pd.concat(pieces, ignore_index=True))


def _keep(path: Path, key, hashes: np.ndarray, labels: dict, table: pd.DataFrame) -> None:
    memo = {
        "key": key,
        "rows": len(hashes),
        "prefix": _prefix_digest(hashes, len(hashes)),
        "labels": labels,
        "table": table,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, pickle.dumps(memo, protocol=pickle.HIGHEST_PROTOCOL), durable=False)
    except OSError:
        pass  # only a cache


def _prefix_digest(hashes: np.ndarray, n: int) -> str:
    return hashlib.sha256(np.ascontiguousarray(hashes[:n]).tobytes()).hexdigest()[:32]


def _key(root: Path, compute: Compute, columns: list[str], filters: dict) -> list:
    """What a kept table depends on besides the evidence rows and the labels."""
    modules = provenance.reachable_modules(f"import {compute.__module__}\n")
    code = {name: provenance.file_digest(file) for name, file in modules.items()}
    evidence = paths.data_dir(root) / "evidence.csv"
    others = sorted(p for p in paths.data_dir(root).rglob("*") if p.is_file() and p != evidence)
    files = {str(p.relative_to(root)): provenance.file_digest(p) for p in others}
    files["references.bib"] = provenance.file_digest(paths.bib_path(root))
    return [_VERSION, compute.__qualname__, filters, code, files, columns, pd.__version__]
