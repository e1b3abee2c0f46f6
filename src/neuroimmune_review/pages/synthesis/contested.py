"""Page 3 of the synthesis: contested findings (one pair, opposite directions across sources)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from ... import data
from ...render import Figure, Table, markdown
from ...text import escape_markdown
from ...text import plural as _plural
from .. import charts
from ..counts import excluded_claims_sentence, sources_and_rows
from . import extended
from .common import (
    EFFECT_CLAIMS,
    MAX_LABELS,
    MAX_LISTED,
    MAX_PAIRS_SHOWN,
    _count_legend,
    _effects,
    _with_sources,
    antidepressant_classes,
    capped_per_group,
    per_page,
    publish_file,
)

# ---------------------------------------------------------------------------
# 3. Contested findings

# Display order of the directions that can disagree (decrease first, as the chart reads).
DIRECTION_ORDER = ["decrease", "no_change", "mixed", "increase"]
_KEYS = ["level", "subject", "mediator"]


def _per_direction(
    long: pd.DataFrame, column: str, limit: int, pair: list[str] = _KEYS
) -> pd.Series:
    """'Decrease: a; b | Increase: c' per pair: the distinct values of *column* by direction.

    *pair* names the columns that identify a pair (the three keys, or one column numbering them).
    """
    keys = [*pair, "dorder", "direction"]
    values = long[column]
    if pair == ["pair"] and not values.isna().any():
        # Performance: the distinct (pair, direction, value) triples in that order, as one
        # sorted array of integers (values numbered in their sorted order; a direction is its
        # dorder), not a drop_duplicates and a sort over strings (~0.1 s a call at 1000x).
        codes, uniques = pd.factorize(values, sort=True)
        dorder = long["dorder"].to_numpy()
        n, width = len(uniques), len(DIRECTION_ORDER)
        triples = np.unique((long["pair"].to_numpy() * width + dorder) * n + codes)
        order = (triples // n) % width
        distinct = pd.DataFrame(
            {
                "pair": triples // n // width,
                "dorder": order,
                "direction": np.array(DIRECTION_ORDER, dtype=object)[order],
                column: uniques.to_numpy(dtype=object)[triples % n],
            }
        )
    else:
        distinct = long[[*keys, column]].drop_duplicates().sort_values([*keys, column])
    items = capped_per_group(distinct, keys, column, limit).reset_index(name="items")
    items["text"] = items["direction"].map(data.direction_labels()) + ": " + items["items"]
    return capped_per_group(items, pair, "text", len(items) + 1, separator=" | ")


@per_page
def contested_pairs(rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every (intervention, mediator) and (antidepressant class, mediator) pair whose
    intervention effects point in more than one direction.

    Only ``intervention_effect`` rows with a stated direction are compared.  ``level`` is
    'intervention' or 'class' (a class pools its drugs, pooled groups and class entry).
    ``kind`` is 'opposite' when both increases and decreases are reported, else 'partial'.
    ``n_<direction>`` and ``n_sources`` count distinct sources; ``n_findings`` counts rows.
    Computed with groupby and pivot over all pairs at once."""
    if rows is None:
        # Of every effect row: after an append, only the pairs of the new rows are computed again.
        return extended.over_all_evidence(
            "contested-pairs",
            _pairs_of,
            _pairs_region,
            _in_pair_order,
            _stated,
            claim_type="intervention_effect",
        )
    rows = _stated(_effects(rows))
    if rows.empty:
        return _pairs_of(rows, {})
    rows, labels = _with_sources(rows)
    return _pairs_of(rows, labels)


def _stated(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows whose direction can disagree, with only the columns :func:`_pairs_of` uses."""
    # Performance: only the columns used below are carried (the join has 22); every filter,
    # concat, sort and take over ~100k rows at 1000x copied all of them.
    used = ["id", "intervention", "mediator", "direction", "evidence_type", "sample", "drug_class"]
    used += ["source_id"] if "source_id" in rows else ["citation", "review_ref"]
    return rows.loc[rows["direction"].isin(DIRECTION_ORDER).to_numpy(), used]


def _pairs_region(rows: pd.DataFrame, appended: pd.DataFrame):
    """The pairs an appended row can change are of its mediator, and of its intervention or its
    class.  Every row of such a mediator and of such an intervention or class, and the pairs
    they form: all of them whole (a selected row's intervention has all its rows selected, and
    every selected row's class is an appended row's class, whose rows are all selected)."""
    mediators, classes = set(appended["mediator"]), set(appended["drug_class"])
    selected = rows["mediator"].isin(mediators).to_numpy() & (
        rows["intervention"].isin(set(appended["intervention"])).to_numpy()
        | rows["drug_class"].isin(classes).to_numpy()
    )
    interventions = set(rows.loc[selected, "intervention"])

    def pairs(table: pd.DataFrame) -> np.ndarray:
        level, subject = table["level"].to_numpy(), table["subject"]
        return table["mediator"].isin(mediators).to_numpy() & (
            ((level == "intervention") & subject.isin(interventions).to_numpy())
            | ((level == "class") & subject.isin(classes).to_numpy())
        )

    return selected, pairs


def _in_pair_order(pairs: pd.DataFrame) -> pd.DataFrame:
    """Single interventions first, then classes, each by subject and mediator: the order of
    :func:`_pairs_of`'s table, and of a kept table extended by appended rows."""
    order = (pairs["level"] == "class").astype(int)
    ordered = pairs.assign(order=order).sort_values(["order", "subject", "mediator"], kind="stable")
    return ordered.drop(columns="order").reset_index(drop=True)


def _pairs_of(rows: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """:func:`contested_pairs` of *rows*, sources labelled by *labels*."""
    columns = [
        "level",
        "subject",
        "mediator",
        "kind",
        "directions",
        "n_findings",
        "n_sources",
        "interventions",
        *[f"n_{d}" for d in DIRECTION_ORDER],
        "evidence_types",
        "samples",
        "sources",
        "ids",
    ]
    rows = _stated(rows)
    if rows.empty:
        return pd.DataFrame(columns=columns)
    classed = rows[rows["drug_class"].isin(antidepressant_classes())]
    long = pd.concat(
        [
            rows.assign(level="intervention", subject=rows["intervention"]),
            classed.assign(level="class", subject=classed["drug_class"]),
        ],
        ignore_index=True,
    )
    # Performance: each pair's three text keys become one number in the keys' sorted order
    # (each key factorised once, sorted), so the test for more than one direction and every
    # grouping below work on integers, not on three string columns hashed again each time (at
    # 1000x these factorisations were most of the page's 2-3 s).  Results go back on the keys.
    order = {d: i for i, d in enumerate(DIRECTION_ORDER)}
    number = np.zeros(len(long), dtype=np.int64)
    for key in _KEYS:
        codes, uniques = pd.factorize(long[key], sort=True)
        number = number * len(uniques) + codes
    dorder = long["direction"].map(order).to_numpy()
    pair_directions = np.unique(number * len(DIRECTION_ORDER) + dorder)
    numbers, n_directions = np.unique(pair_directions // len(DIRECTION_ORDER), return_counts=True)
    keep = np.isin(number, numbers[n_directions > 1])
    long = long[keep]
    if long.empty:
        return pd.DataFrame(columns=columns)
    _, first, pair_numbers = np.unique(number[keep], return_index=True, return_inverse=True)
    keys = pd.MultiIndex.from_frame(long.iloc[first][_KEYS])
    long = long.assign(
        dorder=dorder[keep],
        source_label=long["source_id"].map(labels),
        evidence_label=long["evidence_type"].map(data.evidence_type_labels()),
        pair=pair_numbers,
    )
    pair = ["pair"]
    by_direction = long.pivot_table(
        index="pair", columns="direction", values="source_id", aggfunc="nunique", fill_value=0
    ).reindex(columns=DIRECTION_ORDER, fill_value=0)
    grouped = long.groupby(pair, sort=True)
    pairs = pd.DataFrame(
        {
            "n_findings": grouped.size(),
            "n_sources": grouped["source_id"].nunique(),
            "interventions": capped_per_group(
                long[[*pair, "intervention"]].drop_duplicates().sort_values("intervention"),
                pair,
                "intervention",
                MAX_LISTED,
            ),
            "ids": capped_per_group(long.sort_values("id"), pair, "id", MAX_LISTED),
            "evidence_types": _per_direction(long, "evidence_label", 100, pair),
            "samples": _per_direction(long, "sample", MAX_LABELS, pair),
            "sources": _per_direction(long, "source_label", MAX_LABELS, pair),
        }
    )
    pairs.index = by_direction.index = keys  # pair numbers 0..n-1 are the keys' positions
    for d in DIRECTION_ORDER:
        pairs[f"n_{d}"] = by_direction[d].astype(int)
    present = by_direction > 0
    pairs["kind"] = (present["increase"] & present["decrease"]).map(
        {True: "opposite", False: "partial"}
    )
    names = pd.DataFrame(
        {d: data.direction_labels()[d].lower() for d in DIRECTION_ORDER}, index=present.index
    ).where(present, "")
    pairs["directions"] = [
        ", ".join(name for name in row if name)
        for row in zip(*(names[d] for d in DIRECTION_ORDER), strict=True)
    ]
    return _in_pair_order(pairs.reset_index()[columns])


def _shown(pairs: pd.DataFrame) -> pd.DataFrame:
    """The pairs the page draws and lists: all of them, or the MAX_PAIRS_SHOWN with the most
    distinct sources (ties in page order), kept in page order."""
    if len(pairs) <= MAX_PAIRS_SHOWN:
        return pairs
    top = pairs.sort_values("n_sources", ascending=False, kind="stable").index[:MAX_PAIRS_SHOWN]
    return pairs.loc[sorted(top)]


def _shown_note(pairs: pd.DataFrame) -> str:
    if len(pairs) <= MAX_PAIRS_SHOWN:
        return ""
    return (
        f" The {MAX_PAIRS_SHOWN} pairs with the most distinct sources are shown here, of "
        f"{len(pairs)}; every pair is in the download below the table."
    )


def _pairs_csv_href(pairs: pd.DataFrame) -> str:
    """Every contested pair as one CSV file of the site (what the capped table links to)."""
    return publish_file(
        "contested-pairs",
        "csv",
        pairs.to_csv(index=False, lineterminator="\n"),
        "book/synthesis/contested",
    )


def _pair_label(level: str, subject: str, mediator: str) -> str:
    return f"{mediator} under {subject}" + (" (class)" if level == "class" else "")


def contested_chart() -> Figure:
    """Each contested pair against the directions reported, sized by findings."""
    pairs = contested_pairs()
    labels = data.direction_labels()  # once, not per pair and direction (tracked each call)
    long = []
    for _, p in _shown(pairs).iterrows():
        for d in DIRECTION_ORDER:
            if p[f"n_{d}"]:
                long.append(
                    {
                        "pair": _pair_label(p["level"], p["subject"], p["mediator"]),
                        "Level": "One intervention"
                        if p["level"] == "intervention"
                        else "Drug class (drugs and class entry)",
                        "order": (
                            0 if p["level"] == "intervention" else 1,
                            p["mediator"],
                            p["subject"],
                        ),
                        "Direction": labels[d],
                        "n": int(p[f"n_{d}"]),
                        "kind": p["kind"],
                        "evidence": next(
                            (
                                s.split(": ", 1)[1]
                                for s in p["evidence_types"].split(" | ")
                                if s.startswith(labels[d] + ":")
                            ),
                            "",
                        ),
                    }
                )
    table = pd.DataFrame(
        long, columns=["pair", "Level", "order", "Direction", "n", "kind", "evidence"]
    )
    table["order"] = table["order"].rank(method="dense") if len(table) else table["order"]
    domain = [labels[d] for d in DIRECTION_ORDER]
    colours = [charts.DIRECTION_COLOURS[d] for d in DIRECTION_ORDER]
    shapes = [charts.DIRECTION_SHAPES[d] for d in DIRECTION_ORDER]
    base = alt.Chart(table).encode(
        y=alt.Y(
            "pair:N",
            title=None,
            sort=alt.EncodingSortField("order", op="min"),
            axis=alt.Axis(labelLimit=260),
        ),
        x=alt.X(
            "Direction:N",
            title="Reported direction",
            sort=domain,
            scale=alt.Scale(domain=domain, paddingOuter=0.3),
            axis=alt.Axis(labelAngle=0, orient="top"),
        ),
        tooltip=[
            alt.Tooltip("pair:N", title="Pair"),
            "Level:N",
            "Direction:N",
            alt.Tooltip("n:Q", title="Sources"),
            alt.Tooltip("evidence:N", title="Evidence types"),
            alt.Tooltip("kind:N", title="Disagreement"),
        ],
    )
    points = base.mark_point(filled=True, opacity=0.9).encode(
        color=alt.Color("Direction:N", scale=alt.Scale(domain=domain, range=colours)),
        shape=alt.Shape("Direction:N", scale=alt.Scale(domain=domain, range=shapes)),
        size=alt.Size(
            "n:Q",
            scale=alt.Scale(range=[80, 400], zero=False),
            legend=_count_legend("Sources", table["n"].max() if len(table) else 1),
        ),
    )
    labels = base.mark_text(dx=16, align="left", fontSize=11).encode(text="n:Q")
    chart = (
        alt.layer(points, labels)
        .properties(width=alt.Step(80), height=alt.Step(24))
        .configure_view(stroke=None)
    )
    title = "Contested findings: pairs whose sources disagree on direction"
    description = (
        f"{_plural(len(pairs), 'contested pair')} ({int((pairs['level'] == 'intervention').sum())} for single interventions, "
        f"{int((pairs['level'] == 'class').sum())} for drug classes). Each row is a pair; each mark a direction reported for it "
        "(blue downward triangles decreases, grey circles no change, purple diamonds mixed, orange upward triangles "
        "increases), sized and labelled by the number of distinct sources reporting that direction. Only intervention "
        "effects with a stated direction are compared. The table below names the sources."
        + _shown_note(pairs)
    )
    return Figure(chart=chart, title=title, description=description, data=table)


def contested_table() -> Table:
    every = contested_pairs()
    pairs = _shown(every)
    labels = data.direction_labels()
    more = None
    if len(pairs) < len(every):
        more = (
            f"The {len(pairs)} pairs with the most distinct sources are listed here, of "
            f"{len(every)}; download every pair as a CSV file.",
            _pairs_csv_href(every),
        )
    shown = pd.DataFrame(
        {
            "Level": pairs["level"].map({"intervention": "Intervention", "class": "Class"}),
            "Intervention or class": pairs["subject"],
            "Mediator": pairs["mediator"],
            "Disagreement": pairs["kind"],
            "Directions (sources)": [
                ", ".join(
                    f"{labels[d].lower()} {p[f'n_{d}']}" for d in DIRECTION_ORDER if p[f"n_{d}"]
                )
                for _, p in pairs.iterrows()
            ],
            "Sources (rows)": [
                sources_and_rows(s, r)
                for s, r in zip(pairs["n_sources"], pairs["n_findings"], strict=True)
            ],
            "Evidence types": pairs["evidence_types"],
            "Cited": pairs["sources"],
            "Samples": pairs["samples"],
            "Row IDs": pairs["ids"],
        }
    )
    return Table(
        shown,
        f"Contested pairs with their sources, evidence types and samples ({len(every)} pairs)",
        more=more,
    )


def _named(items: list[str]) -> str:
    """Escaped, comma-separated names; past MAX_LISTED, "… and N more" (the table lists them)."""
    if len(items) <= MAX_LISTED:
        return escape_markdown(items)
    return escape_markdown(items[:MAX_LISTED]) + f" and {len(items) - MAX_LISTED} more"


def contested_summary():
    pairs = contested_pairs()
    scope = excluded_claims_sentence(data.evidence(), EFFECT_CLAIMS)
    if pairs.empty:
        return markdown(
            "No intervention or class has intervention effects that disagree on direction for the "
            f"same mediator. {scope}"
        )
    single = pairs[pairs["level"] == "intervention"]
    cls = pairs[pairs["level"] == "class"]
    opposite = pairs[pairs["kind"] == "opposite"]
    # Class-level conflicts that appear only when drugs of a class are pooled: no listed
    # intervention of the class has a conflict of its own over the same mediator.
    listed = cls["interventions"].str.split("; ").explode()
    listed = pd.DataFrame({"subject": listed, "mediator": cls["mediator"].reindex(listed.index)})
    own = listed.merge(
        single[["subject", "mediator"]].drop_duplicates(),
        on=["subject", "mediator"],
        how="left",
        indicator=True,
    )
    own_conflict = set(listed.index[(own["_merge"] == "both").to_numpy()])
    between = cls[~cls.index.isin(own_conflict)]
    # Conflicts where clinical and non-clinical findings point different ways.
    kinds = (
        pairs["evidence_types"].str.split(" | ", regex=False).explode().str.split(": ", n=1).str[1]
    )
    mixed_types = kinds.groupby(level=0).nunique() > 1
    typed = pairs[mixed_types.reindex(pairs.index, fill_value=False)]
    split_by_type = [
        _pair_label(level, subject, mediator)
        for level, subject, mediator in zip(
            typed["level"], typed["subject"], typed["mediator"], strict=True
        )
    ]
    parts = [
        scope,
        f"The detector finds **{_plural(len(pairs), 'contested pair')}**: {len(single)} for single interventions "
        f"({_named([_pair_label('intervention', s, m) for s, m in zip(single['subject'], single['mediator'], strict=False)])}) "
        f"and {len(cls)} for drug classes. In {_plural(len(opposite), 'pair')} some sources report an increase and others "
        "a decrease"
        + (
            "; in the rest a change stands against a finding of no change or a mixed result."
            if len(opposite) < len(pairs)
            else "."
        ),
    ]
    if len(between):
        parts.append(
            f"{_plural(len(between), 'class-level conflict')} arise only when the drugs of a class are pooled, "
            "because different drugs of the class moved the mediator in different directions: "
            + _named(
                [
                    f"{m} in the {s} class ({i})"
                    for s, m, i in zip(
                        between["subject"],
                        between["mediator"],
                        between["interventions"],
                        strict=False,
                    )
                ]
            )
            + "."
        )
    if split_by_type:
        parts.append(
            f"In {_plural(len(split_by_type), 'pair')} the disagreeing findings also come from different kinds of evidence "
            f"(clinical, experimental or unstated), so species, model or design may explain part of the conflict: "
            f"{_named(split_by_type)}."
        )
    return markdown(" ".join(parts))
