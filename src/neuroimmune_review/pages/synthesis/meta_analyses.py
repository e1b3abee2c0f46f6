"""Page 5 of the synthesis: the comparison with published meta-analyses."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ... import data
from ...render import Figure, Table, escape_markdown, markdown
from .. import charts, citations
from .common import UMBRELLA, _effects, _plural, antidepressant_classes

# ---------------------------------------------------------------------------
# 5. Meta-analyses against the review

# Labels and order of the meta-analyses' enums come from data/datapackage.json.


def comparison_labels() -> dict[str, str]:
    return data.labels("meta_analyses", "comparison")


def ma_direction_labels() -> dict[str, str]:
    return data.labels("meta_analyses", "direction")


def __getattr__(name: str):
    # The old constant names, computed from the package on access.
    if name == "COMPARISON_LABELS":
        return comparison_labels()
    if name == "MA_DIRECTION_LABELS":
        return ma_direction_labels()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    plotted["Direction"] = plotted["direction"].map(ma_direction_labels())
    plotted["Comparison"] = plotted["comparison"].map(comparison_labels())
    plotted["significance"] = plotted["significant"].map(
        data.labels("meta_analyses", "significant")
    )
    plotted["ci"] = [
        f"{lo:.2f} to {hi:.2f}" if pd.notna(lo) else "not reported"
        for lo, hi in zip(plotted["ci_low"], plotted["ci_high"], strict=False)
    ]
    domain = [ma_direction_labels()[d] for d in ("decrease", "no_change", "increase")]
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
            list(comparison_labels().values()).index(g) if g in comparison_labels().values() else 0,
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
    names = " and ".join(comparison_labels()[c].lower() for c in comparisons)
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
    labels = data.direction_labels()
    text = ", ".join(
        f"{labels[d].lower()} {int(counts.get(d, 0))}"
        for d in data.directions()
        if counts.get(d, 0)
    )
    return text or "none"


def agreement() -> pd.DataFrame:
    """For each (comparison, mediator) pooled by a meta-analysis: the pooled verdict, the
    review's clinical findings for the same comparison, and whether they agree.  The review's
    side counts distinct sources per direction: intervention effects for before/after
    meta-analyses, conditions compared with controls for case-control ones.

    Review findings compared: antidepressant treatment (every class plus the umbrella
    'antidepressants' entry) for before/after meta-analyses; the MDD-versus-controls findings
    for case-control meta-analyses.  Only clinical findings are compared, since the
    meta-analyses pool clinical studies; findings of other types are shown beside them."""
    ma = meta_analyses()
    rows = data.evidence()
    effects = _effects(rows)
    treated = effects[
        effects["drug_class"].isin(antidepressant_classes()) | (effects["intervention"] == UMBRELLA)
    ]
    cases = rows[rows["claim_type"] == "condition_vs_control"]
    review_sets = {
        "treatment_pre_post": treated,
        "mdd_vs_controls": cases[cases["intervention"] == "major depressive disorder"],
    }
    out = []
    for (comparison, mediator), part in ma.groupby(["comparison", "mediator"], sort=False):
        part = part[part["direction"] != "not_reported"]
        pooled = sorted(set(part["direction"]))
        pooled_text = "; ".join(
            f"{ma_direction_labels()[d].lower()} ({', '.join(sorted(set(part.loc[part['direction'] == d, 'source'])))})"
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
            is_clinical = mediator_rows["evidence_type"] == "clinical"
            clinical = mediator_rows[is_clinical].groupby("direction")["source_id"].nunique()
            other = mediator_rows[~is_clinical].groupby("direction")["source_id"].nunique()
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
    order = {c: i for i, c in enumerate(comparison_labels())}
    return table.sort_values(
        ["comparison", "mediator"], key=lambda s: s.map(order) if s.name == "comparison" else s
    ).reset_index(drop=True)


def agreement_table() -> Table:
    table = agreement()
    shown = pd.DataFrame(
        {
            "Comparison": table["comparison"].map(comparison_labels()),
            "Mediator": table["mediator"],
            "Pooled direction (meta-analyses)": table["pooled"],
            "Review: clinical sources by direction": table["review_clinical"],
            "Review: other sources by direction": table["review_other"],
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
            "Comparison": ma["comparison"].map(comparison_labels()),
            "Scope": ma["scope"],
            "Studies": ma["n_studies"],
            "Participants": ma["n_participants"],
            "Counts refer to": ma["n_scope"].map(
                {"outcome": "this mediator", "meta_analysis": "whole meta-analysis"}
            ),
            "As published": ma["reported_effect"],
            "Published sign": ma["sign_convention"],
            "Harmonised effect": ma["effect"].map(lambda v: "" if pd.isna(v) else f"{v:.3g}"),
            "Direction": ma["direction"].map(ma_direction_labels()),
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
        "The review's side counts distinct sources: intervention effects for the before/after comparisons and "
        "conditions compared with controls for the case-control ones; associations and proposed mechanisms are "
        "listed in the evidence tables but not counted.",
    ]
    disagree = table[table["verdict"] == "disagrees"]
    if len(disagree):
        parts.append(
            "Disagreements: "
            + escape_markdown(
                [
                    f"{m} ({comparison_labels()[c]}: {r})"
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
