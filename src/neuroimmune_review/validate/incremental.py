"""The build's validation verdict after rows were appended to a valid evidence file.

Performance: one appended row used to validate all of ``data/evidence.csv`` again (at 1000x,
357k rows: parsing 104 MB and judging every column, ~2 s of CPU before the build could read
a page).  When the evidence file was valid and everything else validation reads is unchanged,
only the appended lines can bring an error: every rule over the evidence judges a row by its
own values and the other files (Table Schema fields, foreign keys into the vocabularies,
citation keys, reference numbers, chapters, the v2 model), except two that compare rows
(unique keys, duplicate findings), whose earlier keys are kept here as hashes.  So the new
lines are validated as a table of their own, with every rule, and their keys are looked up
among the kept ones.  The verdict "no errors" is given only when that finds nothing; any
error, a key that may repeat (a hash found), or a file that is not as expected, and the
whole file is validated as before, so every message is the full validation's own.

Keyed by content: the kept file's digest over the current file's first bytes, and the
digests of every other file validation reads (the package's code among them) and of the
book's cited keys; the file must have been read on the plain path (one record per line).
Only the build's verdict (its errors) is answered here: warnings are not (the command line
validator always validates everything).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .. import data, paths, provenance
from ..plain_csv import appended_lines
from ..problems import ERROR, format_problem
from ..schema import TableSpec, datapackage_path, load_package
from .evidence import finding_hashes
from .reader import CsvTable
from .report import _relative
from .run import ValidationResult, validate

BASE = "validation-base"  # .json and .npz in provenance.MEMO_DIR
EVIDENCE = "evidence"
_VERSION = 1  # of what is kept: a change of its meaning changes this


def build_errors(root: Path, files: list[Path], extra: list[str]) -> list[str]:
    """The formatted errors of validating *root* (whose inputs are *files* and *extra*), as
    ``validate_root`` finds them; after an append to a valid evidence file, from the new rows."""
    evidence = paths.data_dir(root) / f"{EVIDENCE}.csv"
    others = _others_digest(files, extra, evidence)
    if appended_rows_valid(root, evidence, others):
        return []
    result = validate(root)
    errors = [format_problem(p) for p in result.problems if p.severity == ERROR]
    table = result.tables.get(EVIDENCE)
    if table is not None and table.plain:
        # For the evidence join as well (``data._appended_join``); validation itself writes nothing.
        data.mark_plain_evidence(evidence)
    if not errors:
        _keep_base(root, evidence, others, result)
    return errors


def _others_digest(files: list[Path], extra: list[str], evidence: Path) -> str:
    digests = {str(f): provenance.file_digest(f) for f in files if f != evidence}
    return provenance.digest([_VERSION, digests, extra])


def _unique_sets(spec: TableSpec) -> list[tuple[str, ...]]:
    """The column sets ``check_table_schema`` keeps unique."""
    sets = [tuple(spec.primary_key)] + [
        (f.name,) for f in spec.fields if f.unique and (f.name,) != tuple(spec.primary_key)
    ]
    return [columns for columns in sets if columns]


def _key_hashes(table: CsvTable, columns: tuple[str, ...]) -> np.ndarray:
    """A hash of each key ``check_unique`` compares (the values of *columns*, not all empty),
    the same for the same key in any table."""
    if len(columns) == 1:
        # Performance: the distinct values are known already (357k ids: half the time).
        values = table.distinct(columns[0])[1]
        return pd.util.hash_array(values[values != ""], categorize=False)  # distinct already
    keys = table.frame[list(columns)]
    keys = keys[(keys != "").any(axis=1)]
    return pd.util.hash_pandas_object(keys, index=False).to_numpy()


def _evidence_spec(root: Path) -> TableSpec | None:
    try:
        package = load_package(datapackage_path(root))
    except Exception:  # noqa: BLE001 - the full validation reports it
        return None
    spec = package.tables.get(EVIDENCE)
    if spec is None or package.base_dir / spec.path != paths.data_dir(root) / f"{EVIDENCE}.csv":
        return None
    if any(
        fk.resource == EVIDENCE for other in package.tables.values() for fk in other.foreign_keys
    ):
        return None  # another table's rows would need every evidence row
    return spec


def _keep_base(root: Path, evidence: Path, others: str, result: ValidationResult) -> None:
    """Keep what the next append needs of this valid evidence file: its keys' hashes."""
    table = result.tables.get(EVIDENCE)
    spec = _evidence_spec(root)
    digest = provenance.file_digest(evidence)
    memo = paths.build_dir(root) / provenance.MEMO_DIR
    if table is None or spec is None or digest is None:
        return
    if not (memo / f"{data.PLAIN_PREFIX}{digest}").exists():
        return  # not read on the plain path: lines and records may differ
    lines = int(table.frame.index[-1]) if len(table.frame) else 1
    arrays = {"finding": finding_hashes(table)}
    for columns in _unique_sets(spec):
        arrays["unique:" + ",".join(columns)] = _key_hashes(table, columns)
    meta = {"evidence": digest, "size": evidence.stat().st_size, "lines": lines, "others": others}
    _write_base(memo, meta, arrays)


def _write_base(memo: Path, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    try:
        memo.mkdir(parents=True, exist_ok=True)
        tmp = memo / f"{BASE}.{os.getpid()}.tmp.npz"
        np.savez(tmp, **arrays)
        tmp.replace(memo / f"{BASE}.npz")
        meta["arrays"] = hashlib.sha256((memo / f"{BASE}.npz").read_bytes()).hexdigest()[:20]
        tmp = memo / f"{BASE}.{os.getpid()}.tmp.json"
        tmp.write_text(json.dumps(meta), encoding="utf-8")
        tmp.replace(memo / f"{BASE}.json")
    except OSError:
        pass  # only a shortcut: the next build validates everything


def _read_base(memo: Path) -> tuple[dict, dict[str, np.ndarray]] | None:
    try:
        meta = json.loads((memo / f"{BASE}.json").read_text(encoding="utf-8"))
        raw = (memo / f"{BASE}.npz").read_bytes()
        if hashlib.sha256(raw).hexdigest()[:20] != meta["arrays"]:
            return None  # the two files are not of one keeping
        import io

        with np.load(io.BytesIO(raw), allow_pickle=False) as stored:
            return meta, {name: stored[name] for name in stored.files}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _any_among(values: np.ndarray, kept: np.ndarray) -> bool:
    """Whether any of *values* is in *kept*.  A few values (one appended row) are compared
    with every kept one: ``np.isin`` sorts all 357k kept hashes first (~0.1 s each at 1000x)."""
    if len(values) <= 32:
        return any(bool((kept == value).any()) for value in values)
    return bool(np.isin(values, kept).any())


def appended_rows_valid(root: Path, evidence: Path, others: str) -> bool:
    """Whether the evidence file is a kept valid file plus lines that validate with no error
    and repeat no kept key (then it is kept in its turn); False means: validate it all."""
    memo = paths.build_dir(root) / provenance.MEMO_DIR
    base = _read_base(memo)
    spec = _evidence_spec(root)
    if base is None or spec is None:
        return False
    meta, arrays = base
    try:
        size, lines = int(meta["size"]), int(meta["lines"])
        if (
            meta["others"] != others
            or not (memo / f"{data.PLAIN_PREFIX}{meta['evidence']}").exists()
        ):
            return False
    except (KeyError, TypeError, ValueError):
        return False
    appended = appended_lines(evidence, size, meta["evidence"])
    if appended is None or appended[0] != spec.columns:
        return False  # not an append to the kept file, or not plain lines of its columns
    header, frame, digest, now = appended
    frame.columns = header
    frame.index = pd.RangeIndex(lines + 1, lines + 1 + len(frame), name="line")
    table = CsvTable(_relative(evidence, root), header, 1, frame)
    if any(p.severity == ERROR for p in validate(root, tables={EVIDENCE: table}).problems):
        return False
    added = {"finding": finding_hashes(table)}
    for columns in _unique_sets(spec):
        added["unique:" + ",".join(columns)] = _key_hashes(table, columns)
    if set(added) != set(arrays):
        return False
    if any(_any_among(added[name], arrays[name]) for name in added):
        return False  # a key may repeat an earlier row's: the full rules say where
    data.mark_plain_evidence(evidence, digest)
    new_meta = {"evidence": digest, "size": now, "lines": lines + len(frame)}
    new_meta["others"] = others
    _write_base(
        memo, new_meta, {name: np.concatenate([arrays[name], added[name]]) for name in added}
    )
    return True
