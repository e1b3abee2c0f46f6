"""HTML outputs for chapters: charts and tables that render offline and escape all text.

A chart is emitted as its Vega-Lite spec inside a ``<script type="application/json">``
block; ``static/review-charts.js`` (bundled with vega at build time) draws it.  Nothing
is loaded from another host, and curator-supplied text reaches the page only as
escaped JSON or escaped HTML.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import pandas as pd


def _script_safe_json(value: Any) -> str:
    # Inside <script>, "</script>" or "<!--" in data would end the block early.
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


@dataclass
class Figure:
    """An Altair chart with the text alternative every chart on the site must carry."""

    chart: alt.TopLevelMixin
    title: str
    description: str
    data: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    # Rows of named data sources (``alt.NamedData(name)``), added to the spec after Altair has
    # built it: a chart of many sub-charts sharing one table then embeds it once, and Altair
    # does not deep-copy it into every sub-chart (which made the forest plot take seconds).
    datasets: dict[str, list[dict[str, Any]]] = field(repr=False, default_factory=dict)

    def spec(self) -> dict[str, Any]:
        # Builders aggregate before charting, so row counts are bounded by the vocabularies, not
        # by the findings; Altair's 5000-row guard against embedding raw data does not apply.
        with alt.data_transformers.disable_max_rows():
            spec = self.chart.properties(description=f"{self.title}. {self.description}").to_dict()
        if self.datasets:
            spec.setdefault("datasets", {}).update(self.datasets)
        spec.setdefault("usermeta", {})["review"] = {
            "rows": int(self.data.get("n", pd.Series(dtype=int)).sum())
        }
        return spec

    def _repr_html_(self) -> str:
        spec = self.spec()
        ident = (
            "chart-" + hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
        )
        return (
            # tabindex: a wide chart scrolls sideways inside its figure, so keyboard users must
            # be able to focus it (axe-core: scrollable-region-focusable).
            f'<figure class="review-chart" tabindex="0" aria-labelledby="{ident}-caption">'
            f'<div class="review-chart__canvas" id="{ident}"></div>'
            f'<script type="application/json" class="review-chart__spec" data-target="{ident}">'
            f"{_script_safe_json(spec)}</script>"
            f'<figcaption id="{ident}-caption"><strong>{html.escape(self.title)}.</strong> '
            f"{html.escape(self.description)}</figcaption></figure>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self._repr_html_(), "text/plain": f"{self.title}. {self.description}"}


@dataclass
class Table:
    """A scrollable, labelled HTML table; every cell is escaped, links are built here only."""

    frame: pd.DataFrame
    caption: str
    links: dict[str, pd.Series] = field(default_factory=dict)  # column -> href per row (may be "")
    more: tuple[str, str] | None = (
        None  # (text, href) of a note after the table, e.g. rows not shown
    )

    def _cell(self, column: str, position: int, value: Any) -> str:
        text = html.escape(str(value))
        href = self.links.get(column)
        if href is not None and href.iloc[position]:
            return f'<a href="{html.escape(href.iloc[position], quote=True)}">{text}</a>'
        return text

    def _repr_html_(self) -> str:
        head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in self.frame.columns)
        body = "".join(
            "<tr>"
            + "".join(f"<td>{self._cell(column, i, value)}</td>" for column, value in row.items())
            + "</tr>"
            for i, (_, row) in enumerate(self.frame.iterrows())
        )
        caption = html.escape(self.caption)
        return (
            f'<div class="review-table" role="region" tabindex="0" aria-label="{caption}">'
            f'<table class="table"><caption>{caption}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>"
            + (
                f'<p class="review-table__more"><a href="{html.escape(self.more[1], quote=True)}">'
                f"{html.escape(self.more[0])}</a></p>"
                if self.more
                else ""
            )
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self._repr_html_(), "text/plain": self.caption}


def markdown(text: str) -> Any:
    """Generated prose (counts, lists) rendered as Markdown in the page."""
    from IPython.display import Markdown

    return Markdown(text)


def escape_markdown(text: Iterable[str] | str) -> str:
    """Escape text from the data before it enters generated Markdown."""
    if not isinstance(text, str):
        return ", ".join(escape_markdown(t) for t in text)
    return html.escape(text, quote=False).translate(
        {ord(c): f"\\{c}" for c in "\\`*_{}[]()#+!|<>~"}
    )
