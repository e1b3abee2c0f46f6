"""Chart builders used by the chapters: one function per kind of chart, no plotting code in pages.

Charts are drawn from aggregated data (one row per intervention, mediator, direction and
evidence type, with a count), so a page stays small however many rows the evidence grows to.
Direction is encoded by colour *and* shape, with an Okabe-Ito palette that stays
distinguishable for colour-blind readers.
"""

from __future__ import annotations

import json

import altair as alt
import pandas as pd

from .. import data
from ..render import Figure
from . import citations

# Okabe-Ito colours: distinguishable under the common colour-vision deficiencies.
DIRECTION_COLOURS = {
    "increase": "#D55E00",
    "decrease": "#0072B2",
    "no_change": "#6E6E6E",
    "mixed": "#CC79A7",
}
DIRECTION_SHAPES = {
    "increase": "triangle-up",
    "decrease": "triangle-down",
    "no_change": "circle",
    "mixed": "diamond",
}
EVIDENCE_COLOURS = {
    "Clinical": "#0072B2",
    "Preclinical (in vivo)": "#E69F00",
    "Ex vivo": "#009E73",
    "In vitro": "#CC79A7",
    "Unspecified": "#6E6E6E",
}


def _direction_scale(kind: str) -> alt.Scale:
    source = DIRECTION_COLOURS if kind == "colour" else DIRECTION_SHAPES
    return alt.Scale(
        domain=[data.DIRECTION_LABELS[d] for d in data.DIRECTIONS], range=list(source.values())
    )


# Tooltips list at most this many sources and samples per mark ("… and 12 more"): a mark
# stands for ever more findings as the evidence grows, its tooltip must not.
MAX_TOOLTIP_SOURCES = 8
MAX_TOOLTIP_SAMPLES = 6


def _capped_list(items: set[str], limit: int) -> str:
    ordered = sorted(items)
    if len(ordered) <= limit:
        return "; ".join(ordered)
    return "; ".join(ordered[:limit]) + f"; … and {len(ordered) - limit} more"


def _compact_chart(table: pd.DataFrame, columns: list[str]) -> alt.Chart:
    """A chart whose inline data are columnar and dictionary-coded, expanded by Vega-Lite itself.

    One record per mark repeats every field name and label; at 1000× the evidence that was
    most of a page's weight.  Here each column is a list of small integers (or counts) and
    each text column's distinct values appear once, in a ``calculate`` expression; the
    ``flatten`` transform rebuilds the records in the browser, so the chart is unchanged.
    """
    values: dict[str, list] = {}
    calculate: list[tuple[str, str]] = []
    for i, column in enumerate(columns):
        key = f"_c{i}"
        series = table[column]
        if pd.api.types.is_numeric_dtype(series):
            values[key] = [int(v) for v in series]
            calculate.append((column, f"datum.{key}"))
        else:
            codes, uniques = pd.factorize(series.astype(str), sort=True)
            values[key] = codes.tolist()
            calculate.append(
                (column, f"{json.dumps(list(uniques), ensure_ascii=False)}[datum.{key}]")
            )
    chart = alt.Chart(alt.Data(values=[values])).transform_flatten(list(values))
    for column, expression in calculate:
        chart = chart.transform_calculate(as_=column, calculate=expression)
    return chart


def aggregate_findings(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per intervention × mediator × direction × evidence type, with count, sources and samples."""
    columns = ["intervention", "mediator", "direction", "evidence_type"]
    if rows.empty:
        return pd.DataFrame(
            columns=[*columns, "Direction", "Evidence type", "n", "sources", "samples"]
        )
    rows = rows.assign(source=citations.labels(rows["citation"]))
    grouped = (
        rows.groupby(columns, sort=True)
        .agg(
            n=("id", "size"),
            sources=(
                "source",
                lambda s: _capped_list(set("; ".join(s).split("; ")), MAX_TOOLTIP_SOURCES),
            ),
            samples=("sample", lambda s: _capped_list(set(s), MAX_TOOLTIP_SAMPLES)),
        )
        .reset_index()
    )
    grouped["Direction"] = grouped["direction"].map(data.DIRECTION_LABELS)
    grouped["Evidence type"] = grouped["evidence_type"].map(data.EVIDENCE_TYPE_LABELS)
    return grouped


def effects_matrix(rows: pd.DataFrame, title: str, subject: str) -> Figure:
    """Mediators (x) against interventions (y); a mark per direction, one panel per evidence type."""
    table = aggregate_findings(rows)
    n_findings = int(table["n"].sum()) if not table.empty else 0
    description = (
        f"{n_findings} findings on {subject}: each mark is a reported change of a mediator (columns) "
        f"under an intervention or condition (rows); upward orange triangles are increases, downward blue "
        f"triangles decreases, grey circles no change and purple diamonds mixed results; larger marks "
        f"stand for more findings. Panels separate evidence types. The evidence table below lists every finding."
    )
    fields = ["intervention", "mediator", "Direction", "Evidence type", "n", "sources", "samples"]
    chart = (
        _compact_chart(table, fields)
        .mark_point(filled=True, opacity=0.9)
        .encode(
            x=alt.X(
                "mediator:N", title="Mediator", sort="ascending", axis=alt.Axis(labelAngle=-45)
            ),
            y=alt.Y("intervention:N", title=None, sort="ascending"),
            xOffset=alt.XOffset(
                "Direction:N",
                scale=alt.Scale(domain=[data.DIRECTION_LABELS[d] for d in data.DIRECTIONS]),
            ),
            color=alt.Color(
                "Direction:N",
                scale=_direction_scale("colour"),
                legend=alt.Legend(title="Direction"),
            ),
            shape=alt.Shape(
                "Direction:N", scale=_direction_scale("shape"), legend=alt.Legend(title="Direction")
            ),
            size=alt.Size("n:Q", title="Findings", scale=alt.Scale(range=[60, 360]), legend=None),
            row=alt.Row(
                "Evidence type:N",
                title=None,
                sort=list(data.EVIDENCE_TYPE_LABELS.values()),
                header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold"),
            ),
            tooltip=[
                alt.Tooltip("intervention:N", title="Intervention"),
                alt.Tooltip("mediator:N", title="Mediator"),
                alt.Tooltip("Direction:N"),
                alt.Tooltip("Evidence type:N"),
                alt.Tooltip("n:Q", title="Findings"),
                alt.Tooltip("sources:N", title="Sources"),
                alt.Tooltip("samples:N", title="Samples"),
            ],
        )
        .properties(
            # Each mediator's band holds four direction slots (xOffset); a step of 9 px keeps it about 36 px wide.
            width=alt.Step(9),
            height=alt.Step(22),
            title=title,
        )
        .resolve_scale(y="independent")
        .configure_legend(orient="top")
    )
    return Figure(chart=chart, title=title, description=description, data=table)


def class_effects(drug_class: str) -> Figure:
    """Every finding for one antidepressant class, its drugs and its class-level entry."""
    rows = data.evidence(drug_class=drug_class)
    return effects_matrix(
        rows, f"Reported cytokine and mediator changes: {drug_class}", f"the {drug_class} class"
    )


def chapter_effects(chapter: str, title: str) -> Figure:
    """Every finding a chapter discusses (for chapters that are not about one drug class)."""
    return effects_matrix(
        data.evidence(chapter=chapter), title, "this chapter's interventions and conditions"
    )


def condition_effects() -> Figure:
    """Mediators reported altered in conditions (MDD, bipolar disorder …) compared with controls."""
    rows = data.evidence(intervention_kind="condition")
    return effects_matrix(
        rows, "Mediators altered in conditions compared with controls", "conditions versus controls"
    )


def class_overview() -> Figure:
    """Findings per antidepressant class, stacked by direction."""
    rows = data.evidence()
    rows = rows[rows["drug_class"].isin(data.DRUG_CLASSES)]
    table = rows.groupby(["drug_class", "direction"]).size().rename("n").reset_index()
    table["Direction"] = table["direction"].map(data.DIRECTION_LABELS)
    title = "Findings per antidepressant class"
    description = (
        f"{int(table['n'].sum())} findings across {table['drug_class'].nunique()} classes, split by the direction "
        "of the reported change; each cell is labelled with its count."
    )
    # Direction is a column position, not a colour, so the table reads without colour vision.
    base = alt.Chart(table).encode(
        y=alt.Y("drug_class:N", title=None, sort=data.DRUG_CLASSES),
        x=alt.X(
            "Direction:N",
            title="Direction of change",
            sort=list(data.DIRECTION_LABELS.values()),
            axis=alt.Axis(labelAngle=0, orient="top"),
        ),
        tooltip=[
            alt.Tooltip("drug_class:N", title="Class"),
            "Direction:N",
            alt.Tooltip("n:Q", title="Findings"),
        ],
    )
    chart = (
        base.mark_rect().encode(
            color=alt.Color("n:Q", title="Findings", scale=alt.Scale(scheme="blues"))
        )
        + base.mark_text(fontWeight="bold").encode(
            text="n:Q",
            color=alt.condition(
                f"datum.n > {table['n'].max() / 2 if len(table) else 0}",
                alt.value("white"),
                alt.value("black"),
            ),
        )
    ).properties(width=alt.Step(90), height=alt.Step(28), title=title)
    return Figure(chart=chart, title=title, description=description, data=table)
