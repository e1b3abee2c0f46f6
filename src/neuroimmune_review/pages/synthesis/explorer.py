"""Page 1 of the synthesis: the evidence explorer (every stratum of the evidence, filterable)."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

import altair as alt
import pandas as pd

from ... import data
from ...render import Figure, markdown, records
from ...text import plural as _plural
from ..citations import reference_href
from ..counts import sources_phrase
from .common import (
    EFFECT_CLAIMS,
    MAX_LABELS,
    NET_COLOURS,
    NET_SHAPES,
    _antidepressant_rows,
    _colour_and_shape,
    _count_legend,
    _effects,
    antidepressant_classes,
    kind_groups,
    publish_file,
)
from .strata import explorer_strata

# ---------------------------------------------------------------------------
# 1. Evidence explorer


# The five filters: (signal name in the chart, URL key, label, the strata column it filters).
FILTERS = [
    ("claim_filter", "claim", "Claim type", "claim"),
    ("evidence_filter", "evidence", "Evidence type", "evidence"),
    ("species_filter", "species", "Species", "species"),
    ("class_filter", "class", "Class or group", "group"),
    ("family_filter", "family", "Mediator family", "family"),
]
ALL_CLASSES = "All antidepressant classes"


def _publish_data(strata: pd.DataFrame) -> str:
    """Write the explorer's strata as one JSON file named by its content; return its site path.

    The file is cacheable forever (a change of data changes its name), and the page stays
    small: the chart and the findings table both read it.
    """
    payload = json.dumps({"strata": records(strata)}, ensure_ascii=False, separators=(",", ":"))
    return publish_file("explorer", "json", payload, "book/synthesis/explorer")


@dataclass
class Explorer:
    """The explorer as a tool: filters above the chart, the chart, then the findings as an HTML
    table (built by ``review-explorer.js`` from the same data file), with the view in the URL."""

    figure: Figure
    options: dict[str, list[str]]
    defaults: dict[str, str]
    data_href: str

    def spec(self) -> dict:
        return self.figure.spec()

    def _repr_html_(self) -> str:
        controls = []
        for signal, key, label, _ in FILTERS:
            choices = "".join(
                f'<option value="{html.escape(o, quote=True)}"'
                f"{' selected' if o == self.defaults[key] else ''}>{html.escape(o)}</option>"
                for o in ["All", *self.options[key]]
            )
            controls.append(
                f'<label class="review-explorer__filter">{html.escape(label)} '
                f'<select name="{key}" data-signal="{signal}" '
                f'data-default="{html.escape(self.defaults[key], quote=True)}">{choices}</select></label>'
            )
        return (
            f'<section class="review-explorer" aria-label="Evidence explorer" '
            f'data-src="{html.escape(self.data_href, quote=True)}" '
            f'data-references="{html.escape(reference_href("").split("#")[0], quote=True)}" '
            f'data-classes="{html.escape(json.dumps(antidepressant_classes()), quote=True)}">'
            '<form class="review-explorer__filters" aria-label="Filters of the evidence explorer">'
            + "".join(controls)
            + '<button type="reset" class="review-explorer__reset">Reset view</button>'
            '<span class="review-explorer__share" role="status" aria-live="polite"></span>'
            "</form>"
            + self.figure._repr_html_()
            + '<div class="review-explorer__findings"><h3 class="review-explorer__heading">'
            "Findings in this view</h3>"
            '<p class="review-explorer__status" role="status" aria-live="polite">'
            "The findings table needs JavaScript; every finding is in the evidence tables of the "
            "chapters and in the data download.</p>"
            '<p class="review-explorer__actions">'
            '<button type="button" class="review-explorer__csv">Download these findings (CSV)</button> '
            '<button type="button" class="review-explorer__clear" hidden>Show every cell</button>'
            "</p>"
            '<div class="review-explorer__table"></div></div></section>'
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self._repr_html_(), "text/plain": self.figure.title}


def explorer(default_family: str = "cytokine") -> Explorer:
    """The interactive evidence matrix, its five filters and the linked findings table."""
    strata = explorer_strata()
    families = sorted(strata["family"].unique())
    if default_family not in families:
        default_family = "All"
    classes = antidepressant_classes()
    present = {column: set(strata[column].unique()) for column in ("group", "claim", "evidence")}
    groups = [
        g for g in classes + list(kind_groups().values()) + ["Other"] if g in present["group"]
    ]
    claims = [c for c in data.claim_type_labels().values() if c in present["claim"]]
    default_claim = data.claim_type_labels()[EFFECT_CLAIMS[0]]
    if default_claim not in claims:
        default_claim = "All"
    species = sorted(strata["species"].unique(), key=lambda s: (s == "not stated", s))
    types = [t for t in data.evidence_type_labels().values() if t in present["evidence"]]
    options = {
        "claim": claims,
        "evidence": types,
        "species": species,
        "class": [ALL_CLASSES, *groups],
        "family": families,
    }
    defaults = {
        "claim": default_claim,
        "evidence": "All",
        "species": "All",
        "class": "All",
        "family": default_family,
    }
    # Unbound parameters: the page's own <select> menus above the chart set them.
    params = [alt.param(name=signal, value=defaults[key]) for signal, key, _, _ in FILTERS]
    # The clicked cell ("" when none): set by review-explorer.js, so it can be kept in the URL.
    params += [
        alt.param(name="cell_intervention", value=""),
        alt.param(name="cell_mediator", value=""),
    ]
    filter_expr = (
        "(claim_filter == 'All' || datum.claim == claim_filter)"
        " && (evidence_filter == 'All' || datum.evidence == evidence_filter)"
        " && (species_filter == 'All' || datum.species == species_filter)"
        " && (class_filter == 'All' || datum.group == class_filter"
        f" || (class_filter == '{ALL_CLASSES}' && indexof({classes!r}, datum.group) >= 0))"
        " && (family_filter == 'All' || datum.family == family_filter)"
    )
    chosen = (
        "cell_intervention == '' || "
        "(datum.intervention == cell_intervention && datum.mediator == cell_mediator)"
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
                # The same wording as text.first_n, computed in the browser for the selected strata.
                f" + (datum.n_sources > {MAX_LABELS} ? '; … and ' + (datum.n_sources - {MAX_LABELS}) + ' more' : '')",
            )
        )

    # The size scale's domain is fixed from all the evidence, so the legend and the marks keep
    # their meaning whatever the filters hide.
    most = (
        int(
            strata.groupby(["intervention", "mediator"])["src"]
            .agg(lambda s: len({x for c in s for x in c}))
            .max()
            or 1
        )
        if not strata.empty
        else 1
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
    data_href = _publish_data(strata)
    source = alt.UrlData(url=data_href, format=alt.DataFormat(type="json", property="strata"))
    points = (
        alt.Chart(source)
        .mark_point(filled=True, cursor="pointer")
        .encode(
            x=x,
            y=y,
            **_colour_and_shape("net:N", "Net direction", NET_COLOURS, NET_SHAPES),
            size=alt.Size(
                "n_sources:Q",
                title="Distinct sources",
                scale=alt.Scale(domain=[1, max(most, 2)], range=[40, 320], clamp=True),
                legend=_count_legend("Distinct sources", most),
            ),
            opacity=alt.condition(chosen, alt.value(0.95), alt.value(0.3)),
            # a black outline marks a cell whose findings disagree (same mark, so one dataflow per facet)
            stroke=alt.condition("datum.contested", alt.value("#000000"), alt.value(None)),
            strokeWidth=alt.condition("datum.contested", alt.value(1.5), alt.value(0)),
            tooltip=tooltip,
        )
    )
    # A row encoding, not .facet(): the filters then run before the data are split into
    # groups, so a group (or an intervention) the filters empty leaves no blank band behind.
    matrix = (
        cells(points)
        .encode(
            row=alt.Row(
                "group:N",
                title=None,
                sort=alt.EncodingSortField("gorder", op="min"),
                spacing=4,
                header=alt.Header(
                    labelOrient="top",
                    labelAngle=0,
                    labelAlign="left",
                    labelAnchor="start",
                    labelFontWeight="bold",
                    labelPadding=2,
                ),
            )
        )
        .properties(width=alt.Step(20), height=alt.Step(20))
        .resolve_scale(y="independent")
    )
    title = "Evidence explorer: interventions against mediators"
    chart = (
        matrix.add_params(*params)
        .properties(title=alt.TitleParams(title, anchor="start"))
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
        "marks a cell whose results disagree. The five menus above the chart filter by claim type (intervention "
        "effects by default), evidence type, species, class and mediator family; the table below the chart lists "
        "the results in view, and clicking a mark narrows it to that cell."
    )
    figure = Figure(chart=chart, title=title, description=description, data=strata)
    return Explorer(figure=figure, options=options, defaults=defaults, data_href=data_href)


def explorer_summary():
    """Generated paragraph: what the explorer holds."""
    rows = data.evidence()
    strata = explorer_strata()  # of every row, as data.evidence() gives them
    cells = strata.groupby(["intervention", "mediator"]).size()
    ad = _antidepressant_rows(rows, ["source_id", "drug_class"])
    effects = _effects(rows, ["source_id"])
    return markdown(
        f"The explorer draws on {sources_phrase(rows)} covering {_plural(rows['intervention'].nunique(), 'intervention')} "
        f"and conditions and {_plural(rows['mediator'].nunique(), 'mediator')} or outcomes, which fill "
        f"{_plural(len(cells), 'cell')} of the matrix. Of these, {sources_phrase(ad)} concern the "
        f"{ad['drug_class'].nunique()} antidepressant and mood-stabiliser classes. It opens on the intervention "
        f"effects, {sources_phrase(effects)}; the claim-type menu above the chart shows the other rows, which the "
        f"synthesis pages list but do not count. Chart and table read one data file of "
        f"{_plural(len(strata), 'aggregated row')}, not the rows themselves."
    )
