"""The evidence explorer's strata: every row of the evidence counted by stratum (page 1 of the
synthesis draws and lists them, ``explorer``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import data
from . import extended
from .common import (
    MAX_LABELS,
    _class_group,
    _with_sources,
    antidepressant_classes,
    capped_per_group,
    kind_groups,
    lists_per_group,
    per_page,
    th_axes,
)


@per_page
def explorer_strata(rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per claim type × intervention × mediator × evidence type × species: distinct
    sources by direction (``n_inc`` …), distinct sources (``n``), rows (``n_rows``) and the
    sources.  This aggregate, not the rows, is what the explorer reads from its data file."""
    if rows is None:
        # Of every row: after an append, only the strata of the new rows are computed again.
        return extended.over_all_evidence(
            "explorer-strata", _strata_of, _strata_region, _in_stratum_order
        )
    if rows.empty:
        return _strata_of(rows, {})
    used = _STRATA_COLUMNS + (["source_id"] if "source_id" in rows else ["citation", "review_ref"])
    rows, labels = _with_sources(rows[used])
    return _strata_of(rows, labels)


_STRATA_COLUMNS = ["claim_type", "drug_class", "intervention_kind", "intervention", "mediator"]
_STRATA_COLUMNS += ["family", "th_axis", "evidence_type", "species", "direction"]
# The text keys a stratum is one group of (named as in the rows; the table renames two).
_STRATUM_KEYS = ["claim", "group", "intervention", "mediator", "family", "th_axis"]
_STRATUM_KEYS += ["evidence", "species_label"]


def _strata_region(rows: pd.DataFrame, appended: pd.DataFrame):
    """Every stratum an appended row can be in has its intervention and mediator: all rows of
    those pairs, and those pairs' strata (whole strata: both are stratum keys)."""
    interventions, mediators = set(appended["intervention"]), set(appended["mediator"])

    def covered(frame: pd.DataFrame) -> np.ndarray:
        return (
            frame["intervention"].isin(interventions).to_numpy()
            & frame["mediator"].isin(mediators).to_numpy()
        )

    return covered(rows), covered


def _in_stratum_order(table: pd.DataFrame) -> pd.DataFrame:
    """Strata in the order ``groupby(_STRATUM_KEYS, sort=True)`` gives them."""
    keys = [{"th_axis": "axis", "species_label": "species"}.get(k, k) for k in _STRATUM_KEYS]
    return table.sort_values(keys, kind="stable").reset_index(drop=True)


def _strata_of(rows: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """:func:`explorer_strata` of *rows* (with ``source_id``), sources labelled by *labels*."""
    columns = [
        "claim",
        "group",
        "gorder",
        "intervention",
        "mediator",
        "mlabel",
        "morder",
        "family",
        "axis",
        "evidence",
        "species",
        "n_inc",
        "n_dec",
        "n_nc",
        "n_mix",
        "n_unsp",
        "n",
        "n_rows",
        "src",
        "src_keys",
        "src_label",
        "summary",
    ]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    # Performance: only the columns used below are carried (each assign copied all 22 of the
    # join's columns over every row: 357,000 at 1000x).
    rows = rows[[*_STRATA_COLUMNS, "source_id"]].assign(
        claim=rows["claim_type"].map(data.claim_type_labels()),
        group=_class_group(rows),
        evidence=rows["evidence_type"].map(data.evidence_type_labels()),
        species_label=rows["species"].where(rows["species"] != "", "not stated"),
        source_label=rows["source_id"].map(labels),
    )
    keys = _STRATUM_KEYS
    # Performance: the eight text keys are grouped once; every count below groups the rows by
    # their stratum number (an integer), not by the keys again.
    grouped = rows.groupby(keys, sort=True)
    strata = pd.DataFrame(
        {
            "stratum": grouped.ngroup(),
            "direction": rows["direction"],
            "source_id": rows["source_id"],
            "source_label": rows["source_label"],
        }
    )
    by_source = strata.drop_duplicates(["stratum", "source_id", "direction"])
    by_direction = (
        by_source.groupby(["stratum", "direction"])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=data.directions(), fill_value=0)
    )
    distinct = (
        strata[["stratum", "source_label"]]
        .drop_duplicates()
        .sort_values(["stratum", "source_label"], kind="stable")
    )
    # The bibliography key of each source (a link target on the References page).
    key_of = {label: sid.split("#")[0] for sid, label in labels.items()}
    distinct["source_key"] = distinct["source_label"].map(key_of)
    table = pd.DataFrame(
        {
            "n": by_source.drop_duplicates(["stratum", "source_id"]).groupby("stratum").size(),
            "n_rows": strata.groupby("stratum").size(),
            "src": lists_per_group(distinct, ["stratum"], "source_label"),
            "src_label": capped_per_group(distinct, ["stratum"], "source_label", MAX_LABELS),
            "src_keys": lists_per_group(distinct, ["stratum"], "source_key"),
        }
    )
    table = table.join(by_direction.reindex(table.index, fill_value=0))
    table.index = grouped.size().index  # stratum i is the i-th group in key order
    for column, direction in (
        ("n_inc", "increase"),
        ("n_dec", "decrease"),
        ("n_nc", "no_change"),
        ("n_mix", "mixed"),
        ("n_unsp", "changed_unspecified"),
    ):
        table[column] = table[direction].astype(int)
    table = (
        table.drop(columns=data.directions())
        .reset_index()
        .rename(columns={"th_axis": "axis", "species_label": "species"})
    )
    group_order = antidepressant_classes() + list(kind_groups().values()) + ["Other"]
    axes = th_axes()
    table["gorder"] = table["group"].map({g: i for i, g in enumerate(group_order)})
    table["morder"] = (
        table["axis"].map({a: i for i, a in enumerate(axes)}).fillna(len(axes)).astype(int)
    )
    table["mlabel"] = [
        m if a in ("none", "") else f"{m} ({a})"
        for m, a in zip(table["mediator"], table["axis"], strict=False)
    ]
    table["summary"] = [
        ", ".join(
            f"{n} {word}"
            for n, word in (
                (i, "up"),
                (d, "down"),
                (c, "unchanged"),
                (x, "mixed"),
                (u, "changed, direction not stated"),
            )
            if n
        )
        + (f" ({r} rows)" if r != n_src else "")
        for i, d, c, x, u, r, n_src in zip(
            table["n_inc"],
            table["n_dec"],
            table["n_nc"],
            table["n_mix"],
            table["n_unsp"],
            table["n_rows"],
            table["n"],
            strict=True,
        )
    ]
    return table[columns]
