"""Page 5 of the synthesis: the comparison with published meta-analyses.

Long by design: the page's builders (forest plots and their tables, the agreement verdicts
and their per-build memo, the pooled-results table, the summary) share the scope, label and
direction helpers here; split apart, each part would import the others.
"""

from __future__ import annotations

import json

import altair as alt
import pandas as pd

from ... import data, paths, sof
from ...render import Figure, Table, markdown
from ...schema import DATAPACKAGE_FILE
from ...text import escape_markdown
from ...text import plural as _plural
from .. import charts, citations
from .common import UMBRELLA, _effects, antidepressant_classes

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


def effect_ci(effect, low, high) -> str:
    """'-0.45 [-0.66, -0.24]' on the harmonised sign; the parts a paper did not report say so."""
    if pd.isna(effect):
        return "not reported"
    if pd.isna(low) or pd.isna(high):
        return f"{effect:.2f} [CI not reported]"
    return f"{effect:.2f} [{low:.2f}, {high:.2f}]"


def _count(value: str, scope: str) -> str:
    if not str(value).strip():
        return "not reported"
    return f"{value} (whole meta-analysis)" if scope == "meta_analysis" else str(value)


def result_kind(scope: str) -> str:
    """Each row is a result the paper pooled and reported; none is computed here."""
    return (
        "Subgroup (as reported)"
        if "subgroup" in scope_label(scope)
        else "Pooled result (as reported)"
    )


def _review_direction(table: pd.DataFrame) -> pd.Series:
    """The review's own clinical direction for each row's (comparison, mediator), from agreement()."""
    verdicts = agreement().set_index(["comparison", "mediator"])
    out = []
    for comparison, mediator in zip(table["comparison"], table["mediator"], strict=False):
        if (comparison, mediator) not in verdicts.index:
            out.append("not compared")
            continue
        row = verdicts.loc[(comparison, mediator)]
        if not row["review_net"]:
            out.append("no clinical finding")
        else:
            out.append(
                f"{row['review_net']} (findings: {row['review_clinical']}; {row['verdict']})"
            )
    return pd.Series(out, index=table.index, dtype=object)


def meta_analyses() -> pd.DataFrame:
    """``data/meta_analyses.csv`` with numeric columns as numbers and a readable source label."""
    table = data.table(name="meta_analyses")
    for column in ("effect", "ci_low", "ci_high", "i_squared"):
        table[column] = pd.to_numeric(table[column].replace("", None), errors="coerce")
    labels = data.citation_labels(keys=sorted(set(table["citation"])))
    table["source"] = table["citation"].map(lambda k: labels.get(k, {}).get("label", k))
    return table


# (field, title, Vega-Lite type, number format) of the forest plot's tooltip.
_FOREST_TOOLTIP = (
    ("mediator", "Mediator", "nominal", None),
    ("source", "Meta-analysis", "nominal", None),
    ("scope", "Scope", "nominal", None),
    ("reported_effect", "As published", "nominal", None),
    ("effect", "Harmonised effect", "quantitative", ".2f"),
    ("ci", "95% CI", "nominal", None),
    ("k", "Studies (k)", "nominal", None),
    ("n_text", "Participants (n)", "nominal", None),
    ("review", "Review's clinical findings", "nominal", None),
    ("significance", "Significance", "nominal", None),
    ("source_note", "Read from", "nominal", None),
)
# The numbers beside each row, as in a printed forest plot: effect [95% CI], k, n and the
# review's own clinical direction for the same mediator and comparison: (field, title, width).
_FOREST_COLUMNS = (
    ("effect_ci", "Effect [95% CI]", 130),
    ("k", "k", 30),
    ("n_text", "n", 40),
    ("review", "Review (clinical)", 150),
)
_FOREST_ROWS = "forest_rows"  # the one named table the facet splits into groups (Figure.datasets)


# Forest plot layout, in pixels: the plot's width, the gap before each text column, the group
# name's offset to the left of the plot (where the y axis' labels start) and above each group.
_FOREST_PLOT_WIDTH = 300
_FOREST_GAP = 4
_FOREST_LABELS = 230


def _forest_spec(
    plotted: pd.DataFrame, group_field: str, groups: list, domain: list[float]
) -> dict:
    """The forest plot's Vega-Lite spec: one view, faceted into a row per group, each row the
    plot and its text columns (effect [95% CI], k, n, the review's direction) as layers.

    Performance: the plot was a panel per group, each a plot and four text columns concatenated
    (about 50 views and 100 sub-specs for the before/after plot), which Vega parsed and ran view
    by view: 0.6 s of the page's 1.1 s to its charts.  A facet is parsed once and laid out by
    Vega's grid; it draws the same picture (titles, column headings, axis lines, ticks, colours
    and marks at the same pixels, within one).  Assembled as plain Vega-Lite here rather than
    from Altair objects, which deep-copy and re-validate every layer; compiled by vl-convert as
    every chart is, and tests/pages/test_synthesis.py validates it against the Vega-Lite schema.
    """
    # The x scale spans the plot's width; the text columns lie to its right, in the same view.
    scale = {"domain": domain, "nice": False, "range": [0, _FOREST_PLOT_WIDTH]}
    y_sort = {"field": "effect", "op": "min"}
    tooltip = [
        {"field": field, **({"format": fmt} if fmt else {}), "title": title, "type": kind}
        for field, title, kind, fmt in _FOREST_TOOLTIP
    ]
    y = {
        "axis": {"labelLimit": _FOREST_LABELS, "minExtent": _FOREST_LABELS},
        "field": "row",
        "sort": y_sort,
        "title": None,
        "type": "nominal",
    }
    direction_domain = [ma_direction_labels()[d] for d in ("decrease", "no_change", "increase")]
    title = ["Reported direction", "(filled = significant)"]
    direction = {
        "color": {
            "field": "Direction",
            "scale": {
                "domain": direction_domain,
                "range": [
                    charts.DIRECTION_COLOURS[d] for d in ("decrease", "no_change", "increase")
                ],
            },
            "title": title,
            "type": "nominal",
        },
        "shape": {
            "field": "Direction",
            "scale": {
                "domain": direction_domain,
                "range": [
                    charts.DIRECTION_SHAPES[d] for d in ("decrease", "no_change", "increase")
                ],
            },
            "title": title,
            "type": "nominal",
        },
    }
    x_title = ["Harmonised effect", "(negative = lower after treatment,", "or in the first group)"]
    # The axis (below the last group) ticks as the plot's own width would (Vega-Lite's default,
    # ceil(width / 40)), not the view's, which includes the text columns.
    axis = {"tickCount": -(-_FOREST_PLOT_WIDTH // 40), "title": x_title}

    def x(field: str) -> dict:
        return {"axis": axis, "field": field, "scale": scale, "type": "quantitative"}

    def in_group(op: str, group) -> dict:
        return {"filter": f"datum[{json.dumps(group_field)}] {op} {json.dumps(str(group))}"}

    one_per_group = {"aggregate": [{"op": "count", "as": "n_rows"}], "groupby": [group_field]}
    text = {"type": "text", "align": "left", "color": "#222222", "fontSize": 11}
    # Each group's name and the first group's column headings sit above the group, as view
    # titles did (bottom 5 px above it; the name starts where the y axis' labels do).
    above = {"baseline": "bottom", "y": -5}
    layers = [
        {
            "mark": {"type": "rule", "aria": False, "color": "#000000", "strokeDash": [3, 3]},
            "encoding": {"x": x("zero")},
            "transform": [one_per_group, {"calculate": "0", "as": "zero"}],
        },
        {
            "mark": {"type": "rule", "aria": False, "color": "#333333", "strokeWidth": 1.5},
            "encoding": {"tooltip": tooltip, "x": x("ci_low"), "x2": {"field": "ci_high"}, "y": y},
            "transform": [{"filter": "isValid(datum.ci_low)"}],
        },
        # Every result as a hollow mark; significant ones are filled on top.  Screen readers
        # get each result once, from its hollow mark (its description is the tooltip, CI and
        # significance included): the CI lines and filled marks are hidden from them, since a
        # group with none would leave an empty, unlabelled container (axe: svg-img-alt).
        {
            "mark": {"type": "point", "filled": False, "size": 110, "strokeWidth": 2},
            "encoding": {**direction, "tooltip": tooltip, "x": x("effect"), "y": y},
        },
        {
            "mark": {"type": "point", "aria": False, "filled": True, "opacity": 1, "size": 110},
            "encoding": {**direction, "tooltip": tooltip, "x": x("effect"), "y": y},
            "transform": [{"filter": "datum.significant == 'yes'"}],
        },
        {
            "mark": {
                **text,
                **above,
                "x": -_FOREST_LABELS,
                "color": "#000000",
                "fontSize": 12,
                "fontWeight": "bold",
            },
            "encoding": {"text": {"field": group_field, "type": "nominal"}},
            "transform": [one_per_group],
        },
        # The line under each group (the axis' own line is drawn under the last one), 0.5 px
        # lower as an axis line is drawn.
        {
            "mark": {"type": "rule", "aria": False, "color": "#888", "yOffset": 0.5},
            "encoding": {
                "x": x("low"),
                "x2": {"field": "high"},
                "y": {"value": "height"},
            },
            "transform": [
                in_group("!==", groups[-1]),
                one_per_group,
                {"calculate": json.dumps(domain[0]), "as": "low"},
                {"calculate": json.dumps(domain[1]), "as": "high"},
            ],
        },
    ]
    offset = _FOREST_PLOT_WIDTH + _FOREST_GAP
    for field, heading, width in _FOREST_COLUMNS:
        layers.append(
            {
                "mark": {**text, "baseline": "middle", "x": offset},
                "encoding": {"text": {"field": field, "type": "nominal"}, "y": y},
            }
        )
        layers.append(
            {
                "mark": {**text, **above, "x": offset, "fontWeight": "bold"},
                "encoding": {"text": {"value": heading}},
                "transform": [in_group("===", groups[0]), one_per_group],
            }
        )
        offset += width + _FOREST_GAP
    theme = alt.theme.get()()  # the active Altair theme's config, as Altair's own to_dict adds it
    config = {
        **theme.get("config", {}),
        "view": {**theme.get("config", {}).get("view", {}), "stroke": None},
    }
    return {
        "config": config,
        "data": {"name": _FOREST_ROWS},
        "facet": {
            "row": {
                "field": group_field,
                "header": {"labels": False, "title": None},
                "sort": [str(g) for g in groups],
                "title": None,
                "type": "nominal",
            }
        },
        "spec": {"height": {"step": 18}, "layer": layers, "width": offset - _FOREST_GAP},
        "resolve": {"scale": {"y": "independent"}},
        "spacing": 5,
        "$schema": alt.SCHEMA_URL,
    }


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
    plotted["effect_ci"] = [
        effect_ci(e, lo, hi)
        for e, lo, hi in zip(plotted["effect"], plotted["ci_low"], plotted["ci_high"], strict=False)
    ]
    plotted["k"] = plotted["n_studies"].replace("", "–")
    plotted["n_text"] = plotted["n_participants"].replace("", "–")
    plotted["review"] = _review_direction(plotted).str.replace(r" \(.*\)$", "", regex=True)
    group_field = "Comparison" if len(comparisons) > 1 else "mediator"
    low = min(0.0, plotted[["effect", "ci_low"]].min().min()) if len(plotted) else -1.0
    high = max(0.0, plotted[["effect", "ci_high"]].max().max()) if len(plotted) else 1.0
    groups = sorted(
        plotted[group_field].unique(),
        key=lambda g: (
            list(comparison_labels().values()).index(g) if g in comparison_labels().values() else 0,
            g,
        ),
    )
    # One named table, embedded once (Figure.datasets); the facet splits it into the groups.
    fields = ["row", "effect", "ci_low", "ci_high", "significant", "Direction", "Comparison"]
    fields += [field for field, _title, _type, _format in _FOREST_TOOLTIP]
    fields += ["effect_ci", "k", "n_text", "review"]
    plotted = plotted[list(dict.fromkeys(fields))]
    chart = _forest_spec(
        plotted,
        group_field,
        groups,
        domain=[round(low - 0.1, 1), round(high + 0.1, 1)],
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
        "upward triangles increases. Beside each row: the effect with its 95% confidence interval, the number of "
        "studies (k) and participants (n) where the paper reports them, and the direction of the review's own "
        "clinical findings for the same mediator. Every row is a result the paper itself pooled; no summary is "
        f"computed here. {_plural(len(not_plotted), 'further result')} without a numeric effect "
        "appear only in the tables."
    )
    records = json.loads(plotted.to_json(orient="records"))
    return Figure(
        chart=chart,
        title=title,
        description=description,
        data=plotted.assign(n=1),
        datasets={"forest_rows": records},
    )


def forest_table(comparisons: tuple[str, ...] = ("treatment_pre_post",)) -> Table:
    """The forest plot's numbers as a table: every reported result, with its k, n and the review's direction."""
    ma = meta_analyses()
    ma = ma[ma["comparison"].isin(comparisons)].sort_values(["mediator", "source"], kind="stable")
    shown = pd.DataFrame(
        {
            "Mediator": ma["mediator"],
            "Meta-analysis": ma["source"],
            "Result": ma["scope"].map(result_kind),
            "Scope": ma["scope"].map(scope_label),
            "Effect [95% CI]": [
                effect_ci(e, lo, hi)
                for e, lo, hi in zip(ma["effect"], ma["ci_low"], ma["ci_high"], strict=False)
            ],
            "k (studies)": [
                _count(v, sc) for v, sc in zip(ma["n_studies"], ma["n_scope"], strict=False)
            ],
            "n (participants)": [
                _count(v, sc) for v, sc in zip(ma["n_participants"], ma["n_scope"], strict=False)
            ],
            "Reported direction": ma["direction"].map(ma_direction_labels()),
            "Review's own direction (clinical findings)": _review_direction(ma),
        }
    )
    names = " and ".join(comparison_labels()[c].lower() for c in comparisons)
    return Table(
        shown,
        f"Forest plot in numbers: {names} (harmonised sign; every row as the paper reports it)",
        links={"Meta-analysis": ma["citation"].map(citations.reference_href)},
    )


def _net(counts: pd.Series) -> str:
    """The summary of findings' net-direction rule; "" when no clinical finding voted."""
    net = sof.net_direction(counts)
    return "" if net == "none" else net


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
    # Every tracked query the computation makes runs on each call, memo or not, so a page
    # that asks records all its inputs (the labels and enums too).
    ma, rows = meta_analyses(), data.evidence()
    antidepressant_classes(), comparison_labels(), ma_direction_labels(), data.direction_labels()
    # Performance: the page asks for this table six times (summary, two forest plots, two
    # forest tables, the agreement table); at 1000x each took over a second.  It is computed
    # once per version of its input files and copied out, so callers cannot change the memo.
    key = _inputs_key()
    if key not in _AGREEMENT:
        _AGREEMENT.clear()
        _AGREEMENT[key] = _agreement(ma, rows)
    return _AGREEMENT[key].copy()


_AGREEMENT: dict[tuple, pd.DataFrame] = {}


def _inputs_key() -> tuple:
    """Path, mtime and size of every file agreement() reads (data tables, labels, bibliography)."""
    root = paths.find_root()
    files = [
        paths.data_dir(root) / f"{name}.csv"
        for name in ("evidence", "interventions", "mediators", "meta_analyses")
    ]
    files += [paths.data_dir(root) / DATAPACKAGE_FILE, paths.bib_path(root)]
    return tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)


def _agreement(ma: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    effects = _effects(rows)
    treated = effects[
        effects["drug_class"].isin(antidepressant_classes()) | (effects["intervention"] == UMBRELLA)
    ]
    cases = rows[rows["claim_type"] == "condition_vs_control"]
    review_sets = {
        "treatment_pre_post": treated,
        "mdd_vs_controls": cases[cases["intervention"] == "major depressive disorder"],
    }
    # Distinct sources per (mediator, clinical or not, direction) of each review set, counted
    # once over the whole set rather than by filtering it again for every pooled mediator.
    review_counts = {
        comparison: subset.assign(is_clinical=subset["evidence_type"] == "clinical")
        .groupby(["mediator", "is_clinical", "direction"])["source_id"]
        .nunique()
        for comparison, subset in review_sets.items()
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
            net = ""
            review_clinical, review_other, verdict = "", "", "not assessed"
            reason = "the review's data have no findings of this kind"
        else:
            counts = review_counts[comparison]
            clinical, other = (_direction_counts(counts, mediator, flag) for flag in (True, False))
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
                "review_net": net.replace("_", " "),
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


def _direction_counts(counts: pd.Series, mediator: str, clinical: bool) -> pd.Series:
    """Distinct sources by direction for one mediator, clinical or other (empty if none)."""
    try:
        return counts.loc[(mediator, clinical)]
    except KeyError:
        return pd.Series(dtype="int64")


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
