"""Page 4 of the synthesis: the Th1/Th2 vote count."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ... import data
from ...render import Figure, Table, markdown
from ...text import escape_markdown
from ...text import plural as _plural
from .. import charts
from ..counts import excluded_claims_sentence, sources_and_rows
from .common import (
    EFFECT_CLAIMS,
    _and_list,
    _antidepressant_rows,
    _is_antidepressant,
    _is_effect,
    antidepressant_classes,
    per_page,
)

# ---------------------------------------------------------------------------
# 4. Th1/Th2 balance (vote counting)

SHIFT_LESS = "less inflammatory"
SHIFT_MORE = "more inflammatory"
SHIFT_NONE = "no shift"
ARMS = {"Th1": "Th1 mediators", "Th2": "Th2 mediators"}


@per_page
def th_votes(rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each antidepressant-class intervention effect on a Th1 or Th2 mediator, with the shift it
    votes for.  Rows are kept; the counts built on them are of distinct sources (a source that
    reports the same shift for one class and arm twice, or for four drugs of the class, is one vote).

    A pro-inflammatory mediator falling, or an anti-inflammatory one rising, is a vote for a
    less inflammatory state; the reverse is a vote for a more inflammatory one; no change and
    mixed results are 'no shift'.  Mediators the vocabulary calls pleiotropic (IL-6, IL-2) are
    read by their arm, as the Th1/Th2 account does: a Th1 mediator as pro-, a Th2 mediator as
    anti-inflammatory (``role_from_axis`` marks these votes)."""
    rows = data.evidence() if rows is None else rows
    # One filter of the join: antidepressant classes' intervention effects on the two arms.
    on_arms = rows["th_axis"].isin(list(ARMS)).to_numpy()
    rows = rows[_is_effect(rows) & _is_antidepressant(rows) & on_arms].copy()
    from_axis = ~rows["inflammatory_role"].isin(["pro", "anti"])
    role = rows["inflammatory_role"].where(
        ~from_axis, rows["th_axis"].map({"Th1": "pro", "Th2": "anti"})
    )
    sign = rows["direction"].map({"increase": 1, "decrease": -1}).fillna(0)
    effect = sign * role.map({"pro": 1, "anti": -1})  # +1 = more inflammatory
    rows["role"] = role
    rows["role_from_axis"] = from_axis
    rows["shift"] = effect.map({1: SHIFT_MORE, -1: SHIFT_LESS}).fillna(SHIFT_NONE)
    rows["arm"] = rows["th_axis"].map(ARMS)
    return rows.reset_index(drop=True)


def th_balance_table() -> pd.DataFrame:
    """Votes per class × arm × evidence type × shift: distinct sources (``n``) and rows
    (``n_rows``); zero rows omitted."""
    votes = th_votes()
    table = (
        votes.groupby(["drug_class", "arm", "evidence_type", "shift"])
        .agg(n=("source_id", "nunique"), n_rows=("id", "size"))
        .reset_index()
    )
    table["Evidence type"] = table["evidence_type"].map(data.evidence_type_labels())
    return table


def th_balance_chart() -> Figure:
    """Diverging bars: votes for a less inflammatory state to the right, more to the left."""
    table = th_balance_table()
    bars = table[table["shift"] != SHIFT_NONE].copy()
    bars["votes"] = bars["n"].where(bars["shift"] == SHIFT_LESS, -bars["n"])
    classes = [c for c in antidepressant_classes() if c in set(table["drug_class"])]
    type_labels = data.evidence_type_labels()
    types = [
        type_labels[t]
        for t in data.evidence_types()
        if type_labels[t] in set(bars["Evidence type"])
    ]
    colours = [charts.EVIDENCE_COLOURS[t] for t in data.evidence_types() if type_labels[t] in types]
    base = (
        alt.Chart(bars)
        .mark_bar(stroke="#FFFFFF", strokeWidth=0.5)
        .encode(
            y=alt.Y("drug_class:N", title=None, sort=classes, scale=alt.Scale(domain=classes)),
            x=alt.X(
                "sum(votes):Q",
                title=["← more inflammatory · sources ·", "less inflammatory →"],
                axis=alt.Axis(tickMinStep=1, format="d", labelExpr="abs(datum.value)"),
            ),
            color=alt.Color(
                "Evidence type:N",
                sort=types,
                scale=alt.Scale(domain=types, range=colours),
            ),
            order=alt.Order("evidence_type:O"),
            tooltip=[
                alt.Tooltip("drug_class:N", title="Class"),
                alt.Tooltip("arm:N", title="Arm"),
                alt.Tooltip("shift:N", title="Toward"),
                "Evidence type:N",
                alt.Tooltip("n:Q", title="Sources"),
                alt.Tooltip("n_rows:Q", title="Rows"),
            ],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#000000", aria=False).encode(x="x:Q")
    )
    panels = [
        alt.layer(
            base.transform_filter(alt.datum.arm == arm).encode(
                y=alt.Y(
                    "drug_class:N",
                    title=None,
                    sort=classes,
                    scale=alt.Scale(domain=classes),
                    axis=alt.Axis(labels=i == 0, ticks=i == 0),
                )
            ),
            rule,
        ).properties(width=210, height=alt.Step(22), title=alt.TitleParams(arm, anchor="middle"))
        for i, arm in enumerate(ARMS.values())
    ]
    chart = (
        alt.hconcat(*panels, spacing=20)
        .resolve_scale(x="shared")
        .configure_legend(orient="bottom", direction="horizontal")
        .configure_view(stroke=None)
    )
    votes = th_votes()
    title = "Th1/Th2 balance by class (vote count)"
    description = (
        f"Vote count of {sources_and_rows(votes['source_id'].nunique(), len(votes))} of intervention effects on Th1 "
        "or Th2 mediators under antidepressant classes (rows). Each bar segment counts distinct sources. Bars to the right of "
        "the zero line count sources that moved the mediator toward a less inflammatory state (a Th1 mediator falling "
        "or a Th2 mediator rising); bars to the left count moves toward a more inflammatory state. The left panel "
        "holds Th1 mediators, the right panel Th2 mediators; colours split each bar by evidence type. Results of no "
        "change, mixed or unstated direction are counted in the table, not drawn. Counts of sources, not effect sizes."
    )
    return Figure(chart=chart, title=title, description=description, data=table)


def th_balance_counts() -> pd.DataFrame:
    """Per class: distinct sources voting Th1 down/up, Th2 up/down, no shift; the net score
    (sum of the four votes); total distinct sources and rows.  One groupby over all classes."""
    votes = th_votes()
    classes = antidepressant_classes()
    votes = votes.assign(
        column=votes["th_axis"].str.lower()
        + "_"
        + votes["shift"].map({SHIFT_LESS: "less", SHIFT_MORE: "more", SHIFT_NONE: "none"})
    )
    by_vote = votes.pivot_table(
        index="drug_class", columns="column", values="source_id", aggfunc="nunique", fill_value=0
    )
    grouped = votes.groupby("drug_class")
    columns = ["th1_less", "th1_more", "th2_less", "th2_more"]
    counts = by_vote.reindex(index=classes, columns=columns, fill_value=0).astype(int)
    counts["no_shift"] = (
        votes[votes["shift"] == SHIFT_NONE].groupby("drug_class")["source_id"].nunique()
    )
    counts["clinical"] = (
        votes[votes["evidence_type"] == "clinical"].groupby("drug_class")["source_id"].nunique()
    )
    counts["total"] = grouped["source_id"].nunique()
    counts["rows"] = grouped.size()
    counts = counts.fillna(0).astype(int)
    counts["net"] = (
        counts["th1_less"] + counts["th2_less"] - counts["th1_more"] - counts["th2_more"]
    )
    return counts.rename_axis("drug_class").reset_index()


def th_balance_counts_table() -> Table:
    counts = th_balance_counts()
    shown = pd.DataFrame(
        {
            "Class": counts["drug_class"],
            "Th1 toward less inflammatory": counts["th1_less"],
            "Th1 toward more inflammatory": counts["th1_more"],
            "Th2 toward less inflammatory": counts["th2_less"],
            "Th2 toward more inflammatory": counts["th2_more"],
            "No shift": counts["no_shift"],
            "Of which clinical": counts["clinical"],
            "Sources (rows)": [
                sources_and_rows(s, r) for s, r in zip(counts["total"], counts["rows"], strict=True)
            ],
            "Net (less − more)": counts["net"],
        }
    )
    return Table(shown, "Th1/Th2 votes per class: distinct sources (intervention effects only)")


def th_balance_summary():
    counts = th_balance_counts()
    votes = th_votes()
    with_data = counts[counts["total"] > 0]
    supports = with_data[(with_data["net"] > 0)]
    against = with_data[(with_data["net"] < 0)]
    th2_more = counts[counts["th2_more"] > 0]
    clinical = votes[votes["evidence_type"] == "clinical"]
    c_less = clinical.loc[clinical["shift"] == SHIFT_LESS, "source_id"].nunique()
    c_more = clinical.loc[clinical["shift"] == SHIFT_MORE, "source_id"].nunique()
    pleio = votes[votes["role_from_axis"]]
    balanced = with_data[with_data["net"] == 0]
    scope = _antidepressant_rows(data.evidence(), ["claim_type", "th_axis"])
    scope = scope[scope["th_axis"].isin(list(ARMS))]
    parts = [
        excluded_claims_sentence(scope, EFFECT_CLAIMS),
        f"The count covers {sources_and_rows(votes['source_id'].nunique(), len(votes))} on Th1 or Th2 "
        f"mediators across {_plural(len(with_data), 'class', 'classes')}; each vote is one source.",
    ]
    missing = [c for c in antidepressant_classes() if c not in set(with_data["drug_class"])]
    if missing:
        parts.append(f"No such finding exists for {escape_markdown(missing)}.")
    lean = [
        f"toward a less inflammatory state in {_plural(len(supports), 'class', 'classes')} "
        f"({escape_markdown(supports['drug_class'].tolist())})"
        if len(supports)
        else ""
    ]
    if len(against):
        lean.append(
            f"toward a more inflammatory state in {_plural(len(against), 'class', 'classes')} "
            f"({escape_markdown(against['drug_class'].tolist())})"
        )
    lean = [x for x in lean if x]
    if lean:
        parts.append(
            "The net vote leans "
            + " and ".join(lean)
            + (
                f"; it is even for {escape_markdown(balanced['drug_class'].tolist())}."
                if len(balanced)
                else "."
            )
        )
    parts.append(
        f"Clinical sources alone split {c_less} to {c_more} (toward less against toward more inflammatory)."
    )
    both_down = counts[
        (counts["th1_less"] > counts["th1_more"]) & (counts["th2_more"] > counts["th2_less"])
    ]
    if len(both_down):
        parts.append(
            f"In the {escape_markdown(_and_list(both_down['drug_class'].tolist()))} "
            f"{'class' if len(both_down) == 1 else 'classes'} the Th1 and the Th2 mediators both mostly fall: "
            "the votes describe a dampening of both arms rather than a shift from Th1 to Th2."
        )
    if len(th2_more):
        parts.append(
            "Sources that lower a Th2 mediator, against the Th2-up half of the story, appear under "
            + escape_markdown(
                [
                    f"{c} ({n})"
                    for c, n in zip(th2_more["drug_class"], th2_more["th2_more"], strict=False)
                ]
            )
            + "."
        )
    if len(pleio):
        parts.append(
            f"{_plural(pleio['source_id'].nunique(), 'source')} vote through mediators the vocabulary calls pleiotropic "
            f"({escape_markdown(sorted(set(pleio['mediator'])))}), read here by their T-helper arm."
        )
    return markdown(" ".join(parts))
