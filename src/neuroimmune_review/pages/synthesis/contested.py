"""Page 3 of the synthesis: contested findings (one pair, opposite directions across sources)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ... import data
from ...render import Figure, Table, escape_markdown, markdown
from .. import charts
from .common import (
    ANTIDEPRESSANT_CLASSES,
    MAX_LISTED,
    _capped,
    _count_legend,
    _plural,
    _with_sources,
)

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
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows, labels = _with_sources(rows)
    out = []
    levels = [
        ("intervention", rows, "intervention"),
        ("class", rows[rows["drug_class"].isin(ANTIDEPRESSANT_CLASSES)], "drug_class"),
    ]
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
            out.append(
                {
                    "level": level,
                    "subject": subject,
                    "mediator": mediator,
                    "kind": "opposite" if {"increase", "decrease"} <= directions else "partial",
                    "directions": ", ".join(
                        data.DIRECTION_LABELS[d].lower() for d in DIRECTION_ORDER if d in directions
                    ),
                    "n_findings": len(part),
                    "n_sources": len({s for cell in part["source_ids"] for s in cell}),
                    "interventions": _capped(sorted(set(part["intervention"])), MAX_LISTED),
                    **{f"n_{d}": int(counts.get(d, 0)) for d in DIRECTION_ORDER},
                    "evidence_types": " | ".join(
                        f"{data.DIRECTION_LABELS[d]}: "
                        + ", ".join(
                            sorted(
                                set(
                                    part.loc[part["direction"] == d, "evidence_type"].map(
                                        data.EVIDENCE_TYPE_LABELS
                                    )
                                )
                            )
                        )
                        for d in DIRECTION_ORDER
                        if d in directions
                    ),
                    "samples": " | ".join(
                        f"{data.DIRECTION_LABELS[d]}: "
                        + _capped(sorted(set(part.loc[part["direction"] == d, "sample"])))
                        for d in DIRECTION_ORDER
                        if d in directions
                    ),
                    "sources": " | ".join(by_direction),
                    "ids": _capped(sorted(part["id"]), MAX_LISTED),
                }
            )
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
                        "Direction": data.DIRECTION_LABELS[d],
                        "n": int(p[f"n_{d}"]),
                        "kind": p["kind"],
                        "evidence": next(
                            (
                                s.split(": ", 1)[1]
                                for s in p["evidence_types"].split(" | ")
                                if s.startswith(data.DIRECTION_LABELS[d] + ":")
                            ),
                            "",
                        ),
                    }
                )
    table = pd.DataFrame(
        long, columns=["pair", "Level", "order", "Direction", "n", "kind", "evidence"]
    )
    table["order"] = table["order"].rank(method="dense") if len(table) else table["order"]
    domain = [data.DIRECTION_LABELS[d] for d in DIRECTION_ORDER]
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
            alt.Tooltip("n:Q", title="Findings"),
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
            legend=_count_legend("Findings", table["n"].max() if len(table) else 1),
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
        "increases), sized and labelled by the number of findings. The table below names the sources."
    )
    return Figure(chart=chart, title=title, description=description, data=table)


def contested_table() -> Table:
    pairs = contested_pairs()
    shown = pd.DataFrame(
        {
            "Level": pairs["level"].map({"intervention": "Intervention", "class": "Class"}),
            "Intervention or class": pairs["subject"],
            "Mediator": pairs["mediator"],
            "Disagreement": pairs["kind"],
            "Directions (findings)": [
                ", ".join(
                    f"{data.DIRECTION_LABELS[d].lower()} {p[f'n_{d}']}"
                    for d in DIRECTION_ORDER
                    if p[f"n_{d}"]
                )
                for _, p in pairs.iterrows()
            ],
            "Evidence types": pairs["evidence_types"],
            "Sources": pairs["sources"],
            "Samples": pairs["samples"],
            "Finding IDs": pairs["ids"],
        }
    )
    return Table(
        shown,
        f"Contested pairs with their sources, evidence types and samples ({len(pairs)} pairs)",
    )


def contested_summary():
    pairs = contested_pairs()
    if pairs.empty:
        return markdown(
            "No intervention or class has findings that disagree on direction for the same mediator."
        )
    single = pairs[pairs["level"] == "intervention"]
    cls = pairs[pairs["level"] == "class"]
    opposite = pairs[pairs["kind"] == "opposite"]
    # Class-level conflicts that appear only when drugs of a class are pooled.
    between = cls[
        [
            not (single["subject"].isin(i.split("; ")) & (single["mediator"] == m)).any()
            for i, m in zip(cls["interventions"], cls["mediator"], strict=False)
        ]
    ]
    # Conflicts where clinical and non-clinical findings point different ways.
    split_by_type = [
        _pair_label(p["level"], p["subject"], p["mediator"])
        for _, p in pairs.iterrows()
        if len({part.split(": ", 1)[1] for part in p["evidence_types"].split(" | ")}) > 1
    ]
    parts = [
        f"The detector finds **{_plural(len(pairs), 'contested pair')}**: {len(single)} for single interventions "
        f"({escape_markdown([_pair_label('intervention', s, m) for s, m in zip(single['subject'], single['mediator'], strict=False)])}) "
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
            + escape_markdown(
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
            f"{escape_markdown(split_by_type)}."
        )
    return markdown(" ".join(parts))
