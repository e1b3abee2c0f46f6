"""Page 1 of the synthesis: the evidence explorer (every stratum of the evidence, filterable)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ... import data
from ...render import Figure, markdown
from ..counts import sources_phrase
from .common import (
    EFFECT_CLAIMS,
    EXPLORER_ROWS_PER_CELL,
    EXPLORER_TABLE_ROWS,
    MAX_LABELS,
    NET_COLOURS,
    NET_SHAPES,
    _antidepressant_rows,
    _capped,
    _class_group,
    _count_legend,
    _effects,
    _plural,
    _with_sources,
    antidepressant_classes,
    kind_groups,
    th_axes,
)

# ---------------------------------------------------------------------------
# 1. Evidence explorer


def explorer_strata(rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per claim type × intervention × mediator × evidence type × species: distinct
    sources by direction (``n_inc`` …), distinct sources (``n``), rows (``n_rows``) and the
    sources.  This aggregate, not the rows, is what the explorer page embeds."""
    rows = data.evidence() if rows is None else rows
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
        "src_label",
        "summary",
    ]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows, labels = _with_sources(rows)
    rows = rows.assign(
        claim=rows["claim_type"].map(data.claim_type_labels()),
        group=_class_group(rows),
        evidence=rows["evidence_type"].map(data.evidence_type_labels()),
        species_label=rows["species"].where(rows["species"] != "", "not stated"),
        source_label=rows["source_id"].map(labels),
    )
    keys = [
        "claim",
        "group",
        "intervention",
        "mediator",
        "family",
        "th_axis",
        "evidence",
        "species_label",
    ]
    grouped = rows.groupby(keys, sort=True)
    by_direction = rows.pivot_table(
        index=keys, columns="direction", values="source_id", aggfunc="nunique", fill_value=0
    ).reindex(columns=data.directions(), fill_value=0)
    distinct = rows[[*keys, "source_label"]].drop_duplicates().sort_values([*keys, "source_label"])
    table = pd.DataFrame(
        {
            "n": grouped["source_id"].nunique(),
            "n_rows": grouped.size(),
            "src": distinct.groupby(keys)["source_label"].agg(list),
        }
    )
    for column, direction in (
        ("n_inc", "increase"),
        ("n_dec", "decrease"),
        ("n_nc", "no_change"),
        ("n_mix", "mixed"),
        ("n_unsp", "changed_unspecified"),
    ):
        table[column] = by_direction[direction].astype(int)
    table["src_label"] = table["src"].map(_capped)
    table = table.reset_index().rename(columns={"th_axis": "axis", "species_label": "species"})
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


def _select(name: str, label: str, options: list[str], value: str) -> alt.Parameter:
    return alt.param(
        name=name, value=value, bind=alt.binding_select(options=["All", *options], name=f"{label} ")
    )


def explorer(default_family: str = "cytokine") -> Figure:
    """The interactive evidence matrix with four labelled filters and a linked table."""
    strata = explorer_strata()
    families = sorted(strata["family"].unique())
    if default_family not in families:
        default_family = "All"
    classes = antidepressant_classes()
    groups = [
        g for g in classes + list(kind_groups().values()) + ["Other"] if g in set(strata["group"])
    ]
    claims = [c for c in data.claim_type_labels().values() if c in set(strata["claim"])]
    default_claim = data.claim_type_labels()[EFFECT_CLAIMS[0]]
    p_claim = _select(
        "claim_filter", "Claim type", claims, default_claim if default_claim in claims else "All"
    )
    species = sorted(strata["species"].unique(), key=lambda s: (s == "not stated", s))
    types = [t for t in data.evidence_type_labels().values() if t in set(strata["evidence"])]
    p_ev = _select("evidence_filter", "Evidence type", types, "All")
    p_sp = _select("species_filter", "Species", species, "All")
    p_cl = _select("class_filter", "Class or group", ["All antidepressant classes", *groups], "All")
    p_fam = _select("family_filter", "Mediator family", families, default_family)
    cell = alt.selection_point(
        name="cell", fields=["intervention", "mediator"], on="click", clear="dblclick"
    )
    filter_expr = (
        "(claim_filter == 'All' || datum.claim == claim_filter)"
        " && (evidence_filter == 'All' || datum.evidence == evidence_filter)"
        " && (species_filter == 'All' || datum.species == species_filter)"
        " && (class_filter == 'All' || datum.group == class_filter"
        f" || (class_filter == 'All antidepressant classes' && indexof({classes!r}, datum.group) >= 0))"
        " && (family_filter == 'All' || datum.family == family_filter)"
    )
    cell_keys = [
        "group",
        "gorder",
        "intervention",
        "mediator",
        "mlabel",
        "morder",
        "axis",
        "family",
    ]
    net = (
        "datum.inc > datum.dec ? 'Net increase' : datum.dec > datum.inc ? 'Net decrease' : "
        "datum.inc > 0 ? 'Balanced (conflicting)' : (datum.nc + datum.mix) > 0 ? 'No change or mixed' : "
        "'Changed, direction not stated'"
    )

    def cells(chart):
        return (
            chart.transform_filter(filter_expr)
            .transform_calculate(
                k="length(datum.src)",
                w_inc="datum.n_inc / length(datum.src)",
                w_dec="datum.n_dec / length(datum.src)",
                w_nc="datum.n_nc / length(datum.src)",
                w_mix="datum.n_mix / length(datum.src)",
                w_unsp="datum.n_unsp / length(datum.src)",
            )
            .transform_flatten(["src"], as_=["source"])
            .transform_aggregate(
                # one row per cell and source: each stratum's counts are spread over its sources, then summed back
                s_inc="sum(w_inc)",
                s_dec="sum(w_dec)",
                s_nc="sum(w_nc)",
                s_mix="sum(w_mix)",
                s_unsp="sum(w_unsp)",
                groupby=[*cell_keys, "source"],
            )
            .transform_aggregate(
                t_inc="sum(s_inc)",
                t_dec="sum(s_dec)",
                t_nc="sum(s_nc)",
                t_mix="sum(s_mix)",
                t_unsp="sum(s_unsp)",
                n_sources="count()",
                vals="values(source)",
                groupby=cell_keys,
            )
            .transform_calculate(
                inc="round(datum.t_inc)",
                dec="round(datum.t_dec)",
                nc="round(datum.t_nc)",
                mix="round(datum.t_mix)",
                unsp="round(datum.t_unsp)",
            )
            .transform_calculate(
                n="datum.inc + datum.dec + datum.nc + datum.mix + datum.unsp",
                net=net,
                contested="(datum.inc > 0) + (datum.dec > 0) + (datum.nc > 0) + (datum.mix > 0) > 1",
                sources=f"join(slice(pluck(datum.vals, 'source'), 0, {MAX_LABELS}), '; ')"
                f" + (datum.n_sources > {MAX_LABELS} ? '; and ' + (datum.n_sources - {MAX_LABELS}) + ' more' : '')",
            )
        )

    net_domain = list(NET_COLOURS)
    most = int(
        strata.groupby(["intervention", "mediator"])["src"]
        .agg(lambda s: len({x for c in s for x in c}))
        .max()
        or 1
    )
    x = alt.X(
        "mlabel:N",
        title="Mediator (T-helper axis)",
        sort=alt.EncodingSortField("morder", op="min"),
        axis=alt.Axis(labelAngle=-50, orient="top", labelLimit=160),
    )
    y = alt.Y("intervention:N", title=None, sort="ascending", axis=alt.Axis(labelLimit=130))
    tooltip = [
        alt.Tooltip("intervention:N", title="Intervention"),
        alt.Tooltip("group:N", title="Class or group"),
        alt.Tooltip("mediator:N", title="Mediator"),
        alt.Tooltip("axis:N", title="T-helper axis"),
        alt.Tooltip("net:N", title="Net direction"),
        alt.Tooltip("inc:Q", title="Increases"),
        alt.Tooltip("dec:Q", title="Decreases"),
        alt.Tooltip("nc:Q", title="No change"),
        alt.Tooltip("mix:Q", title="Mixed"),
        alt.Tooltip("unsp:Q", title="Changed, direction not stated"),
        alt.Tooltip("n_sources:Q", title="Distinct sources"),
        alt.Tooltip("sources:N", title="Sources"),
    ]
    points = (
        alt.Chart(strata)
        .mark_point(filled=True)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "net:N",
                title="Net direction",
                scale=alt.Scale(domain=net_domain, range=list(NET_COLOURS.values())),
            ),
            shape=alt.Shape(
                "net:N",
                title="Net direction",
                scale=alt.Scale(domain=net_domain, range=list(NET_SHAPES.values())),
            ),
            size=alt.Size(
                "n_sources:Q",
                title="Distinct sources",
                scale=alt.Scale(range=[40, 320], zero=False),
                legend=_count_legend("Distinct sources", most),
            ),
            opacity=alt.condition(cell, alt.value(0.95), alt.value(0.3)),
            # a black outline marks a cell whose findings disagree (same mark, so one dataflow per facet)
            stroke=alt.condition("datum.contested", alt.value("#000000"), alt.value(None)),
            strokeWidth=alt.condition("datum.contested", alt.value(1.5), alt.value(0)),
            tooltip=tooltip,
        )
        .add_params(cell)
    )
    # Same data source as the points (no extra filter), so the facets share one dataflow branch.
    matrix = (
        cells(points)
        .properties(width=alt.Step(20), height=alt.Step(20))
        .facet(
            row=alt.Row(
                "group:N",
                title=None,
                sort=alt.EncodingSortField("gorder", op="min"),
                header=alt.Header(
                    labelOrient="top",
                    labelAngle=0,
                    labelAlign="left",
                    labelAnchor="start",
                    labelFontWeight="bold",
                    labelPadding=2,
                ),
            ),
            spacing=4,
        )
        .resolve_scale(y="independent")
    )

    # The linked table: the strata behind the clicked cell (all cells when none is clicked).
    table_base = (
        alt.Chart(strata)
        .transform_filter(filter_expr)
        .transform_filter(cell)
        .transform_calculate(
            kind="datum.evidence + (datum.species == 'not stated' ? '' : ', ' + datum.species)",
        )
        .transform_window(
            cell_rank="row_number()",
            groupby=["intervention", "mediator"],
            sort=[alt.SortField("n", order="descending"), alt.SortField("evidence")],
        )
        .transform_filter(f"datum.cell_rank <= {EXPLORER_ROWS_PER_CELL}")
        .transform_window(
            row="row_number()",
            sort=[
                alt.SortField("gorder"),
                alt.SortField("intervention"),
                alt.SortField("morder"),
                alt.SortField("mediator"),
                alt.SortField("cell_rank"),
            ],
        )
    )
    # The table shares the matrix's left edge, so it must fit beside the matrix's row labels.
    columns = [
        ("intervention", "Intervention", 110),
        ("mediator", "Mediator", 75),
        ("kind", "Evidence, species", 125),
        ("summary", "Sources", 95),
        ("src_label", "Cited", 160),
    ]
    fields = [c[0] for c in columns]
    offsets = [sum(c[2] for c in columns[:i]) for i in range(len(columns))]
    chars = [max(6, int(c[2] / 6.2)) for c in columns]  # about 6 px per character at 11 px
    body = (
        table_base.transform_filter(f"datum.row <= {EXPLORER_TABLE_ROWS}")
        .transform_fold(
            fields,
            as_=["column", "value"],
        )
        .transform_calculate(
            xpos=f"{offsets!r}[indexof({fields!r}, datum.column)]",
            text=f"truncate(datum.value + '', {chars!r}[indexof({fields!r}, datum.column)])",
        )
        .mark_text(align="left", baseline="middle", fontSize=11)
        .encode(
            x=alt.X("xpos:Q", scale=None, axis=None),
            y=alt.Y("row:O", axis=None),
            text="text:N",
        )
    )
    header = (
        alt.Chart(pd.DataFrame({"row": 0, "xpos": offsets, "text": [c[1] for c in columns]}))
        .mark_text(
            align="left",
            baseline="middle",
            fontSize=11,
            fontWeight="bold",
        )
        .encode(
            x=alt.X("xpos:Q", scale=None, axis=None), y=alt.Y("row:O", axis=None), text="text:N"
        )
    )
    width = sum(c[2] for c in columns)
    status = (
        table_base.transform_aggregate(total="count()")
        .transform_calculate(
            message=f"'Findings behind the ' + (length(data('cell_store')) ? 'clicked mark' : 'current filters')"
            f" + ': ' + datum.total + (datum.total == 1 ? ' row' : ' rows')"
            f" + (datum.total > {EXPLORER_TABLE_ROWS} ? ' (first {EXPLORER_TABLE_ROWS} shown)' : '')"
            f" + '. Click a mark to narrow, double-click to clear.'",
        )
        .mark_text(align="left", fontWeight="bold", x=0)
        .encode(text="message:N")
        .properties(width=width, height=20)
    )
    table = alt.concat(
        status,
        alt.layer(header, body).properties(width=width, height=alt.Step(18)),
        columns=1,
        spacing=4,
        align="none",
    )

    title = "Evidence explorer: interventions against mediators"
    chart = (
        alt.concat(matrix, table, columns=1, spacing=24, align="none")
        .add_params(p_claim, p_ev, p_sp, p_cl, p_fam)
        .properties(
            title=alt.TitleParams(title, anchor="start"),
        )
        .configure_view(stroke=None)
        .configure_legend(orient="top", direction="vertical")
    )
    description = (
        f"{sources_phrase(data.evidence())} aggregated into {_plural(len(strata), 'group')} of claim type, "
        "intervention, mediator, evidence type and species. Each mark is one intervention (rows, grouped by antidepressant class "
        "or kind of intervention) and one mediator (columns, ordered by T-helper axis). Orange upward triangles: more "
        "sources reporting an increase than a decrease; blue downward triangles: more decreases; purple diamonds: "
        "as many increases as decreases; grey circles: only no-change or mixed results; green squares: a change "
        "whose direction the source does not state. Mark size is the number of distinct sources; a black outline "
        "marks a cell whose results disagree. Five labelled menus filter by claim type (intervention effects by "
        "default), evidence type, species, class and mediator family; the table below lists the results behind "
        "the clicked cell."
    )
    return Figure(chart=chart, title=title, description=description, data=strata)


def explorer_summary():
    """Generated paragraph: what the explorer holds."""
    rows = data.evidence()
    strata = explorer_strata(rows)
    cells = strata.groupby(["intervention", "mediator"]).size()
    ad = _antidepressant_rows(rows)
    effects = _effects(rows)
    return markdown(
        f"The explorer draws on {sources_phrase(rows)} covering {_plural(rows['intervention'].nunique(), 'intervention')} "
        f"and conditions and {_plural(rows['mediator'].nunique(), 'mediator')} or outcomes, which fill "
        f"{_plural(len(cells), 'cell')} of the matrix. Of these, {sources_phrase(ad)} concern the "
        f"{len(set(ad['drug_class']))} antidepressant and mood-stabiliser classes. It opens on the intervention "
        f"effects, {sources_phrase(effects)}; the claim-type menu shows the other rows, which the synthesis pages "
        f"list but do not count. The page embeds {_plural(len(strata), 'aggregated row')}, not the rows themselves."
    )
