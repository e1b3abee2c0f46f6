"""Page 5 of the synthesis: the comparison with published meta-analyses."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ... import data
from ...render import Figure, Table, escape_markdown, markdown
from .. import charts, citations
from .common import ANTIDEPRESSANT_CLASSES, UMBRELLA, _plural

# ---------------------------------------------------------------------------
# 5. Meta-analyses against the review

COMPARISON_LABELS = {
    "treatment_pre_post": "After vs before antidepressant treatment",
    "responders_vs_nonresponders": "Responders vs non-responders (baseline)",
    "mdd_vs_controls": "MDD vs controls",
    "anti_cytokine_vs_placebo": "Anti-cytokine drugs vs placebo (depressive symptoms)",
}
MA_DIRECTION_LABELS = {
    "decrease": "Decrease",
    "increase": "Increase",
    "no_change": "No change",
    "not_reported": "Not reported",
}


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
    plotted["significance"] = plotted["significant"].map(
        {"yes": "Significant", "no": "Not significant", "unclear": "Unclear"}
    )
    plotted["ci"] = [
        f"{lo:.2f} to {hi:.2f}" if pd.notna(lo) else "not reported"
        for lo, hi in zip(plotted["ci_low"], plotted["ci_high"], strict=False)
    ]
    domain = [MA_DIRECTION_LABELS[d] for d in ("decrease", "no_change", "increase")]
    colours = [charts.DIRECTION_COLOURS[d] for d in ("decrease", "no_change", "increase")]
    shapes = [charts.DIRECTION_SHAPES[d] for d in ("decrease", "no_change", "increase")]
    y = alt.Y(
        "row:N",
        title=None,
        sort=alt.EncodingSortField("effect", op="min"),
        # Labels stop at 135 px and the plot is 170 px wide, so the whole chart (about 340 px)
        # fits a phone's column and its marks are in view at first sight.
        axis=alt.Axis(labelLimit=135),
    )
    tooltip = [
        alt.Tooltip("mediator:N", title="Mediator"),
        alt.Tooltip("source:N", title="Meta-analysis"),
        alt.Tooltip("scope:N", title="Scope"),
        alt.Tooltip("reported_effect:N", title="As published"),
        alt.Tooltip("effect:Q", title="Harmonised effect", format=".2f"),
        alt.Tooltip("ci:N", title="95% CI"),
        alt.Tooltip("significance:N", title="Significance"),
        alt.Tooltip("source_note:N", title="Read from"),
    ]
    group_field = "Comparison" if len(comparisons) > 1 else "mediator"
    low = min(0.0, plotted[["effect", "ci_low"]].min().min()) if len(plotted) else -1.0
    high = max(0.0, plotted[["effect", "ci_high"]].max().max()) if len(plotted) else 1.0
    x_scale = alt.Scale(domain=[round(low - 0.1, 1), round(high + 0.1, 1)], nice=False)
    x_title = ["Harmonised effect", "(negative = lower after treatment", "or in the first group)"]
    direction = dict(
        color=alt.Color(
            "Direction:N",
            title=["Reported direction", "(filled = significant)"],
            scale=alt.Scale(domain=domain, range=colours),
        ),
        shape=alt.Shape(
            "Direction:N",
            title=["Reported direction", "(filled = significant)"],
            scale=alt.Scale(domain=domain, range=shapes),
        ),
    )
    groups = sorted(
        plotted[group_field].unique(),
        key=lambda g: (
            list(COMPARISON_LABELS.values()).index(g) if g in COMPARISON_LABELS.values() else 0,
            g,
        ),
    )
    panels = []
    for i, group in enumerate(groups):
        part = plotted[plotted[group_field] == group]
        last = i == len(groups) - 1
        x_axis = alt.Axis(title=x_title if last else None, labels=last, ticks=last)
        base = alt.Chart(part).encode(y=y)
        whiskers = (
            base.transform_filter("isValid(datum.ci_low)")
            .mark_rule(color="#333333", strokeWidth=1.5)
            .encode(
                x=alt.X("ci_low:Q", scale=x_scale, axis=x_axis), x2="ci_high:Q", tooltip=tooltip
            )
        )
        # Every result as a hollow mark; significant ones are filled on top.
        hollow = base.mark_point(filled=False, size=110, strokeWidth=2).encode(
            x=alt.X("effect:Q", scale=x_scale, axis=x_axis), tooltip=tooltip, **direction
        )
        filled = (
            base.transform_filter("datum.significant == 'yes'")
            .mark_point(filled=True, size=110, opacity=1)
            .encode(x=alt.X("effect:Q", scale=x_scale, axis=x_axis), tooltip=tooltip, **direction)
        )
        zero = (
            alt.Chart(pd.DataFrame({"zero": [0.0]}))
            .mark_rule(color="#000000", strokeDash=[3, 3], aria=False)
            .encode(x=alt.X("zero:Q", scale=x_scale, axis=x_axis))
        )
        # Only layers with marks: an empty layer would leave an unlabelled container for screen readers.
        layers = [zero, hollow]
        if part["ci_low"].notna().any():
            layers.insert(1, whiskers)
        if (part["significant"] == "yes").any():
            layers.append(filled)
        panels.append(
            alt.layer(*layers).properties(
                width=170,
                height=alt.Step(18),
                title=alt.TitleParams(str(group), anchor="start", fontSize=12),
            )
        )
    chart = (
        alt.vconcat(*panels, spacing=6)
        .resolve_scale(x="shared", color="shared", shape="shared")
        .configure_view(stroke=None)
        # Above the panels, the legend is never cut off by the column's right edge.
        .configure_legend(orient="top", direction="horizontal", titleLimit=300)
    )
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
    return Figure(
        chart=chart,
        title=title,
        description=description,
        data=plotted.assign(n=1),
        fill_width_reserve=175,  # the row labels (135 px) and padding
    )


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
    text = ", ".join(
        f"{data.DIRECTION_LABELS[d].lower()} {int(counts.get(d, 0))}"
        for d in data.DIRECTIONS
        if counts.get(d, 0)
    )
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
    treated = rows[
        rows["drug_class"].isin(ANTIDEPRESSANT_CLASSES) | (rows["intervention"] == UMBRELLA)
    ]
    review_sets = {
        "treatment_pre_post": treated,
        "mdd_vs_controls": rows[rows["intervention"] == "major depressive disorder"],
    }
    out = []
    for (comparison, mediator), part in ma.groupby(["comparison", "mediator"], sort=False):
        part = part[part["direction"] != "not_reported"]
        pooled = sorted(set(part["direction"]))
        pooled_text = "; ".join(
            f"{MA_DIRECTION_LABELS[d].lower()} ({', '.join(sorted(set(part.loc[part['direction'] == d, 'source'])))})"
            for d in ("decrease", "no_change", "increase")
            if d in pooled
        )
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
            clinical = mediator_rows[mediator_rows["evidence_type"] == "clinical"][
                "direction"
            ].value_counts()
            other = mediator_rows[mediator_rows["evidence_type"] != "clinical"][
                "direction"
            ].value_counts()
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
                verdict, reason = (
                    "disagrees",
                    f"review {said}, pooled {consensus.replace('_', ' ')} ({share})",
                )
        out.append(
            {
                "comparison": comparison,
                "mediator": mediator,
                "pooled": pooled_text,
                "consensus": consensus,
                "review_clinical": review_clinical,
                "review_other": review_other,
                "verdict": verdict,
                "reason": reason,
                "n_results": len(part),
            }
        )
    table = pd.DataFrame(out)
    order = {c: i for i, c in enumerate(COMPARISON_LABELS)}
    return table.sort_values(
        ["comparison", "mediator"], key=lambda s: s.map(order) if s.name == "comparison" else s
    ).reset_index(drop=True)


def agreement_table() -> Table:
    table = agreement()
    shown = pd.DataFrame(
        {
            "Comparison": table["comparison"].map(COMPARISON_LABELS),
            "Mediator": table["mediator"],
            "Pooled direction (meta-analyses)": table["pooled"],
            "Review: clinical findings": table["review_clinical"],
            "Review: other findings": table["review_other"],
            "Verdict": table["verdict"],
            "Why": table["reason"],
        }
    )
    return Table(shown, "Do the review's findings agree with the pooled evidence?")


def meta_table() -> Table:
    ma = meta_analyses()
    shown = pd.DataFrame(
        {
            "ID": ma["id"],
            "Meta-analysis": ma["source"],
            "Mediator": ma["mediator"],
            "Comparison": ma["comparison"].map(COMPARISON_LABELS),
            "Scope": ma["scope"],
            "Studies": ma["n_studies"],
            "Participants": ma["n_participants"],
            "Counts refer to": ma["n_scope"].map(
                {"outcome": "this mediator", "meta_analysis": "whole meta-analysis"}
            ),
            "As published": ma["reported_effect"],
            "Published sign": ma["sign_convention"],
            "Harmonised effect": ma["effect"].map(lambda v: "" if pd.isna(v) else f"{v:.3g}"),
            "Direction": ma["direction"].map(MA_DIRECTION_LABELS),
            "Significant": ma["significant"],
            "Read from": ma["source_note"],
            "Note": ma["note"],
        }
    )
    return Table(
        shown,
        f"Pooled results of published meta-analyses ({len(ma)} results)",
        links={"Meta-analysis": ma["citation"].map(citations.reference_href)},
    )


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
        parts.append(
            "Disagreements: "
            + escape_markdown(
                [
                    f"{m} ({COMPARISON_LABELS[c]}: {r})"
                    for c, m, r in zip(
                        disagree["comparison"],
                        disagree["mediator"],
                        disagree["reason"],
                        strict=False,
                    )
                ]
            )
            + "."
        )
    unassessed = table[
        (table["verdict"] == "not assessed") & (table["comparison"] == "treatment_pre_post")
    ]
    if len(unassessed):
        parts.append(
            "Pooled treatment effects exist for mediators on which the review's data hold no clinical treatment finding: "
            + escape_markdown(unassessed["mediator"].tolist())
            + "."
        )
    return markdown(" ".join(parts))
