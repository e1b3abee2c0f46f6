"""Cross-cutting synthesis: the evidence explorer, gap map, contested findings, Th1/Th2 vote
count and the comparison with published meta-analyses.

Each page calls one or two functions here; every number, list, chart and table is computed
from ``data/`` through the tracked queries of :mod:`data`, so a data change re-executes
exactly the pages it affects.  The computations (``*_table``, ``contested_pairs`` …) return
plain DataFrames, which the tests compare with direct pandas computations on the CSV files;
the chart builders only draw them.

A *source* is a cited work.  Findings that cite only the source article (Nava et al. 2025)
because the primary study is not yet resolved count as one source per reference number
of the article, so two unresolved studies are not merged into one.
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from . import charts, citations, data
from .bib import SOURCE_ARTICLE_KEY
from .render import Figure, Table, escape_markdown, markdown

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
    "Th1": "Th1", "Th2": "Th2", "Th17": "Th17", "Treg": "Treg", "innate": "Innate", "none": "No T-helper axis",
}
# The gap map always shows these families, so a cytokine nobody measured is a visible empty row.
PANEL_FAMILIES = ("cytokine", "chemokine", "acute-phase protein")
CYTOKINE_FAMILIES = PANEL_FAMILIES
EXPERIMENTAL_TYPES = ("preclinical_in_vivo", "ex_vivo", "in_vitro")

# Net direction of a cell (explorer): Okabe-Ito colours, one shape each.
NET_COLOURS = {"Net increase": "#D55E00", "Net decrease": "#0072B2", "Balanced (conflicting)": "#CC79A7",
               "No change or mixed": "#6E6E6E"}
NET_SHAPES = {"Net increase": "triangle-up", "Net decrease": "triangle-down", "Balanced (conflicting)": "diamond",
              "No change or mixed": "circle"}
# Evidence mix of a gap-map cell.
MIX_COLOURS = {"Clinical only": "#0072B2", "Clinical and experimental": "#009E73",
               "Experimental only": "#E69F00", "Type not stated": "#6E6E6E"}
MIX_SHAPES = {"Clinical only": "circle", "Clinical and experimental": "square",
              "Experimental only": "diamond", "Type not stated": "cross"}

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
    return pd.Series([sources(c, r) for c, r in zip(rows["citation"], rows["review_ref"])], index=rows.index)


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
    return rows["drug_class"].where(rows["drug_class"] != "", rows["intervention_kind"].map(KIND_GROUPS).fillna("Other"))


def _antidepressant_rows(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["drug_class"].isin(ANTIDEPRESSANT_CLASSES)]


# ---------------------------------------------------------------------------
# 1. Evidence explorer


def explorer_strata(rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per intervention × mediator × evidence type × species: counts by direction and
    the sources.  This aggregate, not the findings, is what the explorer page embeds."""
    rows = data.evidence() if rows is None else rows
    columns = ["group", "gorder", "intervention", "mediator", "mlabel", "morder", "family", "axis", "evidence",
               "species", "n_inc", "n_dec", "n_nc", "n_mix", "n", "src", "src_label", "summary"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows, labels = _with_sources(rows)
    rows = rows.assign(
        group=_class_group(rows),
        evidence=rows["evidence_type"].map(data.EVIDENCE_TYPE_LABELS),
        species_label=rows["species"].where(rows["species"] != "", "not stated"),
    )
    keys = ["group", "intervention", "mediator", "family", "th_axis", "evidence", "species_label"]
    out = []
    for key, part in rows.groupby(keys, sort=True):
        counts = part["direction"].value_counts()
        src = sorted({labels[s] for cell in part["source_ids"] for s in cell})
        out.append({**dict(zip(keys, key)),
                    "n_inc": int(counts.get("increase", 0)), "n_dec": int(counts.get("decrease", 0)),
                    "n_nc": int(counts.get("no_change", 0)), "n_mix": int(counts.get("mixed", 0)),
                    "n": len(part), "src": src, "src_label": _capped(src)})
    table = pd.DataFrame(out).rename(columns={"th_axis": "axis", "species_label": "species"})
    group_order = ANTIDEPRESSANT_CLASSES + list(KIND_GROUPS.values()) + ["Other"]
    table["gorder"] = table["group"].map({g: i for i, g in enumerate(group_order)})
    table["morder"] = table["axis"].map({a: i for i, a in enumerate(TH_AXES)}).fillna(len(TH_AXES)).astype(int)
    table["mlabel"] = [m if a in ("none", "") else f"{m} ({a})" for m, a in zip(table["mediator"], table["axis"])]
    table["summary"] = [
        ", ".join(f"{n} {word}" for n, word in ((i, "up"), (d, "down"), (c, "unchanged"), (x, "mixed")) if n)
        for i, d, c, x in zip(table["n_inc"], table["n_dec"], table["n_nc"], table["n_mix"])
    ]
    return table[columns]


def _select(name: str, label: str, options: list[str], value: str) -> alt.Parameter:
    return alt.param(name=name, value=value,
                     bind=alt.binding_select(options=["All", *options], name=f"{label} "))


def explorer(default_family: str = "cytokine") -> Figure:
    """The interactive evidence matrix with four labelled filters and a linked table."""
    strata = explorer_strata()
    families = sorted(strata["family"].unique())
    if default_family not in families:
        default_family = "All"
    groups = [g for g in ANTIDEPRESSANT_CLASSES + list(KIND_GROUPS.values()) + ["Other"] if g in set(strata["group"])]
    species = sorted(strata["species"].unique(), key=lambda s: (s == "not stated", s))
    types = [t for t in data.EVIDENCE_TYPE_LABELS.values() if t in set(strata["evidence"])]
    p_ev = _select("evidence_filter", "Evidence type", types, "All")
    p_sp = _select("species_filter", "Species", species, "All")
    p_cl = _select("class_filter", "Class or group", ["All antidepressant classes", *groups], "All")
    p_fam = _select("family_filter", "Mediator family", families, default_family)
    cell = alt.selection_point(name="cell", fields=["intervention", "mediator"], on="click", clear="dblclick")
    filter_expr = (
        "(evidence_filter == 'All' || datum.evidence == evidence_filter)"
        " && (species_filter == 'All' || datum.species == species_filter)"
        " && (class_filter == 'All' || datum.group == class_filter"
        f" || (class_filter == 'All antidepressant classes' && indexof({ANTIDEPRESSANT_CLASSES!r}, datum.group) >= 0))"
        " && (family_filter == 'All' || datum.family == family_filter)"
    )
    cell_keys = ["group", "gorder", "intervention", "mediator", "mlabel", "morder", "axis", "family"]
    net = (
        "datum.inc > datum.dec ? 'Net increase' : datum.dec > datum.inc ? 'Net decrease' : "
        "datum.inc > 0 ? 'Balanced (conflicting)' : 'No change or mixed'"
    )
    def cells(chart):
        return chart.transform_filter(filter_expr).transform_calculate(
            k="length(datum.src)", w_inc="datum.n_inc / length(datum.src)", w_dec="datum.n_dec / length(datum.src)",
            w_nc="datum.n_nc / length(datum.src)", w_mix="datum.n_mix / length(datum.src)",
        ).transform_flatten(["src"], as_=["source"]).transform_aggregate(
            # one row per cell and source: each stratum's counts are spread over its sources, then summed back
            s_inc="sum(w_inc)", s_dec="sum(w_dec)", s_nc="sum(w_nc)", s_mix="sum(w_mix)",
            groupby=[*cell_keys, "source"],
        ).transform_aggregate(
            t_inc="sum(s_inc)", t_dec="sum(s_dec)", t_nc="sum(s_nc)", t_mix="sum(s_mix)",
            n_sources="count()", vals="values(source)", groupby=cell_keys,
        ).transform_calculate(
            inc="round(datum.t_inc)", dec="round(datum.t_dec)", nc="round(datum.t_nc)", mix="round(datum.t_mix)",
        ).transform_calculate(
            n="datum.inc + datum.dec + datum.nc + datum.mix",
            net=net,
            contested="(datum.inc > 0) + (datum.dec > 0) + (datum.nc > 0) + (datum.mix > 0) > 1",
            sources=f"join(slice(pluck(datum.vals, 'source'), 0, {MAX_LABELS}), '; ')"
                    f" + (datum.n_sources > {MAX_LABELS} ? '; and ' + (datum.n_sources - {MAX_LABELS}) + ' more' : '')",
        )
    net_domain = list(NET_COLOURS)
    most = int(strata.groupby(["intervention", "mediator"])["src"].agg(lambda s: len({x for c in s for x in c})).max() or 1)
    x = alt.X("mlabel:N", title="Mediator (T-helper axis)", sort=alt.EncodingSortField("morder", op="min"),
              axis=alt.Axis(labelAngle=-50, orient="top", labelLimit=160))
    y = alt.Y("intervention:N", title=None, sort="ascending", axis=alt.Axis(labelLimit=130))
    tooltip = [
        alt.Tooltip("intervention:N", title="Intervention"), alt.Tooltip("group:N", title="Class or group"),
        alt.Tooltip("mediator:N", title="Mediator"), alt.Tooltip("axis:N", title="T-helper axis"),
        alt.Tooltip("net:N", title="Net direction"), alt.Tooltip("inc:Q", title="Increases"),
        alt.Tooltip("dec:Q", title="Decreases"), alt.Tooltip("nc:Q", title="No change"),
        alt.Tooltip("mix:Q", title="Mixed"), alt.Tooltip("n_sources:Q", title="Distinct sources"),
        alt.Tooltip("sources:N", title="Sources"),
    ]
    points = alt.Chart(strata).mark_point(filled=True).encode(
        x=x, y=y,
        color=alt.Color("net:N", title="Net direction", scale=alt.Scale(domain=net_domain, range=list(NET_COLOURS.values()))),
        shape=alt.Shape("net:N", title="Net direction", scale=alt.Scale(domain=net_domain, range=list(NET_SHAPES.values()))),
        size=alt.Size("n_sources:Q", title="Distinct sources", scale=alt.Scale(range=[40, 320], zero=False),
                      legend=_count_legend("Distinct sources", most)),
        opacity=alt.condition(cell, alt.value(0.95), alt.value(0.3)),
        # a black outline marks a cell whose findings disagree (same mark, so one dataflow per facet)
        stroke=alt.condition("datum.contested", alt.value("#000000"), alt.value(None)),
        strokeWidth=alt.condition("datum.contested", alt.value(1.5), alt.value(0)),
        tooltip=tooltip,
    ).add_params(cell)
    # Same data source as the points (no extra filter), so the facets share one dataflow branch.
    matrix = cells(points).properties(width=alt.Step(20), height=alt.Step(20)).facet(
        row=alt.Row("group:N", title=None, sort=alt.EncodingSortField("gorder", op="min"),
                    header=alt.Header(labelOrient="top", labelAngle=0, labelAlign="left", labelAnchor="start",
                                      labelFontWeight="bold", labelPadding=2)),
        spacing=4,
    ).resolve_scale(y="independent")

    # The linked table: the strata behind the clicked cell (all cells when none is clicked).
    table_base = alt.Chart(strata).transform_filter(filter_expr).transform_filter(cell).transform_calculate(
        kind="datum.evidence + (datum.species == 'not stated' ? '' : ', ' + datum.species)",
    ).transform_window(
        cell_rank="row_number()", groupby=["intervention", "mediator"],
        sort=[alt.SortField("n", order="descending"), alt.SortField("evidence")],
    ).transform_filter(f"datum.cell_rank <= {EXPLORER_ROWS_PER_CELL}").transform_window(
        row="row_number()", sort=[alt.SortField("gorder"), alt.SortField("intervention"), alt.SortField("morder"),
                                  alt.SortField("mediator"), alt.SortField("cell_rank")],
    )
    # The table shares the matrix's left edge, so it must fit beside the matrix's row labels.
    columns = [("intervention", "Intervention", 110), ("mediator", "Mediator", 75), ("kind", "Evidence, species", 125),
               ("summary", "Findings", 95), ("src_label", "Sources", 160)]
    fields = [c[0] for c in columns]
    offsets = [sum(c[2] for c in columns[:i]) for i in range(len(columns))]
    chars = [max(6, int(c[2] / 6.2)) for c in columns]  # about 6 px per character at 11 px
    body = table_base.transform_filter(f"datum.row <= {EXPLORER_TABLE_ROWS}").transform_fold(
        fields, as_=["column", "value"],
    ).transform_calculate(
        xpos=f"{offsets!r}[indexof({fields!r}, datum.column)]",
        text=f"truncate(datum.value + '', {chars!r}[indexof({fields!r}, datum.column)])",
    ).mark_text(align="left", baseline="middle", fontSize=11).encode(
        x=alt.X("xpos:Q", scale=None, axis=None), y=alt.Y("row:O", axis=None), text="text:N",
    )
    header = alt.Chart(pd.DataFrame({"row": 0, "xpos": offsets, "text": [c[1] for c in columns]})).mark_text(
        align="left", baseline="middle", fontSize=11, fontWeight="bold",
    ).encode(x=alt.X("xpos:Q", scale=None, axis=None), y=alt.Y("row:O", axis=None), text="text:N")
    width = sum(c[2] for c in columns)
    status = table_base.transform_aggregate(total="count()").transform_calculate(
        message=f"'Findings behind the ' + (length(data('cell_store')) ? 'clicked mark' : 'current filters')"
                f" + ': ' + datum.total + (datum.total == 1 ? ' row' : ' rows')"
                f" + (datum.total > {EXPLORER_TABLE_ROWS} ? ' (first {EXPLORER_TABLE_ROWS} shown)' : '')"
                f" + '. Click a mark to narrow, double-click to clear.'",
    ).mark_text(align="left", fontWeight="bold", x=0).encode(text="message:N").properties(width=width, height=20)
    table = alt.concat(status, alt.layer(header, body).properties(width=width, height=alt.Step(18)), columns=1, spacing=4, align="none")

    title = "Evidence explorer: interventions against mediators"
    chart = alt.concat(matrix, table, columns=1, spacing=24, align="none").add_params(p_ev, p_sp, p_cl, p_fam).properties(
        title=alt.TitleParams(title, anchor="start"),
    ).configure_view(stroke=None).configure_legend(orient="top", direction="vertical")
    description = (
        f"{int(strata['n'].sum())} findings aggregated into {_plural(len(strata), 'group')} of intervention, "
        "mediator, evidence type and species. Each mark is one intervention (rows, grouped by antidepressant class "
        "or kind of intervention) and one mediator (columns, ordered by T-helper axis). Orange upward triangles: more "
        "findings of increase than decrease; blue downward triangles: more decreases; purple diamonds: as many "
        "increases as decreases; grey circles: only no-change or mixed findings. Mark size is the number of "
        "distinct sources; a black outline marks a cell whose findings disagree. Four labelled menus filter by "
        "evidence type, species, class and mediator family; the table below lists the findings behind the "
        "clicked cell."
    )
    return Figure(chart=chart, title=title, description=description, data=strata)


def explorer_summary():
    """Generated paragraph: what the explorer holds."""
    rows = data.evidence()
    strata = explorer_strata(rows)
    cells = strata.groupby(["intervention", "mediator"]).size()
    ad = _antidepressant_rows(rows)
    return markdown(
        f"The explorer draws on {_plural(len(rows), 'finding')} covering {_plural(rows['intervention'].nunique(), 'intervention')} "
        f"and conditions and {_plural(rows['mediator'].nunique(), 'mediator')}, which fill {_plural(len(cells), 'cell')} "
        f"of the matrix. Of these findings, {len(ad)} concern the {len(set(ad['drug_class']))} antidepressant and "
        f"mood-stabiliser classes. The page embeds {_plural(len(strata), 'aggregated row')}, not the findings themselves."
    )


# ---------------------------------------------------------------------------
# 2. Evidence-gap map


def _mix(types: set[str]) -> str:
    clinical = "clinical" in types
    experimental = bool(types & set(EXPERIMENTAL_TYPES))
    if clinical and experimental:
        return "Clinical and experimental"
    if clinical:
        return "Clinical only"
    if experimental:
        return "Experimental only"
    return "Type not stated"


def _panel_mediators(mediators: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    studied = set(rows["mediator"])
    panel = mediators[mediators["family"].isin(PANEL_FAMILIES) | mediators["name"].isin(studied)]
    return panel.assign(
        axis_order=panel["th_axis"].map({a: i for i, a in enumerate(TH_AXES)}).fillna(len(TH_AXES)),
        in_panel=panel["family"].isin(PANEL_FAMILIES),
    ).sort_values(["axis_order", "name"])


def gap_map_table() -> pd.DataFrame:
    """Every antidepressant class × mediator cell of the gap map, empty cells included.

    Columns: drug_class, mediator, th_axis, family, n_findings, n_sources, one count per
    evidence type, and mix (the evidence-type mix; '' for an empty cell)."""
    rows = _antidepressant_rows(data.evidence())
    mediators = data.vocabulary(name="mediators")
    panel = _panel_mediators(mediators, rows)
    rows = rows.assign(source_ids=row_sources(rows))
    cells = []
    for drug_class in ANTIDEPRESSANT_CLASSES:
        for _, mediator in panel.iterrows():
            part = rows[(rows["drug_class"] == drug_class) & (rows["mediator"] == mediator["name"])]
            types = part["evidence_type"].value_counts()
            cells.append({
                "drug_class": drug_class, "mediator": mediator["name"], "th_axis": mediator["th_axis"],
                "family": mediator["family"], "axis_order": int(mediator["axis_order"]),
                "n_findings": len(part),
                "n_sources": len({s for cell in part["source_ids"] for s in cell}),
                **{f"n_{t}": int(types.get(t, 0)) for t in data.EVIDENCE_TYPES},
                "mix": _mix(set(part["evidence_type"])) if len(part) else "",
                "sources": "; ".join(sorted({s for cell in part["source_ids"] for s in cell})),
            })
    return pd.DataFrame(cells)


ARM_TITLES = {"Th1", "Th2", "Th17", "Treg", "Innate"}


def gap_map() -> Figure:
    """Class × mediator bubble map: size = distinct sources, colour and shape = evidence mix."""
    table = gap_map_table()
    ids = {s for cell in table["sources"] for s in data.split_list(cell)}
    labels = source_labels(ids)
    table = table.assign(
        axis_label=table["th_axis"].map(TH_AXIS_LABELS),
        source_names=[_capped([labels[s] for s in data.split_list(c)]) for c in table["sources"]],
        types=[", ".join(f"{data.EVIDENCE_TYPE_LABELS[t].lower()} {r[f'n_{t}']}" for t in data.EVIDENCE_TYPES
                         if r[f"n_{t}"]) for _, r in table.iterrows()],
    )
    # Embedded compactly: one row per mediator, with its filled cells as a list; the empty grid
    # is drawn by flattening the list of classes, so empty cells cost nothing per cell.
    cell_fields = ["drug_class", "n_sources", "n_findings", "mix", "types", "source_names"]
    embedded = pd.DataFrame([
        {"mediator": mediator, "axis_label": part["axis_label"].iat[0], "classes": ANTIDEPRESSANT_CLASSES,
         "cells": part.loc[part["n_findings"] > 0, cell_fields].to_dict("records"), "n": int(part["n_findings"].sum())}
        for mediator, part in table.groupby("mediator", sort=False)
    ])
    axis_sort = [TH_AXIS_LABELS[a] for a in TH_AXES]
    y = alt.Y("mediator:N", title=None, sort="ascending")
    x_axis = alt.Axis(orient="top", labelAngle=-40)
    grid = alt.Chart().transform_flatten(["classes"], as_=["drug_class"]).mark_rect(
        fill="#F2F2F2", stroke="#FFFFFF", strokeWidth=2,
    ).encode(x=alt.X("drug_class:N", title=None, sort=ANTIDEPRESSANT_CLASSES, axis=x_axis), y=y,
             tooltip=[alt.Tooltip("drug_class:N", title="Class"), alt.Tooltip("mediator:N", title="Mediator")])
    mix_domain = list(MIX_COLOURS)
    bubbles = alt.Chart().transform_flatten(["cells"], as_=["cell"]).transform_calculate(
        **{name: f"datum.cell.{name}" for name in cell_fields},
    ).mark_point(filled=True, opacity=0.9).encode(
        x=alt.X("drug_class:N", title=None, sort=ANTIDEPRESSANT_CLASSES, axis=x_axis), y=y,
        size=alt.Size("n_sources:Q", scale=alt.Scale(range=[40, 380], zero=False),
                      legend=_count_legend("Distinct sources", table["n_sources"].max())),
        color=alt.Color("mix:N", title="Evidence mix", scale=alt.Scale(domain=mix_domain, range=list(MIX_COLOURS.values()))),
        shape=alt.Shape("mix:N", title="Evidence mix", scale=alt.Scale(domain=mix_domain, range=list(MIX_SHAPES.values()))),
        tooltip=[
            alt.Tooltip("drug_class:N", title="Class"), alt.Tooltip("mediator:N", title="Mediator"),
            alt.Tooltip("n_sources:Q", title="Distinct sources"), alt.Tooltip("n_findings:Q", title="Findings"),
            alt.Tooltip("types:N", title="Evidence types"), alt.Tooltip("mix:N", title="Mix"),
            alt.Tooltip("source_names:N", title="Sources"),
        ],
    )
    panels = [
        alt.layer(grid.transform_filter(alt.datum.axis_label == axis), bubbles.transform_filter(alt.datum.axis_label == axis),
                  data=embedded).properties(
            width=alt.Step(40), height=alt.Step(17),
            title=alt.TitleParams(f"{axis} mediators" if axis in ARM_TITLES else axis, anchor="start",
                                  fontSize=13, fontWeight="bold"),
        )
        for axis in axis_sort if axis in set(embedded["axis_label"])
    ]
    chart = alt.vconcat(*panels, spacing=8).resolve_scale(x="shared").configure_view(stroke=None)
    filled = int((table["n_findings"] > 0).sum())
    title = "Evidence-gap map: antidepressant classes against mediators"
    description = (
        f"{len(ANTIDEPRESSANT_CLASSES)} classes (columns) against {table['mediator'].nunique()} mediators (rows, grouped "
        f"by T-helper axis): {filled} of {len(table)} cells hold at least one finding; every other cell is an empty grey "
        "square, a gap. Bubble size is the number of distinct sources; colour and shape give the evidence mix: blue "
        "circles clinical only, green squares clinical and experimental, orange diamonds experimental only (in vivo, "
        "ex vivo or in vitro), grey crosses evidence type not stated. All cytokines, chemokines and CRP are listed "
        "even when no class has data on them."
    )
    return Figure(chart=chart, title=title, description=description, data=embedded)


def gap_findings() -> dict[str, object]:
    """The largest gaps, as data: used by :func:`gap_summary` and the tests."""
    table = gap_map_table()
    rows = _antidepressant_rows(data.evidence())
    cyto = rows[rows["family"].isin(CYTOKINE_FAMILIES)]
    clinical_cyto = set(cyto.loc[cyto["evidence_type"] == "clinical", "drug_class"])
    panel = table[table["family"].isin(PANEL_FAMILIES)]
    by_mediator = panel.groupby("mediator")["n_findings"].sum()
    # The most-studied mediators across classes, and the classes that lack each of them.
    studied = (table.groupby("mediator")["n_sources"].sum().sort_values(ascending=False))
    core = [m for m in studied.index if studied[m] > 0][:5]
    missing_core = {m: [c for c in ANTIDEPRESSANT_CLASSES
                        if not table[(table["drug_class"] == c) & (table["mediator"] == m)]["n_findings"].iat[0]]
                    for m in core}
    per_class = table.groupby("drug_class", sort=False).agg(
        cells=("n_findings", lambda s: int((s > 0).sum())), sources=("n_sources", "sum"),
    )
    unstated_only = table[table["mix"] == "Type not stated"]
    return {
        "no_clinical_cytokine": [c for c in ANTIDEPRESSANT_CLASSES if c not in clinical_cyto],
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
        f"Of the {gaps['cells']} class–mediator cells on the map, {gaps['filled']} hold any finding.",
    ]
    if gaps["no_clinical_cytokine"]:
        parts.append(
            f"**{_plural(len(gaps['no_clinical_cytokine']), 'class', 'classes')} have no clinical cytokine, chemokine "
            f"or CRP data at all**: {escape_markdown(gaps['no_clinical_cytokine'])}; what is known about them comes "
            "from animals, cells or statements whose evidence type the source does not give."
        )
    sparse = [f"{c} ({_plural(int(per_class.loc[c, 'cells']), 'cell')})" for c in gaps["sparsest"]]
    parts.append(f"The thinnest classes are {escape_markdown(_and_list(sparse))}.")
    missing = [f"{m} (missing for {escape_markdown(_and_list(cs))})" for m, cs in gaps["missing_core"].items() if cs]
    if missing:
        parts.append(
            "Even the most-studied mediators leave holes: " + "; ".join(missing) + "."
        )
    if gaps["unstudied_panel"]:
        parts.append(
            f"No antidepressant class has any finding on {len(gaps['unstudied_panel'])} of the listed cytokines, "
            f"chemokines and acute-phase proteins: {escape_markdown(gaps['unstudied_panel'])}."
        )
    if gaps["unstated_only"]:
        parts.append(
            f"A further {_plural(gaps['unstated_only'], 'filled cell')} rest only on findings whose evidence type "
            "the source article does not state."
        )
    return markdown(" ".join(parts))


# ---------------------------------------------------------------------------
# 3. Contested findings

DIRECTION_ORDER = ["decrease", "no_change", "mixed", "increase"]


def contested_pairs(rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every (intervention, mediator) and (antidepressant class, mediator) pair whose findings
    point in more than one direction.

    ``level`` is 'intervention' or 'class' (a class pools its drugs and its class entry).
    ``kind`` is 'opposite' when both increases and decreases are reported, else 'partial'
    (a change against no change, or a mixed result beside a clear one)."""
    rows = data.evidence() if rows is None else rows
    columns = ["level", "subject", "mediator", "kind", "directions", "n_findings", "n_sources", "interventions",
               *[f"n_{d}" for d in DIRECTION_ORDER], "evidence_types", "samples", "sources", "ids"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows, labels = _with_sources(rows)
    out = []
    levels = [("intervention", rows, "intervention"),
              ("class", rows[rows["drug_class"].isin(ANTIDEPRESSANT_CLASSES)], "drug_class")]
    for level, subset, column in levels:
        for (subject, mediator), part in subset.groupby([column, "mediator"], sort=True):
            directions = set(part["direction"])
            if len(directions) < 2:
                continue
            counts = part["direction"].value_counts()
            by_direction = []
            for d in DIRECTION_ORDER:
                chunk = part[part["direction"] == d]
                if len(chunk):
                    names = sorted({labels[s] for cell in chunk["source_ids"] for s in cell})
                    by_direction.append(f"{data.DIRECTION_LABELS[d]}: {_capped(names)}")
            out.append({
                "level": level, "subject": subject, "mediator": mediator,
                "kind": "opposite" if {"increase", "decrease"} <= directions else "partial",
                "directions": ", ".join(data.DIRECTION_LABELS[d].lower() for d in DIRECTION_ORDER if d in directions),
                "n_findings": len(part),
                "n_sources": len({s for cell in part["source_ids"] for s in cell}),
                "interventions": _capped(sorted(set(part["intervention"])), MAX_LISTED),
                **{f"n_{d}": int(counts.get(d, 0)) for d in DIRECTION_ORDER},
                "evidence_types": " | ".join(
                    f"{data.DIRECTION_LABELS[d]}: " + ", ".join(sorted(set(part.loc[part['direction'] == d, 'evidence_type'].map(data.EVIDENCE_TYPE_LABELS))))
                    for d in DIRECTION_ORDER if d in directions),
                "samples": " | ".join(
                    f"{data.DIRECTION_LABELS[d]}: " + _capped(sorted(set(part.loc[part['direction'] == d, 'sample'])))
                    for d in DIRECTION_ORDER if d in directions),
                "sources": " | ".join(by_direction),
                "ids": _capped(sorted(part["id"]), MAX_LISTED),
            })
    return pd.DataFrame(out, columns=columns)


def _pair_label(level: str, subject: str, mediator: str) -> str:
    return f"{mediator} under {subject}" + (" (class)" if level == "class" else "")


def contested_chart() -> Figure:
    """Each contested pair against the directions reported, sized by findings."""
    pairs = contested_pairs()
    long = []
    for _, p in pairs.iterrows():
        for d in DIRECTION_ORDER:
            if p[f"n_{d}"]:
                long.append({"pair": _pair_label(p["level"], p["subject"], p["mediator"]),
                             "Level": "One intervention" if p["level"] == "intervention" else "Drug class (drugs and class entry)",
                             "order": (0 if p["level"] == "intervention" else 1, p["mediator"], p["subject"]),
                             "Direction": data.DIRECTION_LABELS[d], "n": int(p[f"n_{d}"]), "kind": p["kind"],
                             "evidence": next((s.split(": ", 1)[1] for s in p["evidence_types"].split(" | ")
                                               if s.startswith(data.DIRECTION_LABELS[d] + ":")), "")})
    table = pd.DataFrame(long, columns=["pair", "Level", "order", "Direction", "n", "kind", "evidence"])
    table["order"] = table["order"].rank(method="dense") if len(table) else table["order"]
    domain = [data.DIRECTION_LABELS[d] for d in DIRECTION_ORDER]
    colours = [charts.DIRECTION_COLOURS[d] for d in DIRECTION_ORDER]
    shapes = [charts.DIRECTION_SHAPES[d] for d in DIRECTION_ORDER]
    base = alt.Chart(table).encode(
        y=alt.Y("pair:N", title=None, sort=alt.EncodingSortField("order", op="min"), axis=alt.Axis(labelLimit=260)),
        x=alt.X("Direction:N", title="Reported direction", sort=domain, scale=alt.Scale(domain=domain, paddingOuter=0.3),
                axis=alt.Axis(labelAngle=0, orient="top")),
        tooltip=[alt.Tooltip("pair:N", title="Pair"), "Level:N", "Direction:N", alt.Tooltip("n:Q", title="Findings"),
                 alt.Tooltip("evidence:N", title="Evidence types"), alt.Tooltip("kind:N", title="Disagreement")],
    )
    points = base.mark_point(filled=True, opacity=0.9).encode(
        color=alt.Color("Direction:N", scale=alt.Scale(domain=domain, range=colours)),
        shape=alt.Shape("Direction:N", scale=alt.Scale(domain=domain, range=shapes)),
        size=alt.Size("n:Q", scale=alt.Scale(range=[80, 400], zero=False),
                      legend=_count_legend("Findings", table["n"].max() if len(table) else 1)),
    )
    labels = base.mark_text(dx=16, align="left", fontSize=11).encode(text="n:Q")
    chart = alt.layer(points, labels).properties(width=alt.Step(80), height=alt.Step(24)).configure_view(stroke=None)
    title = "Contested findings: pairs whose sources disagree on direction"
    description = (
        f"{_plural(len(pairs), 'contested pair')} ({int((pairs['level'] == 'intervention').sum())} for single interventions, "
        f"{int((pairs['level'] == 'class').sum())} for drug classes). Each row is a pair; each mark a direction reported for it "
        "(blue downward triangles decreases, grey circles no change, purple diamonds mixed, orange upward triangles "
        "increases), sized and labelled by the number of findings. The table below names the sources."
    )
    return Figure(chart=chart, title=title, description=description, data=table)


def contested_table() -> Table:
    pairs = contested_pairs()
    shown = pd.DataFrame({
        "Level": pairs["level"].map({"intervention": "Intervention", "class": "Class"}),
        "Intervention or class": pairs["subject"],
        "Mediator": pairs["mediator"],
        "Disagreement": pairs["kind"],
        "Directions (findings)": [
            ", ".join(f"{data.DIRECTION_LABELS[d].lower()} {p[f'n_{d}']}" for d in DIRECTION_ORDER if p[f"n_{d}"])
            for _, p in pairs.iterrows()],
        "Evidence types": pairs["evidence_types"],
        "Sources": pairs["sources"],
        "Samples": pairs["samples"],
        "Finding IDs": pairs["ids"],
    })
    return Table(shown, f"Contested pairs with their sources, evidence types and samples ({len(pairs)} pairs)")


def contested_summary():
    pairs = contested_pairs()
    if pairs.empty:
        return markdown("No intervention or class has findings that disagree on direction for the same mediator.")
    single = pairs[pairs["level"] == "intervention"]
    cls = pairs[pairs["level"] == "class"]
    opposite = pairs[pairs["kind"] == "opposite"]
    # Class-level conflicts that appear only when drugs of a class are pooled.
    between = cls[[not (single["subject"].isin(i.split("; ")) & (single["mediator"] == m)).any()
                   for i, m in zip(cls["interventions"], cls["mediator"])]]
    # Conflicts where clinical and non-clinical findings point different ways.
    split_by_type = [
        _pair_label(p["level"], p["subject"], p["mediator"]) for _, p in pairs.iterrows()
        if len({part.split(": ", 1)[1] for part in p["evidence_types"].split(" | ")}) > 1
    ]
    parts = [
        f"The detector finds **{_plural(len(pairs), 'contested pair')}**: {len(single)} for single interventions "
        f"({escape_markdown([_pair_label('intervention', s, m) for s, m in zip(single['subject'], single['mediator'])])}) "
        f"and {len(cls)} for drug classes. In {_plural(len(opposite), 'pair')} some sources report an increase and others "
        "a decrease" + ("; in the rest a change stands against a finding of no change or a mixed result."
                        if len(opposite) < len(pairs) else "."),
    ]
    if len(between):
        parts.append(
            f"{_plural(len(between), 'class-level conflict')} arise only when the drugs of a class are pooled, "
            "because different drugs of the class moved the mediator in different directions: "
            + escape_markdown([f"{m} in the {s} class ({i})" for s, m, i in zip(between['subject'], between['mediator'], between['interventions'])])
            + "."
        )
    if split_by_type:
        parts.append(
            f"In {_plural(len(split_by_type), 'pair')} the disagreeing findings also come from different kinds of evidence "
            f"(clinical, experimental or unstated), so species, model or design may explain part of the conflict: "
            f"{escape_markdown(split_by_type)}."
        )
    return markdown(" ".join(parts))


# ---------------------------------------------------------------------------
# 4. Th1/Th2 balance (vote counting)

SHIFT_LESS = "less inflammatory"
SHIFT_MORE = "more inflammatory"
SHIFT_NONE = "no shift"
ARMS = {"Th1": "Th1 mediators", "Th2": "Th2 mediators"}


def th_votes(rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each antidepressant-class finding on a Th1 or Th2 mediator, with the shift it votes for.

    A pro-inflammatory mediator falling, or an anti-inflammatory one rising, is a vote for a
    less inflammatory state; the reverse is a vote for a more inflammatory one; no change and
    mixed results are 'no shift'.  Mediators the vocabulary calls pleiotropic (IL-6, IL-2) are
    read by their arm, as the Th1/Th2 account does: a Th1 mediator as pro-, a Th2 mediator as
    anti-inflammatory (``role_from_axis`` marks these votes)."""
    rows = _antidepressant_rows(data.evidence() if rows is None else rows)
    rows = rows[rows["th_axis"].isin(list(ARMS))].copy()
    from_axis = ~rows["inflammatory_role"].isin(["pro", "anti"])
    role = rows["inflammatory_role"].where(~from_axis, rows["th_axis"].map({"Th1": "pro", "Th2": "anti"}))
    sign = rows["direction"].map({"increase": 1, "decrease": -1}).fillna(0)
    effect = sign * role.map({"pro": 1, "anti": -1})  # +1 = more inflammatory
    rows["role"] = role
    rows["role_from_axis"] = from_axis
    rows["shift"] = effect.map({1: SHIFT_MORE, -1: SHIFT_LESS}).fillna(SHIFT_NONE)
    rows["arm"] = rows["th_axis"].map(ARMS)
    return rows.reset_index(drop=True)


def th_balance_table() -> pd.DataFrame:
    """Votes per class × arm × evidence type × shift (counts; zero rows omitted)."""
    votes = th_votes()
    table = votes.groupby(["drug_class", "arm", "evidence_type", "shift"]).size().rename("n").reset_index()
    table["Evidence type"] = table["evidence_type"].map(data.EVIDENCE_TYPE_LABELS)
    return table


def th_balance_chart() -> Figure:
    """Diverging bars: votes for a less inflammatory state to the right, more to the left."""
    table = th_balance_table()
    bars = table[table["shift"] != SHIFT_NONE].copy()
    bars["votes"] = bars["n"].where(bars["shift"] == SHIFT_LESS, -bars["n"])
    classes = [c for c in ANTIDEPRESSANT_CLASSES if c in set(table["drug_class"])]
    types = [t for t in data.EVIDENCE_TYPE_LABELS.values() if t in set(bars["Evidence type"])]
    base = alt.Chart(bars).mark_bar(stroke="#FFFFFF", strokeWidth=0.5).encode(
        y=alt.Y("drug_class:N", title=None, sort=classes, scale=alt.Scale(domain=classes)),
        x=alt.X("sum(votes):Q", title=["← more inflammatory · findings ·", "less inflammatory →"],
                axis=alt.Axis(tickMinStep=1, format="d", labelExpr="abs(datum.value)")),
        color=alt.Color("Evidence type:N", sort=types,
                        scale=alt.Scale(domain=types, range=[charts.EVIDENCE_COLOURS[t] for t in types])),
        order=alt.Order("evidence_type:O"),
        tooltip=[alt.Tooltip("drug_class:N", title="Class"), alt.Tooltip("arm:N", title="Arm"),
                 alt.Tooltip("shift:N", title="Toward"), "Evidence type:N", alt.Tooltip("n:Q", title="Findings")],
    )
    rule = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#000000", aria=False).encode(x="x:Q")
    panels = [
        alt.layer(base.transform_filter(alt.datum.arm == arm).encode(
            y=alt.Y("drug_class:N", title=None, sort=classes, scale=alt.Scale(domain=classes),
                    axis=alt.Axis(labels=i == 0, ticks=i == 0))), rule).properties(
            width=210, height=alt.Step(22), title=alt.TitleParams(arm, anchor="middle"))
        for i, arm in enumerate(ARMS.values())
    ]
    chart = alt.hconcat(*panels, spacing=20).resolve_scale(x="shared").configure_legend(orient="bottom", direction="horizontal").configure_view(stroke=None)
    total = int(table["n"].sum())
    title = "Th1/Th2 balance by class (vote count)"
    description = (
        f"Vote count of {total} findings on Th1 or Th2 mediators under antidepressant classes (rows). Bars to the right of "
        "the zero line count findings that moved the mediator toward a less inflammatory state (a Th1 mediator falling "
        "or a Th2 mediator rising); bars to the left count moves toward a more inflammatory state. The left panel "
        "holds Th1 mediators, the right panel Th2 mediators; colours split each bar by evidence type. Findings of no "
        "change are listed in the table, not drawn. Counts of findings, not effect sizes."
    )
    return Figure(chart=chart, title=title, description=description, data=table)


def th_balance_counts() -> pd.DataFrame:
    """Per class: Th1 down/up, Th2 up/down, no-shift votes and the net score."""
    votes = th_votes()
    out = []
    for drug_class in ANTIDEPRESSANT_CLASSES:
        part = votes[votes["drug_class"] == drug_class]
        th1, th2 = part[part["th_axis"] == "Th1"], part[part["th_axis"] == "Th2"]
        row = {
            "drug_class": drug_class,
            "th1_less": int((th1["shift"] == SHIFT_LESS).sum()), "th1_more": int((th1["shift"] == SHIFT_MORE).sum()),
            "th2_less": int((th2["shift"] == SHIFT_LESS).sum()), "th2_more": int((th2["shift"] == SHIFT_MORE).sum()),
            "no_shift": int((part["shift"] == SHIFT_NONE).sum()),
            "clinical": int((part["evidence_type"] == "clinical").sum()),
            "total": len(part),
        }
        row["net"] = row["th1_less"] + row["th2_less"] - row["th1_more"] - row["th2_more"]
        out.append(row)
    return pd.DataFrame(out)


def th_balance_counts_table() -> Table:
    counts = th_balance_counts()
    shown = pd.DataFrame({
        "Class": counts["drug_class"],
        "Th1 toward less inflammatory": counts["th1_less"], "Th1 toward more inflammatory": counts["th1_more"],
        "Th2 toward less inflammatory": counts["th2_less"], "Th2 toward more inflammatory": counts["th2_more"],
        "No shift": counts["no_shift"], "Of which clinical": counts["clinical"], "Total findings": counts["total"],
        "Net (less − more)": counts["net"],
    })
    return Table(shown, "Th1/Th2 vote counts per class")


def th_balance_summary():
    counts = th_balance_counts()
    votes = th_votes()
    with_data = counts[counts["total"] > 0]
    supports = with_data[(with_data["net"] > 0)]
    against = with_data[(with_data["net"] < 0)]
    th2_more = counts[counts["th2_more"] > 0]
    clinical = votes[votes["evidence_type"] == "clinical"]
    c_less = int((clinical["shift"] == SHIFT_LESS).sum())
    c_more = int((clinical["shift"] == SHIFT_MORE).sum())
    pleio = votes[votes["role_from_axis"]]
    balanced = with_data[with_data["net"] == 0]
    parts = [f"The count covers {_plural(len(votes), 'finding')} on Th1 or Th2 mediators across "
             f"{_plural(len(with_data), 'class', 'classes')}."]
    missing = [c for c in ANTIDEPRESSANT_CLASSES if c not in set(with_data["drug_class"])]
    if missing:
        parts.append(f"No such finding exists for {escape_markdown(missing)}.")
    lean = [f"toward a less inflammatory state in {_plural(len(supports), 'class', 'classes')} "
            f"({escape_markdown(supports['drug_class'].tolist())})" if len(supports) else ""]
    if len(against):
        lean.append(f"toward a more inflammatory state in {_plural(len(against), 'class', 'classes')} "
                    f"({escape_markdown(against['drug_class'].tolist())})")
    lean = [x for x in lean if x]
    if lean:
        parts.append("The net vote leans " + " and ".join(lean) + (
            f"; it is even for {escape_markdown(balanced['drug_class'].tolist())}." if len(balanced) else "."))
    parts.append(f"Clinical findings alone split {c_less} to {c_more} (toward less against toward more inflammatory).")
    both_down = counts[(counts["th1_less"] > counts["th1_more"]) & (counts["th2_more"] > counts["th2_less"])]
    if len(both_down):
        parts.append(
            f"In the {escape_markdown(_and_list(both_down['drug_class'].tolist()))} "
            f"{'class' if len(both_down) == 1 else 'classes'} the Th1 and the Th2 mediators both mostly fall: "
            "the votes describe a dampening of both arms rather than a shift from Th1 to Th2."
        )
    if len(th2_more):
        parts.append(
            "Findings that lower a Th2 mediator, against the Th2-up half of the story, appear under "
            + escape_markdown([f"{c} ({n})" for c, n in zip(th2_more['drug_class'], th2_more['th2_more'])]) + "."
        )
    if len(pleio):
        parts.append(
            f"{_plural(len(pleio), 'vote')} come from mediators the vocabulary calls pleiotropic "
            f"({escape_markdown(sorted(set(pleio['mediator'])))}), read here by their T-helper arm."
        )
    return markdown(" ".join(parts))


# ---------------------------------------------------------------------------
# 5. Meta-analyses against the review

COMPARISON_LABELS = {
    "treatment_pre_post": "After vs before antidepressant treatment",
    "responders_vs_nonresponders": "Responders vs non-responders (baseline)",
    "mdd_vs_controls": "MDD vs controls",
    "anti_cytokine_vs_placebo": "Anti-cytokine drugs vs placebo (depressive symptoms)",
}
MA_DIRECTION_LABELS = {"decrease": "Decrease", "increase": "Increase", "no_change": "No change",
                       "not_reported": "Not reported"}


def scope_label(scope: str) -> str:
    """The short label that opens a scope ('SSRIs only; MDD, …' -> 'SSRIs only')."""
    return scope.split(";")[0].strip()


def meta_analyses() -> pd.DataFrame:
    """``data/meta_analyses.csv`` with numeric columns as numbers and a readable source label."""
    table = data.table(name="meta_analyses")
    for column in ("effect", "ci_low", "ci_high", "i_squared"):
        table[column] = pd.to_numeric(table[column].replace("", None), errors="coerce")
    labels = data.citation_labels(keys=sorted(set(table["citation"])))
    table["source"] = table["citation"].map(lambda k: labels.get(k, {}).get("label", k))
    return table


def forest_plot(comparisons: tuple[str, ...] = ("treatment_pre_post",)) -> Figure:
    """Pooled effects per mediator with confidence intervals where reported."""
    ma = meta_analyses()
    ma = ma[ma["comparison"].isin(comparisons)]
    plotted = ma[ma["effect"].notna()].copy()
    plotted["row"] = plotted["source"] + " · " + plotted["scope"].map(scope_label)
    if len(comparisons) > 1:  # panels are then comparisons, so name the mediator in each row
        plotted["row"] = plotted["mediator"] + " · " + plotted["row"]
    plotted["Direction"] = plotted["direction"].map(MA_DIRECTION_LABELS)
    plotted["Comparison"] = plotted["comparison"].map(COMPARISON_LABELS)
    plotted["significance"] = plotted["significant"].map({"yes": "Significant", "no": "Not significant",
                                                           "unclear": "Unclear"})
    plotted["ci"] = [f"{lo:.2f} to {hi:.2f}" if pd.notna(lo) else "not reported"
                     for lo, hi in zip(plotted["ci_low"], plotted["ci_high"])]
    domain = [MA_DIRECTION_LABELS[d] for d in ("decrease", "no_change", "increase")]
    colours = [charts.DIRECTION_COLOURS[d] for d in ("decrease", "no_change", "increase")]
    shapes = [charts.DIRECTION_SHAPES[d] for d in ("decrease", "no_change", "increase")]
    y = alt.Y("row:N", title=None, sort=alt.EncodingSortField("effect", op="min"), axis=alt.Axis(labelLimit=230))
    tooltip = [alt.Tooltip("mediator:N", title="Mediator"), alt.Tooltip("source:N", title="Meta-analysis"),
               alt.Tooltip("scope:N", title="Scope"), alt.Tooltip("reported_effect:N", title="As published"),
               alt.Tooltip("effect:Q", title="Harmonised effect", format=".2f"), alt.Tooltip("ci:N", title="95% CI"),
               alt.Tooltip("significance:N", title="Significance"), alt.Tooltip("source_note:N", title="Read from")]
    group_field = "Comparison" if len(comparisons) > 1 else "mediator"
    low = min(0.0, plotted[["effect", "ci_low"]].min().min()) if len(plotted) else -1.0
    high = max(0.0, plotted[["effect", "ci_high"]].max().max()) if len(plotted) else 1.0
    x_scale = alt.Scale(domain=[round(low - 0.1, 1), round(high + 0.1, 1)], nice=False)
    x_title = "Harmonised effect (negative = lower after treatment, or in the first group)"
    direction = dict(
        color=alt.Color("Direction:N", title=["Reported direction", "(filled = significant)"],
                        scale=alt.Scale(domain=domain, range=colours)),
        shape=alt.Shape("Direction:N", title=["Reported direction", "(filled = significant)"],
                        scale=alt.Scale(domain=domain, range=shapes)),
    )
    groups = sorted(plotted[group_field].unique(), key=lambda g: (list(COMPARISON_LABELS.values()).index(g)
                                                                   if g in COMPARISON_LABELS.values() else 0, g))
    panels = []
    for i, group in enumerate(groups):
        part = plotted[plotted[group_field] == group]
        last = i == len(groups) - 1
        x_axis = alt.Axis(title=x_title if last else None, labels=last, ticks=last)
        base = alt.Chart(part).encode(y=y)
        whiskers = base.transform_filter("isValid(datum.ci_low)").mark_rule(color="#333333", strokeWidth=1.5).encode(
            x=alt.X("ci_low:Q", scale=x_scale, axis=x_axis), x2="ci_high:Q", tooltip=tooltip)
        # Every result as a hollow mark; significant ones are filled on top.
        hollow = base.mark_point(filled=False, size=110, strokeWidth=2).encode(
            x=alt.X("effect:Q", scale=x_scale, axis=x_axis), tooltip=tooltip, **direction)
        filled = base.transform_filter("datum.significant == 'yes'").mark_point(filled=True, size=110, opacity=1).encode(
            x=alt.X("effect:Q", scale=x_scale, axis=x_axis), tooltip=tooltip, **direction)
        zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color="#000000", strokeDash=[3, 3], aria=False).encode(
            x=alt.X("zero:Q", scale=x_scale, axis=x_axis))
        # Only layers with marks: an empty layer would leave an unlabelled container for screen readers.
        layers = [zero, hollow]
        if part["ci_low"].notna().any():
            layers.insert(1, whiskers)
        if (part["significant"] == "yes").any():
            layers.append(filled)
        panels.append(alt.layer(*layers).properties(
            width=300, height=alt.Step(18), title=alt.TitleParams(str(group), anchor="start", fontSize=12)))
    chart = alt.vconcat(*panels, spacing=6).resolve_scale(x="shared", color="shared", shape="shared").configure_view(stroke=None)
    not_plotted = ma[ma["effect"].isna()]
    names = " and ".join(COMPARISON_LABELS[c].lower() for c in comparisons)
    title = f"Pooled effects from published meta-analyses: {names}"
    description = (
        f"{_plural(len(plotted), 'pooled result')} with a numeric effect, grouped by "
        f"{'comparison' if group_field == 'Comparison' else 'mediator'}; each row one meta-analysis and scope. The "
        "mark is the effect on one sign convention (negative = lower level after treatment, or in the first group); "
        "the line is its 95% confidence interval where the paper reports one. Filled marks were reported significant, "
        "hollow marks not significant or unclear; blue downward triangles decreases, grey circles no change, orange "
        f"upward triangles increases. {_plural(len(not_plotted), 'further result')} without a numeric effect "
        "appear only in the tables."
    )
    return Figure(chart=chart, title=title, description=description, data=plotted.assign(n=1))


def _net(counts: pd.Series) -> str:
    inc, dec, nc = (int(counts.get(d, 0)) for d in ("increase", "decrease", "no_change"))
    if inc == dec == nc == 0:
        return ""
    if inc > dec and inc >= nc:
        return "increase"
    if dec > inc and dec >= nc:
        return "decrease"
    if nc > max(inc, dec):
        return "no_change"
    return "conflicting"


def _counts_text(counts: pd.Series) -> str:
    text = ", ".join(f"{data.DIRECTION_LABELS[d].lower()} {int(counts.get(d, 0))}"
                     for d in data.DIRECTIONS if counts.get(d, 0))
    return text or "none"


def agreement() -> pd.DataFrame:
    """For each (comparison, mediator) pooled by a meta-analysis: the pooled verdict, the
    review's clinical findings for the same comparison, and whether they agree.

    Review findings compared: antidepressant treatment (every class plus the umbrella
    'antidepressants' entry) for before/after meta-analyses; the MDD-versus-controls findings
    for case-control meta-analyses.  Only clinical findings are compared, since the
    meta-analyses pool clinical studies; findings of other types are shown beside them."""
    ma = meta_analyses()
    rows = data.evidence()
    treated = rows[rows["drug_class"].isin(ANTIDEPRESSANT_CLASSES) | (rows["intervention"] == UMBRELLA)]
    review_sets = {"treatment_pre_post": treated,
                   "mdd_vs_controls": rows[rows["intervention"] == "major depressive disorder"]}
    out = []
    for (comparison, mediator), part in ma.groupby(["comparison", "mediator"], sort=False):
        part = part[part["direction"] != "not_reported"]
        pooled = sorted(set(part["direction"]))
        pooled_text = "; ".join(f"{MA_DIRECTION_LABELS[d].lower()} ({', '.join(sorted(set(part.loc[part['direction'] == d, 'source'])))})"
                                for d in ("decrease", "no_change", "increase") if d in pooled)
        # One vote per meta-analysis: its main result, or its subgroup results when it has no main one.
        votes = {}
        for citation, own in part.groupby("citation"):
            main = own[~own["scope"].map(scope_label).str.contains("subgroup")]
            directions = set((main if len(main) else own)["direction"])
            votes[citation] = directions.pop() if len(directions) == 1 else "inconsistent"
        tally = pd.Series(list(votes.values())).value_counts()
        tally = tally.drop("inconsistent", errors="ignore")
        if tally.empty or (len(tally) > 1 and tally.iloc[0] == tally.iloc[1]):
            consensus = "inconsistent"
        else:
            consensus = tally.index[0]
        share = f"{int(tally.get(consensus, 0))} of {_plural(len(votes), 'meta-analysis', 'meta-analyses')}"
        subset = review_sets.get(comparison)
        if subset is None:
            review_clinical, review_other, verdict = "", "", "not assessed"
            reason = "the review's data have no findings of this kind"
        else:
            mediator_rows = subset[subset["mediator"] == mediator]
            clinical = mediator_rows[mediator_rows["evidence_type"] == "clinical"]["direction"].value_counts()
            other = mediator_rows[mediator_rows["evidence_type"] != "clinical"]["direction"].value_counts()
            review_clinical, review_other = _counts_text(clinical), _counts_text(other)
            net = _net(clinical)
            said = net.replace("_", " ")
            if not net:
                verdict, reason = "not assessed", "no clinical finding in the review's data"
            elif net == "conflicting":
                verdict, reason = "partly", "the review's clinical findings conflict"
            elif consensus == "inconsistent":
                verdict = "partly" if net in pooled else "disagrees"
                reason = f"review {said}; the meta-analyses are split"
            elif net == consensus:
                verdict, reason = "agrees", f"both {said} ({share})"
            else:
                verdict, reason = "disagrees", f"review {said}, pooled {consensus.replace('_', ' ')} ({share})"
        out.append({"comparison": comparison, "mediator": mediator, "pooled": pooled_text, "consensus": consensus,
                    "review_clinical": review_clinical, "review_other": review_other,
                    "verdict": verdict, "reason": reason, "n_results": len(part)})
    table = pd.DataFrame(out)
    order = {c: i for i, c in enumerate(COMPARISON_LABELS)}
    return table.sort_values(["comparison", "mediator"], key=lambda s: s.map(order) if s.name == "comparison" else s
                             ).reset_index(drop=True)


def agreement_table() -> Table:
    table = agreement()
    shown = pd.DataFrame({
        "Comparison": table["comparison"].map(COMPARISON_LABELS),
        "Mediator": table["mediator"],
        "Pooled direction (meta-analyses)": table["pooled"],
        "Review: clinical findings": table["review_clinical"],
        "Review: other findings": table["review_other"],
        "Verdict": table["verdict"],
        "Why": table["reason"],
    })
    return Table(shown, "Do the review's findings agree with the pooled evidence?")


def meta_table() -> Table:
    ma = meta_analyses()
    shown = pd.DataFrame({
        "ID": ma["id"], "Meta-analysis": ma["source"], "Mediator": ma["mediator"],
        "Comparison": ma["comparison"].map(COMPARISON_LABELS), "Scope": ma["scope"],
        "Studies": ma["n_studies"], "Participants": ma["n_participants"],
        "Counts refer to": ma["n_scope"].map({"outcome": "this mediator", "meta_analysis": "whole meta-analysis"}),
        "As published": ma["reported_effect"], "Published sign": ma["sign_convention"],
        "Harmonised effect": ma["effect"].map(lambda v: "" if pd.isna(v) else f"{v:.3g}"),
        "Direction": ma["direction"].map(MA_DIRECTION_LABELS), "Significant": ma["significant"],
        "Read from": ma["source_note"], "Note": ma["note"],
    })
    return Table(shown, f"Pooled results of published meta-analyses ({len(ma)} results)",
                 links={"Meta-analysis": ma["citation"].map(citations.reference_href)})


def meta_summary():
    table = agreement()
    ma = meta_analyses()
    counts = table["verdict"].value_counts()
    parts = [
        f"The table holds {_plural(len(ma), 'pooled result')} from {_plural(ma['citation'].nunique(), 'meta-analysis', 'meta-analyses')} "
        f"on {_plural(ma['mediator'].nunique(), 'mediator')}. Compared mediator by mediator, the review's clinical findings "
        f"agree with the pooled direction for {counts.get('agrees', 0)}, partly agree for {counts.get('partly', 0)}, "
        f"disagree for {counts.get('disagrees', 0)} and cannot be compared for {counts.get('not assessed', 0)}.",
    ]
    disagree = table[table["verdict"] == "disagrees"]
    if len(disagree):
        parts.append("Disagreements: " + escape_markdown(
            [f"{m} ({COMPARISON_LABELS[c]}: {r})" for c, m, r in zip(disagree['comparison'], disagree['mediator'], disagree['reason'])]
        ) + ".")
    unassessed = table[(table["verdict"] == "not assessed") & (table["comparison"] == "treatment_pre_post")]
    if len(unassessed):
        parts.append(
            "Pooled treatment effects exist for mediators on which the review's data hold no clinical treatment finding: "
            + escape_markdown(unassessed["mediator"].tolist()) + "."
        )
    return markdown(" ".join(parts))
