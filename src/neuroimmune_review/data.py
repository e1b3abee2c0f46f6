"""Loading the evidence and its vocabularies: the one source of facts for every page.

All readers go through the queries here, which are ``tracked``: the build knows which
slice of the data each page used (see ``provenance``).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from . import paths
from .provenance import tracked

EVIDENCE_COLUMNS = [
    "id",
    "intervention",
    "mediator",
    "direction",
    "evidence_type",
    "species",
    "sample",
    "dose",
    "citation",
    "review_ref",
    "chapter",
    "note",
]
# Display order and wording used by every chart and table.
DIRECTIONS = ["increase", "decrease", "no_change", "mixed"]
DIRECTION_LABELS = {
    "increase": "Increase",
    "decrease": "Decrease",
    "no_change": "No change",
    "mixed": "Mixed",
}
EVIDENCE_TYPES = ["clinical", "preclinical_in_vivo", "ex_vivo", "in_vitro", "unspecified"]
EVIDENCE_TYPE_LABELS = {
    "clinical": "Clinical",
    "preclinical_in_vivo": "Preclinical (in vivo)",
    "ex_vivo": "Ex vivo",
    "in_vitro": "In vitro",
    "unspecified": "Unspecified",
}
DRUG_CLASSES = [
    "SSRI",
    "SNRI",
    "SARI",
    "TCA",
    "MAOI",
    "NRI",
    "NDRI",
    "NMDA antagonist",
    "mood stabilizer",
]


def _read_csv(path: Path) -> pd.DataFrame:
    # Everything is text: ids, doses and reference numbers must not become floats.
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


@functools.lru_cache(maxsize=16)
def _cached_csv(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    return _read_csv(Path(path))


def read_table(name: str, root: Path | None = None) -> pd.DataFrame:
    """A CSV of ``data/`` as text columns, re-read only when the file changes."""
    path = paths.data_dir(root) / f"{name}.csv"
    stat = path.stat()
    return _cached_csv(str(path), stat.st_mtime_ns, stat.st_size).copy()


def split_list(value: str) -> list[str]:
    """Split a ``;``-separated cell (citations, reference numbers, synonyms)."""
    return [part.strip() for part in str(value).split(";") if part.strip()]


def _file_key(name: str, root: Path | None = None) -> tuple[str, int, int]:
    path = paths.data_dir(root) / f"{name}.csv"
    stat = path.stat()
    return str(path), stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=4)
def _cached_join(
    evidence_key: tuple, interventions_key: tuple, mediators_key: tuple
) -> pd.DataFrame:
    # Performance: pages call ``evidence()`` several times each, and pages executed in one
    # kernel share this; the join is redone only when one of the three files changes.
    evidence = _cached_csv(*evidence_key)
    interventions = _cached_csv(*interventions_key)[["name", "kind", "drug_class"]]
    mediators = _cached_csv(*mediators_key)[["name", "family", "th_axis", "inflammatory_role"]]
    joined = evidence.merge(
        interventions.rename(columns={"name": "intervention", "kind": "intervention_kind"}),
        on="intervention",
        how="left",
    ).merge(mediators.rename(columns={"name": "mediator"}), on="mediator", how="left")
    return joined.fillna("")


def _joined_evidence(root: Path | None = None) -> pd.DataFrame:
    keys = (_file_key(name, root) for name in ("evidence", "interventions", "mediators"))
    return _cached_join(*keys)


@tracked(reads=("data/evidence.csv", "data/interventions.csv", "data/mediators.csv"))
def evidence(
    *,
    drug_class: str | None = None,
    chapter: str | None = None,
    intervention_kind: str | None = None,
    mediator: str | None = None,
) -> pd.DataFrame:
    """Evidence rows joined with their vocabularies, optionally filtered.

    Columns: the evidence columns plus ``intervention_kind``, ``drug_class``,
    ``family``, ``th_axis`` and ``inflammatory_role``.
    """
    rows = _joined_evidence()
    mask = None
    for column, wanted in (
        ("drug_class", drug_class),
        ("chapter", chapter),
        ("intervention_kind", intervention_kind),
        ("mediator", mediator),
    ):
        if wanted is not None:
            match = rows[column] == wanted
            mask = match if mask is None else mask & match
    # reset_index gives a new frame (copy-on-write): callers cannot modify the cached join.
    return (rows if mask is None else rows[mask]).reset_index(drop=True)


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


@tracked(reads=("references.bib",))
def references(*, keys: tuple[str, ...] | list[str] | None = None) -> dict[str, dict[str, str]]:
    """Bibliography entries (all, or only *keys*), as lower-cased field dictionaries."""
    from .bib import load_bibliography

    entries = load_bibliography(paths.bib_path()).entries
    if keys is None:
        return entries
    return {key: entries[key] for key in keys if key in entries}


@tracked(reads=("references.bib",))
def citation_labels(*, keys: tuple[str, ...] | list[str]) -> dict[str, dict[str, str]]:
    """Short author-year label and DOI for each cited key, as shown in tables and tooltips."""
    from .bib import load_bibliography

    bibliography = load_bibliography(paths.bib_path())
    return {
        key: {
            "label": bibliography.short_label(key),
            "doi": bibliography.entries[key].get("doi", ""),
        }
        for key in sorted(set(keys))
        if key in bibliography.entries
    }
