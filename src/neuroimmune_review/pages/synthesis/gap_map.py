"""Page 2 of the synthesis: the gap map (which mediators were measured in which settings)."""

from __future__ import annotations

import hashlib
import json

import altair as alt
import pandas as pd

from ... import data
from ...render import Figure, markdown, records
from ...text import escape_markdown
from ...text import plural as _plural
from ..counts import excluded_claims_sentence
from .common import (
    CYTOKINE_FAMILIES,
    EFFECT_CLAIMS,
    EXPERIMENTAL_TYPES,
    MIX_COLOURS,
    MIX_SHAPES,
    PANEL_FAMILIES,
    _and_list,
    _antidepressant_rows,
    _capped,
    _colour_and_shape,
    _count_legend,
    antidepressant_classes,
    per_page,
    source_labels,
    th_axes,
    th_axis_labels,
)

# ---------------------------------------------------------------------------
# 2. Evidence-gap map


def _mix(has_clinical: pd.Series, has_experimental: pd.Series, filled: pd.Series) -> pd.Series:
    """Evidence mix of each cell, from whole-column booleans."""
    mix = pd.Series("Type not stated", index=filled.index, dtype=object)
    mix[has_experimental] = "Experimental only"
    mix[has_clinical] = "Clinical only"
    mix[has_clinical & has_experimental] = "Clinical and experimental"
    return mix.where(filled, "")


def _panel_mediators(mediators: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    studied = rows["mediator"].unique()  # not set(): that iterates a string column row by row
    axes = th_axes()
    panel = mediators[mediators["family"].isin(PANEL_FAMILIES) | mediators["name"].isin(studied)]
    return panel.assign(
        axis_order=panel["th_axis"].map({a: i for i, a in enumerate(axes)}).fillna(len(axes)),
        in_panel=panel["family"].isin(PANEL_FAMILIES),
    ).sort_values(["axis_order", "name"])


def _gap_rows() -> pd.DataFrame:
    """The rows the gap map counts: intervention effects under antidepressant classes."""
    return _antidepressant_rows(data.evidence(claim_type="intervention_effect"))


@per_page
def gap_map_table() -> pd.DataFrame:
    """Every antidepressant class × mediator cell of the gap map, empty cells included.

    Columns: drug_class, mediator, th_axis, family, n_findings (rows), n_sources (distinct
    sources), one count of distinct sources per evidence type, mix (the evidence-type mix;
    '' for an empty cell) and sources.  Counts intervention effects only.  Built with one
    groupby and pivot over all cells, then reindexed onto the full grid."""
    rows = _gap_rows()
    mediators = data.vocabulary(name="mediators")
    panel = _panel_mediators(mediators, rows)
    classes = antidepressant_classes()
    types = data.evidence_types()
    grid = pd.MultiIndex.from_product(
        [classes, panel["name"].tolist()], names=["drug_class", "mediator"]
    )
    keys = ["drug_class", "mediator"]
    grouped = rows.groupby(keys)
    by_type = rows.pivot_table(
        index=keys, columns="evidence_type", values="source_id", aggfunc="nunique", fill_value=0
    ).reindex(columns=types, fill_value=0)
    distinct = rows[[*keys, "source_id"]].drop_duplicates().sort_values([*keys, "source_id"])
    cells = pd.DataFrame(
        {
            "n_findings": grouped.size(),
            "n_sources": grouped["source_id"].nunique(),
            "sources": distinct.groupby(keys)["source_id"].agg("; ".join),
        }
    ).join(by_type.add_prefix("n_"))
    cells = cells.reindex(grid)
    counts = [c for c in cells.columns if c.startswith("n_")]
    cells[counts] = cells[counts].fillna(0).astype(int)
    cells["sources"] = cells["sources"].fillna("")
    experimental = [f"n_{t}" for t in EXPERIMENTAL_TYPES if t in types]
    cells["mix"] = _mix(
        cells["n_clinical"] > 0 if "n_clinical" in cells else False,
        cells[experimental].sum(axis=1) > 0,
        cells["n_findings"] > 0,
    )
    info = panel.set_index("name")[["th_axis", "family", "axis_order"]]
    cells = cells.reset_index().join(info, on="mediator")
    cells["axis_order"] = cells["axis_order"].astype(int)
    ordered = [
        "drug_class",
        "mediator",
        "th_axis",
        "family",
        "axis_order",
        "n_findings",
        "n_sources",
        *[f"n_{t}" for t in types],
        "mix",
        "sources",
    ]
    return cells[ordered]


ARM_TITLES = {"Th1", "Th2", "Th17", "Treg", "Innate"}


def gap_map() -> Figure:
    """Class × mediator bubble map: size = distinct sources, colour and shape = evidence mix."""
    table = gap_map_table()
    classes = antidepressant_classes()
    axis_labels = th_axis_labels()
    ev_labels = data.evidence_type_labels()
    ids = {s for cell in table["sources"] for s in data.split_list(cell)}
    labels = source_labels(ids)
    table = table.assign(
        axis_label=table["th_axis"].map(axis_labels),
        source_names=[_capped([labels[s] for s in data.split_list(c)]) for c in table["sources"]],
        types=[
            ", ".join(part for part in parts if part)
            for parts in zip(
                *(
                    [f"{ev_labels[t].lower()} {n}" if n else "" for n in table[f"n_{t}"]]
                    for t in data.evidence_types()
                ),
                strict=True,
            )
        ],
    )
    # Embedded compactly: one row per mediator, with its filled cells as a list; the empty grid
    # is drawn by flattening the list of classes, so empty cells cost nothing per cell.
    cell_fields = ["drug_class", "n_sources", "n_findings", "mix", "types", "source_names"]
    # Mediators in order of first appearance, each with its first row's axis label, its filled
    # cells in table order and its findings: what a loop over groupby(sort=False) gave, from
    # one pass over each column (that loop's per-group slicing was the page's largest cost).
    grouped = table[table["mediator"].notna()]
    first = grouped.drop_duplicates("mediator")
    findings = grouped.groupby("mediator", sort=False)["n_findings"].sum()
    filled = grouped[grouped["n_findings"] > 0]
    cells: dict[str, list[dict]] = {}
    for mediator, cell in zip(
        filled["mediator"].tolist(), filled[cell_fields].to_dict("records"), strict=True
    ):
        cells.setdefault(mediator, []).append(cell)
    embedded = pd.DataFrame(
        [
            {
                "mediator": mediator,
                "axis_label": axis_label,
                "classes": classes,
                "cells": cells.get(mediator, []),
                "n": int(findings[mediator]),
            }
            for mediator, axis_label in zip(
                first["mediator"].tolist(), first["axis_label"].tolist(), strict=True
            )
        ]
    )
    axis_sort = [axis_labels[a] for a in th_axes()]
    present = set(embedded["axis_label"])
    chart = _gap_spec(
        records(embedded),
        axes=[axis for axis in axis_sort if axis in present],
        classes=classes,
        cell_fields=cell_fields,
        size_legend=_count_legend("Distinct sources", table["n_sources"].max()).to_dict(),
        colour_and_shape={
            channel: encoding.to_dict()
            for channel, encoding in _colour_and_shape(
                "mix:N", "Evidence mix", MIX_COLOURS, MIX_SHAPES
            ).items()
        },
    )
    filled = int((table["n_findings"] > 0).sum())
    title = "Evidence-gap map: antidepressant classes against mediators"
    description = (
        f"{len(classes)} classes (columns) against {table['mediator'].nunique()} mediators (rows, grouped "
        f"by T-helper axis): {filled} of {len(table)} cells hold at least one intervention effect; every other cell is an empty grey "
        "square, a gap. Bubble size is the number of distinct sources; colour and shape give the evidence mix: blue "
        "circles clinical only, green squares clinical and experimental, orange diamonds experimental only (in vivo, "
        "ex vivo or in vitro), grey crosses evidence type not stated. All cytokines, chemokines and CRP are listed "
        "even when no class has data on them."
    )
    return Figure(chart=chart, title=title, description=description, data=embedded)


def _tooltip(field: str, kind: str, title: str) -> dict[str, str]:
    return {"field": field, "type": kind, "title": title}


def _gap_spec(
    values: list[dict],
    *,
    axes: list[str],
    classes: list[str],
    cell_fields: list[str],
    size_legend: dict,
    colour_and_shape: dict[str, dict],
) -> dict:
    """The gap map's Vega-Lite spec, assembled as data: one panel per T-helper axis, each a
    layer of the grey grid and the bubbles, all reading one named table.

    Performance: this is the spec ``alt.vconcat`` of ``alt.layer`` panels gave (the same JSON;
    a test compares them), built without Altair, which deep-copied every sub-chart with the
    whole table in it on each ``layer``, ``transform_filter`` and ``vconcat`` and then
    validated the result: 60% of the page's 2.2 s at 1000x.
    """
    name = _dataset_name(values)
    x = {
        "field": "drug_class",
        "type": "nominal",
        "axis": {"labelAngle": -40, "orient": "top"},
        "sort": list(classes),
        "title": None,
    }
    y = {"field": "mediator", "type": "nominal", "sort": "ascending", "title": None}
    place = [
        _tooltip("drug_class", "nominal", "Class"),
        _tooltip("mediator", "nominal", "Mediator"),
    ]

    def panel(axis: str) -> dict:
        keep = {"filter": f"(datum.axis_label === {_vega_string(axis)})"}
        grid = {
            "mark": {"type": "rect", "fill": "#F2F2F2", "stroke": "#FFFFFF", "strokeWidth": 2},
            "encoding": {"tooltip": place, "x": x, "y": y},
            "transform": [{"flatten": ["classes"], "as": ["drug_class"]}, keep],
        }
        bubbles = {
            "mark": {"type": "point", "filled": True, "opacity": 0.9},
            "encoding": {
                **colour_and_shape,
                "size": {
                    "field": "n_sources",
                    "type": "quantitative",
                    "legend": size_legend,
                    "scale": {"range": [40, 380], "zero": False},
                },
                "tooltip": [
                    *place,
                    _tooltip("n_sources", "quantitative", "Distinct sources"),
                    _tooltip("n_findings", "quantitative", "Rows"),
                    _tooltip("types", "nominal", "Evidence types"),
                    _tooltip("mix", "nominal", "Mix"),
                    _tooltip("source_names", "nominal", "Sources"),
                ],
                "x": x,
                "y": y,
            },
            "transform": [
                {"flatten": ["cells"], "as": ["cell"]},
                *({"calculate": f"datum.cell.{field}", "as": field} for field in cell_fields),
                keep,
            ],
        }
        return {
            "layer": [grid, bubbles],
            "height": {"step": 17},
            "width": {"step": 40},
            "title": {
                "text": f"{axis} mediators" if axis in ARM_TITLES else axis,
                "anchor": "start",
                "fontSize": 13,
                "fontWeight": "bold",
            },
        }

    return {
        "$schema": alt.SCHEMA_URL,
        # Altair's default view size, which its charts carried (unused: every panel has steps).
        "config": {
            "view": {"continuousWidth": 300, "continuousHeight": 300, "stroke": None},
            # Legends above the map: at its right they made it 757 px wide, and a desktop
            # column (672 px) cut them off.
            "legend": {"orient": "top", "direction": "horizontal", "columns": 2},
        },
        "data": {"name": name},
        "datasets": {name: values},
        "resolve": {"scale": {"x": "shared"}},
        "spacing": 8,
        "vconcat": [panel(axis) for axis in axes],
    }


def _vega_string(text: str) -> str:
    """*text* as a Vega expression string literal, quoted as Altair's ``alt.datum == text`` is."""
    return repr(text)


def _dataset_name(values: list[dict]) -> str:
    """The name Altair gives an inline table (``altair.vegalite.v6.api._dataset_name``), so the
    spec and the compiled chart stay byte-identical to the ones Altair built."""
    text = json.dumps(values, sort_keys=True, default=str)
    return "data-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def gap_findings() -> dict[str, object]:
    """The largest gaps, as data: used by :func:`gap_summary` and the tests."""
    table = gap_map_table()
    classes = antidepressant_classes()
    rows = _gap_rows()
    cyto = rows[rows["family"].isin(CYTOKINE_FAMILIES)]
    clinical_cyto = set(cyto.loc[cyto["evidence_type"] == "clinical", "drug_class"])
    panel = table[table["family"].isin(PANEL_FAMILIES)]
    by_mediator = panel.groupby("mediator")["n_findings"].sum()
    # The most-studied mediators across classes, and the classes that lack each of them.
    studied = table.groupby("mediator")["n_sources"].sum().sort_values(ascending=False)
    core = [m for m in studied.index if studied[m] > 0][:5]
    empty = table[(table["n_findings"] == 0) & table["mediator"].isin(core)]
    order = {c: i for i, c in enumerate(classes)}
    empty = empty.assign(order=empty["drug_class"].map(order)).sort_values("order")
    missing_core = {m: empty.loc[empty["mediator"] == m, "drug_class"].tolist() for m in core}
    per_class = table.groupby("drug_class", sort=False).agg(
        cells=("n_findings", lambda s: int((s > 0).sum())),
        sources=("n_sources", "sum"),
    )
    unstated_only = table[table["mix"] == "Type not stated"]
    return {
        "no_clinical_cytokine": [c for c in classes if c not in clinical_cyto],
        "unstudied_panel": sorted(by_mediator[by_mediator == 0].index),
        "core": core,
        "missing_core": missing_core,
        "filled": int((table["n_findings"] > 0).sum()),
        "cells": len(table),
        "sparsest": per_class.sort_values(["cells", "sources"]).head(3).index.tolist(),
        "per_class": per_class,
        "unstated_only": len(unstated_only),
    }


def gap_summary():
    """Generated paragraph naming the largest gaps."""
    gaps = gap_findings()
    per_class = gaps["per_class"]
    parts = [
        excluded_claims_sentence(
            _antidepressant_rows(data.evidence(), ["claim_type"]), EFFECT_CLAIMS
        ),
        f"Of the {gaps['cells']} class–mediator cells on the map, {gaps['filled']} hold any intervention effect.",
    ]
    if gaps["no_clinical_cytokine"]:
        parts.append(
            f"**{_plural(len(gaps['no_clinical_cytokine']), 'class', 'classes')} have no clinical cytokine, chemokine "
            f"or CRP data at all**: {escape_markdown(gaps['no_clinical_cytokine'])}; what is known about them comes "
            "from animals, cells or statements whose evidence type the source does not give."
        )
    sparse = [f"{c} ({_plural(int(per_class.loc[c, 'cells']), 'cell')})" for c in gaps["sparsest"]]
    parts.append(f"The thinnest classes are {escape_markdown(_and_list(sparse))}.")
    missing = [
        f"{m} (missing for {escape_markdown(_and_list(cs))})"
        for m, cs in gaps["missing_core"].items()
        if cs
    ]
    if missing:
        parts.append("Even the most-studied mediators leave holes: " + "; ".join(missing) + ".")
    if gaps["unstudied_panel"]:
        parts.append(
            f"No antidepressant class has an intervention effect on {len(gaps['unstudied_panel'])} of the listed cytokines, "
            f"chemokines and acute-phase proteins: {escape_markdown(gaps['unstudied_panel'])}."
        )
    if gaps["unstated_only"]:
        parts.append(
            f"A further {_plural(gaps['unstated_only'], 'filled cell')} rest only on results whose evidence type "
            "the source article does not state."
        )
    return markdown(" ".join(parts))
