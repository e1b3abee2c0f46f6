"""HTML outputs for chapters: charts and tables that render offline and escape all text.

A chart is built as a Vega-Lite spec, compiled to Vega here (vl-convert, at build time) and
emitted inside a ``<script type="application/json">`` block; ``build/static/review-charts.js``
(bundled with the Vega runtime only) draws it, so readers never download the Vega-Lite
compiler.  A table is plain HTML that reads without scripts; ``build/static/review-tables.js``
adds sorting, a filter and, on narrow screens, row details.  Nothing is loaded from another
host, and curator-supplied text reaches the page only as escaped JSON or escaped HTML.
"""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import altair as alt

# altair is imported where a chart is built, not here: the stale-page check imports this module
# (through the screening queries) and never draws a chart, and altair costs it about 1 s.


def _script_safe_json(value: Any) -> str:
    # Inside <script>, "</script>" or "<!--" in data would end the block early.
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


@dataclass
class Figure:
    """An Altair chart with the text alternative every chart on the site must carry."""

    # An Altair chart, or a Vega-Lite spec a builder assembled itself (a dict, used as it is:
    # see meta_analyses._forest_spec for why).
    chart: alt.TopLevelMixin | dict[str, Any]
    title: str
    description: str
    data: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    # Rows of named data sources (``alt.NamedData(name)``), added to the spec after Altair has
    # built it: a chart of many sub-charts sharing one table then embeds it once, and Altair
    # does not deep-copy it into every sub-chart (which made the forest plot take seconds).
    datasets: dict[str, list[dict[str, Any]]] = field(repr=False, default_factory=dict)
    # The top-level chart's inline rows (``data.values``), set after Altair has built and
    # validated the spec around a placeholder: Altair walks and schema-validates every value of
    # inline data, which took seconds for the thousands of marks of a matrix at 1000x.
    values: list[dict[str, Any]] | None = field(repr=False, default=None)
    # For a chart of panels with a fixed width (Vega-Lite's "container" width does not apply to
    # concatenated views): the plot's width follows the figure's, less this many pixels for its
    # labels, between the spec's own width and 2.5 times that.
    fill_width_reserve: int | None = None
    # "canvas" for a chart of thousands of marks: Vega draws them into one bitmap about twice
    # as fast as it builds one SVG element per mark (tooltips work the same).  Charts of a
    # few hundred marks, every chart of the review today, stay SVG.
    renderer: str = "svg"
    # (text, link text, href) of a visible note above the chart, e.g. that only the rows with
    # the most sources are drawn and where every finding is (the data download).
    more: tuple[str, str, str] | None = None

    def spec(self) -> dict[str, Any]:
        # Builders aggregate before charting, so row counts are bounded by the vocabularies, not
        # by the findings; Altair's 5000-row guard against embedding raw data does not apply.
        description = f"{self.title}. {self.description}"
        if isinstance(self.chart, dict):
            # A copy, as Altair's to_dict gives: a caller changing the spec never changes the chart.
            spec = {**json.loads(json.dumps(self.chart)), "description": description}
        else:
            import altair as alt

            with alt.data_transformers.disable_max_rows():
                spec = self.chart.properties(description=description).to_dict()
        if self.values is not None:
            if "values" not in spec.get("data", {}):
                raise ValueError(
                    f"chart {self.title!r}: Figure.values needs inline data to replace"
                )
            spec["data"] = {**spec["data"], "values": self.values}
        if self.datasets:
            spec.setdefault("datasets", {}).update(self.datasets)
        spec.setdefault("usermeta", {})["review"] = {
            "rows": int(self.data.get("n", pd.Series(dtype=int)).sum())
        }
        return spec

    def vega_spec(self) -> dict[str, Any]:
        """The chart compiled to Vega: what the page embeds and the Vega runtime draws."""
        import vl_convert

        spec = vl_convert.vegalite_to_vega(self.spec())
        if self.fill_width_reserve is not None and isinstance(spec.get("width"), int | float):
            low = spec.pop("width")
            high, reserve = low * 2.5, self.fill_width_reserve
            fit = f"clamp(containerSize()[0] - {reserve}, {low}, {high})"
            fit = f"isFinite(containerSize()[0]) ? {fit} : {low}"
            spec.setdefault("signals", []).insert(
                0,
                {"name": "width", "init": fit, "on": [{"events": "window:resize", "update": fit}]},
            )
        return spec

    def _repr_html_(self) -> str:
        spec = self.vega_spec()
        ident = (
            "chart-" + hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
        )
        return (
            # tabindex: a wide chart scrolls sideways inside its figure, so keyboard users must
            # be able to focus it (axe-core: scrollable-region-focusable).
            f'<figure class="review-chart" tabindex="0" aria-labelledby="{ident}-caption">'
            '<p class="review-scroll-cue">Wider than the screen: scroll sideways to see the '
            "whole chart.</p>"
            + (
                f'<p class="review-chart__more">{html.escape(self.more[0])} '
                f'<a href="{html.escape(self.more[2], quote=True)}">{html.escape(self.more[1])}</a>'
                ".</p>"
                if self.more
                else ""
            )
            + f'<div class="review-chart__canvas" id="{ident}"></div>'
            + f'<script type="application/json" class="review-chart__spec" data-target="{ident}"'
            + (
                f' data-renderer="{html.escape(self.renderer, quote=True)}"'
                if self.renderer != "svg"
                else ""
            )
            + ">"
            + f"{_script_safe_json(spec)}</script>"
            + f'<figcaption id="{ident}-caption"><strong>{html.escape(self.title)}.</strong> '
            f"{html.escape(self.description)}</figcaption></figure>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self._repr_html_(), "text/plain": f"{self.title}. {self.description}"}


Link = tuple[str, str]  # (text, href)

# Rows from which a table is "long": its rows (at least ~28 px each) fill its scroll box's
# 80vh cap on screens up to ~1050 px tall, so the box's height while not yet laid out
# (contain-intrinsic-block-size: 80vh in review.css) is its real height.
LONG_TABLE_ROWS = 30


@dataclass
class Table:
    """A labelled HTML table; every cell is escaped, links are built here only.

    ``links`` gives one href per row for a column (the whole cell becomes a link); a cell whose
    value is a list of ``(text, href)`` pairs becomes several links.  ``priority`` ranks columns
    for narrow screens (1: always shown, 2: hidden on phones, 3: hidden below desktop width);
    columns not named are priority 1.  Hidden columns stay in the HTML and are shown as the
    row's details when the reader expands it, so no value is ever out of reach.
    """

    frame: pd.DataFrame
    caption: str
    links: dict[str, pd.Series] = field(default_factory=dict)  # column -> href per row (may be "")
    more: tuple[str, str] | None = (
        None  # (text, href) of a note after the table, e.g. rows not shown
    )
    priority: dict[str, int] = field(default_factory=dict)
    noun: str = "rows"  # what a row is, for the filter's status line ("12 of 40 findings")

    def _cell(self, column: str, position: int, value: Any) -> str:
        if isinstance(value, list):
            return "; ".join(
                f'<a href="{html.escape(href, quote=True)}">{html.escape(text)}</a>'
                if href
                else html.escape(text)
                for text, href in value
            )
        text = html.escape(str(value))
        href = self.links.get(column)
        if href is not None and href.iloc[position]:
            return f'<a href="{html.escape(href.iloc[position], quote=True)}">{text}</a>'
        return text

    def _priority(self, column: str) -> str:
        rank = self.priority.get(column, 1)
        if rank not in (1, 2, 3):
            raise ValueError(f"Table {self.caption!r}: priority of {column!r} must be 1, 2 or 3")
        return f' data-priority="{rank}"'

    def _repr_html_(self) -> str:
        head = " ".join(
            f'<th scope="col"{self._priority(str(c))}>{html.escape(str(c))}</th>'
            for c in self.frame.columns
        )
        labels = [html.escape(str(c), quote=True) for c in self.frame.columns]
        # Whitespace between cells and rows: Sphinx's search indexer strips tags without
        # adding spaces, which glued neighbouring cells into one word ("2011tnf-αafter").
        body = "\n".join(
            "<tr>"
            + " ".join(
                f'<td data-label="{label}"{self._priority(str(column))}>'
                f"{self._cell(column, i, value)}</td>"
                for label, (column, value) in zip(labels, row.items(), strict=True)
            )
            + "</tr>"
            for i, (_, row) in enumerate(self.frame.iterrows())
        )
        caption = html.escape(self.caption)
        # A long table's box is laid out only once it nears the screen (review.css), so the
        # first layout of a page with long tables (contested findings at 1000x: 240 ms of its
        # load) leaves them for later.  Long = enough rows to fill the box's 80vh cap.
        scroll = "review-table__scroll" + (
            " review-table__scroll--long" if len(self.frame) >= LONG_TABLE_ROWS else ""
        )
        return (
            f'<div class="review-table" data-noun="{html.escape(self.noun, quote=True)}">'
            f'<div class="{scroll}" role="region" tabindex="0" aria-label="{caption}">'
            f'<table class="table"><caption>{caption}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div></div>"
            + (
                f'<p class="review-table__more"><a href="{html.escape(self.more[1], quote=True)}">'
                f"{html.escape(self.more[0])}</a></p>"
                if self.more
                else ""
            )
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self._repr_html_(), "text/plain": self.caption}


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame.to_dict(orient="records")``: one dict per row, values as Python objects.

    Performance: built from each column's ``tolist()`` (Python scalars, as ``to_dict`` boxes
    them), about six times faster than ``to_dict``, which boxes every value one by one (the
    explorer's 18,000 strata at 1000x: 0.5 s).  Equality with ``to_dict`` is tested.
    """
    columns = list(frame.columns)
    if not columns:
        return [{} for _ in range(len(frame))]
    return [
        dict(zip(columns, values, strict=True))
        for values in zip(*(frame[c].tolist() for c in columns), strict=True)
    ]


def warm_up() -> None:
    """Start vl-convert's engine (1-2 s in a new process) before the first chart needs it."""
    import vl_convert

    vl_convert.vegalite_to_vega({"mark": "point", "data": {"values": []}})


def markdown(text: str) -> Any:
    """Generated prose (counts, lists) rendered as Markdown in the page."""
    from IPython.display import Markdown

    return Markdown(text)
