"""Shared parts of the synthesis pages: vocabulary, labels and the counting of sources."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ... import data
from ...bib import SOURCE_ARTICLE_KEY

# ---------------------------------------------------------------------------
# Shared vocabulary

ANTIDEPRESSANT_CLASSES = list(data.DRUG_CLASSES)
# Rows of the explorer that are not an antidepressant class, in display order.
KIND_GROUPS = {
    "drug": "Other drugs",
    "drug_class": "Other drug classes",
    "non_drug": "Non-drug interventions",
    "condition": "Conditions vs controls",
    "stimulus": "Stimuli",
}
UMBRELLA = "antidepressants"  # the class-free umbrella entry of interventions.csv
TH_AXES = ["Th1", "Th2", "Th17", "Treg", "innate", "none"]
TH_AXIS_LABELS = {
    "Th1": "Th1",
    "Th2": "Th2",
    "Th17": "Th17",
    "Treg": "Treg",
    "innate": "Innate",
    "none": "No T-helper axis",
}
# The gap map always shows these families, so a cytokine nobody measured is a visible empty row.
PANEL_FAMILIES = ("cytokine", "chemokine", "acute-phase protein")
CYTOKINE_FAMILIES = PANEL_FAMILIES
EXPERIMENTAL_TYPES = ("preclinical_in_vivo", "ex_vivo", "in_vitro")

# Net direction of a cell (explorer): Okabe-Ito colours, one shape each.
NET_COLOURS = {
    "Net increase": "#D55E00",
    "Net decrease": "#0072B2",
    "Balanced (conflicting)": "#CC79A7",
    "No change or mixed": "#6E6E6E",
}
NET_SHAPES = {
    "Net increase": "triangle-up",
    "Net decrease": "triangle-down",
    "Balanced (conflicting)": "diamond",
    "No change or mixed": "circle",
}
# Evidence mix of a gap-map cell.
MIX_COLOURS = {
    "Clinical only": "#0072B2",
    "Clinical and experimental": "#009E73",
    "Experimental only": "#E69F00",
    "Type not stated": "#6E6E6E",
}
MIX_SHAPES = {
    "Clinical only": "circle",
    "Clinical and experimental": "square",
    "Experimental only": "diamond",
    "Type not stated": "cross",
}

EXPLORER_TABLE_ROWS = 40  # rows of the linked table shown at most
EXPLORER_ROWS_PER_CELL = 8  # strata of one matrix cell shown at most
MAX_LABELS = 6  # sources named in one tooltip or table cell before "and N more"
# Finding ids and interventions listed for one contested pair: the page must not grow with the data.
MAX_LISTED = 12


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


def _capped(items: list[str], limit: int = MAX_LABELS) -> str:
    items = list(items)
    if len(items) <= limit:
        return "; ".join(items)
    return "; ".join(items[:limit]) + f"; and {len(items) - limit} more"


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
    """The sources of each finding: its primary citation keys, or the source article plus its
    reference number(s) when only the source article is cited."""

    def sources(citation: str, review_ref: str) -> list[str]:
        keys = data.split_list(citation)
        primary = [key for key in keys if key != SOURCE_ARTICLE_KEY]
        if primary:
            return sorted(set(primary))
        refs = data.split_list(review_ref)
        return [f"{SOURCE_ARTICLE_KEY}#{','.join(refs)}"] if refs else [SOURCE_ARTICLE_KEY]

    if rows.empty:
        return pd.Series([], index=rows.index, dtype=object)
    return pd.Series(
        [sources(c, r) for c, r in zip(rows["citation"], rows["review_ref"], strict=False)],
        index=rows.index,
    )


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
    rows = rows.assign(source_ids=row_sources(rows))
    ids = {sid for cell in rows["source_ids"] for sid in cell}
    return rows, source_labels(ids)


def _class_group(rows: pd.DataFrame) -> pd.Series:
    """Antidepressant class, else a group by kind of intervention."""
    return rows["drug_class"].where(
        rows["drug_class"] != "", rows["intervention_kind"].map(KIND_GROUPS).fillna("Other")
    )


def _antidepressant_rows(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["drug_class"].isin(ANTIDEPRESSANT_CLASSES)]
