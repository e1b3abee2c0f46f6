"""Shared parts of the synthesis pages: vocabulary, labels and the counting of sources."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from typing import TypeVar

import altair as alt
import numpy as np
import pandas as pd

from ... import data, paths, provenance
from ...files import atomic_write
from ...text import and_more, first_n
from .. import current, palette

# ---------------------------------------------------------------------------
# Shared vocabulary

# Classes, kinds and T-helper axes, with their order and labels, come from data/datapackage.json.


def antidepressant_classes() -> list[str]:
    return data.drug_classes()


def kind_groups() -> dict[str, str]:
    """Explorer row group of each kind of intervention without an antidepressant class."""
    return data.labels("interventions", "kind")


def th_axes() -> list[str]:
    return data.enum(table="mediators", field="th_axis")


def th_axis_labels() -> dict[str, str]:
    return data.labels("mediators", "th_axis")


UMBRELLA = "antidepressants"  # the class-free umbrella entry of interventions.csv
# The gap map always shows these families, so a cytokine nobody measured is a visible empty row.
PANEL_FAMILIES = ("cytokine", "chemokine", "acute-phase protein")
CYTOKINE_FAMILIES = PANEL_FAMILIES
EXPERIMENTAL_TYPES = ("preclinical_in_vivo", "ex_vivo", "in_vitro")
# What the synthesis of "what antidepressants do" counts (the evidence model's counting rule).
EFFECT_CLAIMS = ("intervention_effect",)
# Directions that can disagree with one another; a change of unstated direction cannot.
STATED_DIRECTIONS = ("increase", "decrease", "no_change", "mixed")

NET_COLOURS = palette.NET_COLOURS
NET_SHAPES = palette.NET_SHAPES
MIX_COLOURS = palette.MIX_COLOURS
MIX_SHAPES = palette.MIX_SHAPES

EXPLORER_TABLE_ROWS = 40  # rows of the linked table shown at most
EXPLORER_ROWS_PER_CELL = 8  # strata of one matrix cell shown at most
MAX_LABELS = 6  # sources named in one tooltip or table cell before "and N more"
# Finding ids and interventions listed for one contested pair: the page must not grow with the data.
MAX_LISTED = 12
# Contested pairs drawn in the chart and listed in the table (the most-sourced first); the
# rest are counted in the page and every pair is in a downloadable CSV.  Real data have far
# fewer; at 1000x synthetic rows nearly every pair disagrees, and the page listed thousands.
MAX_PAIRS_SHOWN = 50
DATA_DIR = "explorer-data"  # under _build/, served as part of the site's _static/


def _capped(items: list[str], limit: int = MAX_LABELS) -> str:
    return first_n(items, limit)


def _colour_and_shape(
    field: str, title: str, colours: dict[str, str], shapes: dict[str, str]
) -> dict[str, alt.Color | alt.Shape]:
    """Colour *and* shape channels for one category field (no chart relies on colour alone)."""
    domain = list(colours)
    return {
        "color": alt.Color(
            field, title=title, scale=alt.Scale(domain=domain, range=[colours[d] for d in domain])
        ),
        "shape": alt.Shape(
            field, title=title, scale=alt.Scale(domain=domain, range=[shapes[d] for d in domain])
        ),
    }


def publish_file(prefix: str, suffix: str, payload: str, page: str) -> str:
    """Write *payload* as ``_static/<prefix>-<hash>.<suffix>``; return its path from the page.

    Named by its content, the file is cacheable forever (a change of data changes its name);
    a page links to it or reads it instead of inlining the data.  The Sphinx extension serves
    the folder as part of ``_static``; older versions of the same file are removed.
    """
    from ... import paths

    name = f"{prefix}-{hashlib.sha256(payload.encode()).hexdigest()[:16]}.{suffix}"
    folder = paths.build_dir() / DATA_DIR
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not target.is_file():
        atomic_write(target, payload.encode("utf-8"), durable=False)
    for old in folder.glob(f"{prefix}-*.{suffix}"):
        if old != target:
            old.unlink()
    return current.href_to(f"_static/{name}", default_page=page)


# ---------------------------------------------------------------------------
# Performance helpers (the pages that summarise all evidence: at 1000x, 357,000 rows)

_T = TypeVar("_T")


def _inputs_key() -> tuple:
    """What a computation over all evidence can depend on: every file of data/ and the
    bibliography, by path, modification time and size (as data.py keys its cached CSVs)."""
    root = paths.find_root()
    files = sorted(paths.data_dir(root).iterdir()) + [paths.bib_path(root)]
    key = []
    for path in files:
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            continue
        key.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(key)


def per_page(compute: Callable[[], _T]) -> Callable[..., _T]:
    """Memoise a computation over all evidence for one execution of one page.

    Performance: a page calls it once per cell (the contested page three times, ~12 s each at
    1000x).  The answer is reused only within the same page execution (the provenance
    tracker's page record is the same object) over unchanged files, so every execution still
    runs each tracked query once and records what the page read; pages sharing a kernel do
    not share answers.  Calls with arguments (tests passing their own rows) are not cached.
    """
    memo: dict[str, tuple] = {}

    @functools.wraps(compute)
    def run(*args, **kwargs):
        if args or kwargs:
            return compute(*args, **kwargs)
        page = provenance._page  # noqa: SLF001 - identity of the running page's record
        key = _inputs_key()
        hit = memo.get("last")
        if hit is not None and hit[0] is page and hit[1] == key:
            result = hit[2]
        else:
            result = compute()
            memo["last"] = (page, key, result)
        return result.copy() if hasattr(result, "copy") else result

    return run


def _group_slices(frame: pd.DataFrame, keys: list[str], column: str):
    """(the sorted group index, the values of *column* ordered by group, each group's
    (start, end) in them); within a group the values keep the frame's order."""
    grouped = frame.groupby(keys, sort=True)
    codes = grouped.ngroup().to_numpy()
    values = frame[column].to_numpy(dtype=object)[np.argsort(codes, kind="stable")]
    counts = np.bincount(codes, minlength=grouped.ngroups)
    ends = np.cumsum(counts)
    return grouped.size().index, values, zip((ends - counts).tolist(), ends.tolist(), strict=True)


def capped_per_group(
    frame: pd.DataFrame, keys: list[str], column: str, limit: int, separator: str = "; "
) -> pd.Series:
    """``first_n(values, limit, separator)`` of *column* per group of *keys*, groups in sorted
    key order and values in the frame's order: what ``groupby(keys)[column].agg(lambda v:
    first_n(list(v), ...))`` gives, without building a Series per group (pandas' Python
    aggregation cost 14 s for 51,000 groups at 1000x).  The one loop is over the groups'
    slices of one array, joining strings."""
    index, values, slices = _group_slices(frame, keys, column)
    text = [
        separator.join(values[start:end])
        if end - start <= limit
        else separator.join([*values[start : start + limit], and_more(end - start - limit)])
        for start, end in slices
    ]
    return pd.Series(text, index=index, dtype=str, name=column)


def lists_per_group(frame: pd.DataFrame, keys: list[str], column: str) -> pd.Series:
    """``groupby(keys, sort=True)[column].agg(list)``, by slicing one array (see above)."""
    index, values, slices = _group_slices(frame, keys, column)
    return pd.Series(
        [values[start:end].tolist() for start, end in slices],
        index=index,
        dtype=object,
        name=column,
    )


def _count_legend(title: str, largest: int) -> alt.Legend:
    """A size legend showing whole counts only (1, the middle, the largest)."""
    largest = max(int(largest), 1)
    return alt.Legend(title=title, values=sorted({1, (largest + 1) // 2, largest}), format="d")


def _and_list(items: list[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------------------
# Sources


def row_sources(rows: pd.DataFrame) -> pd.Series:
    """The independent source of each row (see :func:`data.source_id`)."""
    return rows["source_id"] if "source_id" in rows else data.source_ids(rows)


def source_labels(source_ids: list[str] | set[str]) -> dict[str, str]:
    """A unique readable label per source id ("Huang et al. 2024", "Nava et al. 2025, ref. 99")."""
    ids = sorted(set(source_ids))
    keys = sorted({sid.split("#")[0] for sid in ids})
    found = data.citation_labels(keys=keys)
    labels = {}
    for sid in ids:
        key, _, refs = sid.partition("#")
        label = found.get(key, {}).get("label", key)
        labels[sid] = f"{label}, ref. {refs.replace(',', ', ')}" if refs else label
    # Two works with the same author-year label stay two sources.
    counts = pd.Series(labels).value_counts()
    for sid, label in list(labels.items()):
        if counts[label] > 1:
            labels[sid] = f"{label} [{sid.split('#')[0]}]"
    return labels


def _with_sources(rows: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    if "source_id" not in rows:  # the join has it: assigning it again copied every column
        rows = rows.assign(source_id=row_sources(rows))
    # unique() first: set() of a pandas column iterates its 357,000 values at 1000x.
    return rows, source_labels(set(rows["source_id"].unique()))


def _class_group(rows: pd.DataFrame) -> pd.Series:
    """Antidepressant class, else a group by kind of intervention."""
    return rows["drug_class"].where(
        rows["drug_class"] != "", rows["intervention_kind"].map(kind_groups()).fillna("Other")
    )


# *columns*: only those of the rows kept.  Performance: a page that only counts (the claim
# types of its scope, its sources) takes a column or two of the rows instead of copying the
# join's 22 (at 1000x ~0.1 s per copy of 357,000 rows).


def _antidepressant_rows(rows: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    keep = _is_antidepressant(rows)
    return rows[keep] if columns is None else rows.loc[keep, columns]


def _effects(rows: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    keep = _is_effect(rows)
    return rows[keep] if columns is None else rows.loc[keep, columns]


def _is_antidepressant(rows: pd.DataFrame) -> np.ndarray:
    """Which rows are of an antidepressant or mood-stabiliser class (a mask to combine)."""
    return rows["drug_class"].isin(antidepressant_classes()).to_numpy()


def _is_effect(rows: pd.DataFrame) -> np.ndarray:
    """Which rows are intervention effects (a mask to combine)."""
    return rows["claim_type"].isin(EFFECT_CLAIMS).to_numpy()
