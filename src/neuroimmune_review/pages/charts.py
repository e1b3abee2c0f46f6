"""Chart builders used by the chapters: one function per kind of chart, no plotting code in pages.

Charts are drawn from aggregated data (one row per intervention, mediator, direction and
evidence type, with a count), so a page stays small however many rows the evidence grows to.
Direction is encoded by colour *and* shape, with an Okabe-Ito palette that stays
distinguishable for colour-blind readers.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from .. import data
from ..render import Figure
from ..text import first_n
from . import citations, current, palette
from .counts import sources_phrase
from .downloads import download_href

# Colours and shapes have one home, palette.py; re-exported for the chapters' use.
DIRECTION_COLOURS = palette.DIRECTION_COLOURS
DIRECTION_SHAPES = palette.DIRECTION_SHAPES
EVIDENCE_COLOURS = palette.EVIDENCE_COLOURS


def _direction_scale(kind: str) -> alt.Scale:
    source = DIRECTION_COLOURS if kind == "colour" else DIRECTION_SHAPES
    order = data.directions()
    return alt.Scale(
        domain=[data.direction_labels()[d] for d in order], range=[source[d] for d in order]
    )


# Tooltips list at most this many sources and samples per mark ("… and 12 more"): a mark
# stands for ever more findings as the evidence grows, its tooltip must not.
MAX_TOOLTIP_SOURCES = 8
MAX_TOOLTIP_SAMPLES = 6
# Past this many marks in one chart its tooltips give counts only: each mark's capped list
# of sources and samples is a string of its own, so at 1000x the evidence (6,000+ marks on a
# class page) the lists were three quarters of the page.  Every chart of the review has
# fewer than 40 marks today; the evidence table and the data download name every source.
MAX_MARKS_WITH_LISTS = 400
# An effects matrix draws at most this many rows (a row: one intervention or condition in one
# panel) and this many mediator columns, those with the most independent sources, and says so
# above the chart.  Hundreds of rows cannot be read (on a phone least of all) and exist only in
# synthetic data: at 1000x the evidence a chapter's matrix had 325 rows (25 panels of 13) and
# the conditions matrix 56 mediators, 22,748 marks that took a second to draw.  The largest
# matrices of the review's own data have 15 rows and 17 mediators, so neither cap binds there
# (tests/pages/test_charts.py checks it) and both leave room for the evidence to grow.
MAX_MATRIX_ROWS = 40
MAX_MATRIX_MEDIATORS = 40
# The columns that name one drawn row: intervention first, so ties go by its name.
_MATRIX_ROW = ["intervention", "claim_type", "evidence_type"]


def _capped_list(items: set[str], limit: int) -> str:
    return first_n(sorted(items), limit)


# Inline rows of a compact chart while Altair builds it (see Figure.values): replaced by the real
# rows in the spec, so Altair never walks thousands of values.
_PLACEHOLDER_ROWS = [{}]


def _compact_chart(table: pd.DataFrame, columns: list[str]) -> tuple[alt.Chart, list[dict]]:
    """A chart whose inline data are columnar and dictionary-coded, expanded by Vega itself.

    One record per mark repeats every field name and label; at 1000× the evidence that was
    most of a page's weight.  Here each text column's distinct values appear once, as a list,
    and the codes of all text columns of a mark are packed into one integer (mixed radix: one
    digit per column), so a mark costs one number plus its counts; the ``flatten`` transform
    and the expressions rebuild the records in the browser, so the chart is unchanged.

    The lists and each column's place value (``_d<i>``, ``_b<i>``) are data of the one record,
    not text of the expressions: the spec then stays the same when the evidence changes (a
    new sample's name, one more distinct value), so the build's compile memo
    (``render.compile_vega``) serves it instead of starting the compiler (~0.4 s).  Returns
    the chart, built on placeholder rows, and its rows (one record of columns) for
    ``Figure.values``.
    """
    values: dict[str, list] = {}
    dictionaries: dict[str, Any] = {}
    calculate: list[tuple[str, str]] = []
    packed = None
    base = 1
    for i, column in enumerate(columns):
        series = table[column]
        if pd.api.types.is_numeric_dtype(series):
            key = f"_c{i}"
            values[key] = [int(v) for v in series]
            calculate.append((column, f"datum.{key}"))
            continue
        codes, uniques = pd.factorize(series.astype(str), sort=True)
        radix = max(len(uniques), 1)
        packed = codes.astype("int64") * base + (0 if packed is None else packed)
        dictionaries[f"_d{i}"], dictionaries[f"_b{i}"] = list(uniques), base
        digit = f"floor(datum._k / datum._b{i}) % length(datum._d{i})"
        calculate.append((column, f"datum._d{i}[{digit}]"))
        base *= radix
    if packed is not None:
        if base >= 2**53:  # beyond exact integers in JavaScript (never with these vocabularies)
            raise ValueError(f"chart columns {columns} have too many combinations to pack")
        values["_k"] = [int(v) for v in packed]
    # Only the per-mark columns are flattened; flatten copies the other fields to every mark.
    chart = alt.Chart(alt.Data(values=_PLACEHOLDER_ROWS)).transform_flatten(list(values))
    for column, expression in calculate:
        chart = chart.transform_calculate(as_=column, calculate=expression)
    return chart, [{**values, **dictionaries}]


def aggregate_findings(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per intervention × mediator × claim type × direction × evidence type, with the
    number of distinct sources (``n_sources``), of rows (``n``), and the sources and samples."""
    columns = ["intervention", "mediator", "claim_type", "direction", "evidence_type"]
    out_columns = [
        *columns,
        "Direction",
        "Evidence type",
        "Claim type",
        "panel",
        "n",
        "n_sources",
        "sources",
        "samples",
    ]
    if rows.empty:
        return pd.DataFrame(columns=out_columns)
    rows = rows.assign(source=citations.labels(rows["citation"]))
    if "source_id" not in rows:
        rows = rows.assign(source_id=data.source_ids(rows))
    by_group = rows.groupby(columns, sort=True)
    grouped = by_group.agg(n=("id", "size"), n_sources=("source_id", "nunique"))
    # Performance: each list is built from the distinct (group, name) pairs, found as distinct
    # integers (group number, name's rank) rather than per row or per group in pandas: at
    # 1000x a group holds a thousand copies of each name, and a pandas aggregation calling
    # Python per group cost seconds (26,000 groups, each sliced out as a Series).
    group_ids = by_group.ngroup().to_numpy(dtype=np.int64)
    for column, out, limit in (
        ("source", "sources", MAX_TOOLTIP_SOURCES),
        ("sample", "samples", MAX_TOOLTIP_SAMPLES),
    ):
        codes, uniques = pd.factorize(rows[column].astype(str))
        names = sorted(uniques.tolist())  # Python's string order, as sorted() of the names gives
        position = {name: i for i, name in enumerate(names)}
        rank = np.array([position[name] for name in uniques.tolist()], dtype=np.int64)
        width = max(len(names), 1)
        pairs = np.unique(group_ids * width + rank[codes])
        pair_group, pair_name = np.divmod(pairs, width)
        ends = np.searchsorted(pair_group, np.arange(len(grouped)), side="right")
        starts = np.concatenate(([0], ends[:-1]))
        named = pair_name.tolist()
        grouped[out] = [
            _capped_list([names[i] for i in named[start:end]], limit)
            for start, end in zip(starts.tolist(), ends.tolist(), strict=True)
        ]
    grouped = grouped.reset_index()
    grouped["Direction"] = grouped["direction"].map(data.direction_labels())
    grouped["Evidence type"] = grouped["evidence_type"].map(data.evidence_type_labels())
    grouped["Claim type"] = grouped["claim_type"].map(data.claim_type_labels())
    grouped["panel"] = grouped["Claim type"] + " · " + grouped["Evidence type"]
    return grouped[out_columns]


def _panel_order() -> list[str]:
    claims = data.claim_type_labels().values()
    types = data.evidence_type_labels().values()
    return [f"{c} · {t}" for c in claims for t in types]


def _most_sourced(rows: pd.DataFrame, keys: list[str], limit: int) -> pd.DataFrame:
    """The *limit* distinct values of *keys* in *rows* with the most independent sources
    (``source_id``, as every count of the site), ties broken by the values themselves."""
    counts = rows.groupby(keys, sort=False)["source_id"].nunique().reset_index(name="n_sources")
    ranked = counts.sort_values(
        ["n_sources", *keys], ascending=[False, *[True] * len(keys)], kind="stable"
    )
    return ranked.head(limit)[keys]


def cap_matrix(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[str] | None, str | None]:
    """The findings an effects matrix draws: those of its MAX_MATRIX_MEDIATORS mediators with
    the most independent sources and, of what remains, its MAX_MATRIX_ROWS rows with the most.

    Returns the rows drawn, the mediators drawn (None when that cap does not bind) and the note
    the figure shows when a cap binds (None otherwise)."""
    if rows.empty:
        return rows, None, None
    if "source_id" not in rows:
        rows = rows.assign(source_id=data.source_ids(rows))
    n_mediators = rows["mediator"].nunique()
    n_rows = len(rows[_MATRIX_ROW].drop_duplicates())
    if n_mediators <= MAX_MATRIX_MEDIATORS and n_rows <= MAX_MATRIX_ROWS:
        return rows, None, None
    mediators = None
    if n_mediators > MAX_MATRIX_MEDIATORS:
        mediators = sorted(_most_sourced(rows, ["mediator"], MAX_MATRIX_MEDIATORS)["mediator"])
        rows = rows[rows["mediator"].isin(mediators)]
    drawn = _most_sourced(rows, _MATRIX_ROW, MAX_MATRIX_ROWS)
    rows = rows[pd.MultiIndex.from_frame(rows[_MATRIX_ROW]).isin(pd.MultiIndex.from_frame(drawn))]
    parts = []
    if n_rows > MAX_MATRIX_ROWS:
        parts.append(
            f"the {len(drawn):,} of {n_rows:,} rows (an intervention or condition in one panel)"
        )
    if mediators is not None:
        parts.append(f"the {len(mediators):,} of {n_mediators:,} mediators")
    note = f"Drawn: {' and '.join(parts)} with the most independent sources."
    return rows, mediators, note


def effects_matrix(rows: pd.DataFrame, title: str, subject: str) -> Figure:
    """Mediators (x) against interventions (y); a mark per direction, one panel per claim type
    and evidence type; mark size is the number of distinct sources.  Past MAX_MATRIX_ROWS rows
    or MAX_MATRIX_MEDIATORS mediators only the most-sourced are drawn, with a note saying so."""
    drawn, mediators, note = cap_matrix(rows)
    table = aggregate_findings(drawn)
    labels = data.direction_labels()
    legend = "; ".join(
        f"{labels[d].lower()}: {palette.DIRECTION_SHAPES[d].replace('-', ' ')}"
        for d in data.directions()
    )
    description = (
        f"{sources_phrase(rows)} on {subject}: each mark is a reported result for a mediator (columns) "
        f"under an intervention or condition (rows), drawn by direction ({legend}); larger marks stand for "
        "more independent sources. Panels separate claim types (intervention effects, conditions compared "
        "with controls, associations, proposed mechanisms, non-mediator outcomes) and evidence types. "
        "The evidence table below lists every row."
    )
    fields = [
        "intervention",
        "mediator",
        "Direction",
        "Evidence type",
        "Claim type",
        "n",
        "n_sources",
    ]
    lists = len(table) <= MAX_MARKS_WITH_LISTS
    if lists:
        fields += ["sources", "samples"]
    else:
        description += (
            f" With {len(table)} marks, the tooltips give counts only; the evidence table and the "
            "data download name the sources and samples."
        )
    listed = (
        [alt.Tooltip("sources:N", title="Cited"), alt.Tooltip("samples:N", title="Samples")]
        if lists
        else []
    )
    chart, values = _compact_chart(table, fields)
    drawn_directions = set(table["Direction"])
    chart = (
        chart
        # The panel label is built in the browser from its two parts, not shipped per mark.
        .transform_calculate(panel="datum['Claim type'] + ' · ' + datum['Evidence type']")
        .mark_point(filled=True, opacity=0.9)
        .encode(
            x=alt.X(
                "mediator:N",
                title="Mediator",
                sort="ascending",
                axis=alt.Axis(labelAngle=-45),
                # Capped: every mediator drawn keeps its column, even if no drawn row has it.
                **({"scale": alt.Scale(domain=mediators)} if mediators else {}),
            ),
            y=alt.Y("intervention:N", title=None, sort="ascending"),
            # A slot per direction this chart has, in the vocabulary's order: a slot for each of
            # the five made every mediator's column 45 px wide, mostly empty.
            xOffset=alt.XOffset(
                "Direction:N",
                scale=alt.Scale(
                    domain=[label for label in labels.values() if label in drawn_directions]
                    or list(labels.values())
                ),
            ),
            color=alt.Color(
                "Direction:N",
                scale=_direction_scale("colour"),
                legend=alt.Legend(title="Direction"),
            ),
            shape=alt.Shape(
                "Direction:N", scale=_direction_scale("shape"), legend=alt.Legend(title="Direction")
            ),
            size=alt.Size(
                "n_sources:Q", title="Sources", scale=alt.Scale(range=[60, 360]), legend=None
            ),
            row=alt.Row(
                "panel:N",
                title=None,
                sort=_panel_order(),
                # Each panel's label above it, not in a column of its own at the left: that
                # column took ~200 px of every matrix's width (a phone showed two mediators).
                header=alt.Header(
                    labelAngle=0, labelOrient="top", labelAnchor="start", labelFontWeight="bold"
                ),
            ),
            tooltip=[
                alt.Tooltip("intervention:N", title="Intervention"),
                alt.Tooltip("mediator:N", title="Mediator"),
                alt.Tooltip("Claim type:N"),
                alt.Tooltip("Direction:N"),
                alt.Tooltip("Evidence type:N"),
                alt.Tooltip("n_sources:Q", title="Sources"),
                alt.Tooltip("n:Q", title="Rows"),
                *listed,
            ],
        )
        .properties(
            # Each mediator's band holds a slot per direction (xOffset); a step of 9 px keeps it narrow.
            width=alt.Step(9),
            height=alt.Step(22),
            title=title,
        )
        .resolve_scale(y="independent")
        .configure_legend(orient="top")
    )
    return Figure(
        chart=chart,
        title=title,
        description=description,
        data=table,
        values=values,
        renderer="svg" if lists else "canvas",
        more=None
        if note is None
        else (note, "Download every finding as evidence.csv", download_href("evidence.csv")),
    )


def class_effects(drug_class: str) -> Figure:
    """Every finding for one antidepressant class, its drugs and its class-level entry."""
    rows = data.evidence(drug_class=drug_class)
    return effects_matrix(
        rows, f"Reported cytokine and mediator changes: {drug_class}", f"the {drug_class} class"
    )


def chapter_effects(title: str, *, chapter: str | None = None) -> Figure:
    """Every finding this chapter discusses (for chapters that are not about one drug class;
    the chapter: the page being built)."""
    return effects_matrix(
        data.evidence(chapter=current.page(chapter)),
        title,
        "this chapter's interventions and conditions",
    )


def condition_effects() -> Figure:
    """Mediators reported altered in conditions (MDD, bipolar disorder …) compared with controls."""
    rows = data.evidence(claim_type="condition_vs_control")
    return effects_matrix(
        rows,
        "Mediators altered in conditions compared with controls",
        "conditions compared with controls (claim type condition vs controls only)",
    )


def class_overview() -> Figure:
    """Independent sources per antidepressant class and direction (intervention effects only).

    The classes are the drug_class enum of data/datapackage.json, in its order: a class added
    there (with a drug of that class) appears here without a code change."""
    classes = data.drug_classes()
    rows = data.evidence(claim_type="intervention_effect")
    # Only the columns counted below (a filter of all 22 copied them: 0.1 s at 1000x).
    columns = ["drug_class", "direction", "source_id", "id"]
    rows = rows.loc[rows["drug_class"].isin(classes).to_numpy(), columns]
    labels = data.direction_labels()
    table = (
        rows.groupby(["drug_class", "direction"])
        .agg(n_sources=("source_id", "nunique"), n_rows=("id", "size"))
        .reset_index()
    )
    table["Direction"] = table["direction"].map(labels)
    table["label"] = [
        f"{s} ({r})" if r != s else str(s)
        for s, r in zip(table["n_sources"], table["n_rows"], strict=True)
    ]
    title = "Independent sources per antidepressant class (intervention effects)"
    description = (
        f"{sources_phrase(rows)} of intervention effects across {table['drug_class'].nunique()} classes, "
        "split by the direction of the reported change; each cell gives its number of distinct sources, with "
        "the number of rows in brackets where it differs. Associations, proposed mechanisms and conditions "
        "compared with controls are not counted here."
    )
    shown_classes = [c for c in classes if c in set(table["drug_class"])]
    # Direction is a column position, not a colour, so the table reads without colour vision.
    base = alt.Chart(table).encode(
        y=alt.Y("drug_class:N", title=None, sort=shown_classes),
        x=alt.X(
            "Direction:N",
            title="Direction of change",
            sort=list(labels.values()),
            axis=alt.Axis(labelAngle=0, orient="top"),
        ),
        tooltip=[
            alt.Tooltip("drug_class:N", title="Class"),
            "Direction:N",
            alt.Tooltip("n_sources:Q", title="Sources"),
            alt.Tooltip("n_rows:Q", title="Rows"),
        ],
    )
    largest = table["n_sources"].max() if len(table) else 0
    chart = (
        base.mark_rect().encode(
            color=alt.Color("n_sources:Q", title="Sources", scale=alt.Scale(scheme="blues"))
        )
        + base.mark_text(fontWeight="bold").encode(
            text="label:N",
            color=alt.condition(
                f"datum.n_sources > {largest / 2}",
                alt.value("white"),
                alt.value("black"),
            ),
        )
    ).properties(width=alt.Step(90), height=alt.Step(28), title=title)
    return Figure(
        chart=chart, title=title, description=description, data=table.assign(n=table["n_rows"])
    )
