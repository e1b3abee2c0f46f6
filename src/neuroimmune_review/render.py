"""HTML outputs for chapters: charts and tables that render offline and escape all text.

A chart is built as a Vega-Lite spec, compiled to Vega here (vl-convert, at build time) and
emitted inside a ``<script type="application/json">`` block; ``build/static/review-charts.js``
(bundled with the Vega runtime only) draws it, so readers never download the Vega-Lite
compiler.  A table is plain HTML that reads without scripts; ``build/static/review-tables.js``
adds sorting, a filter and, on narrow screens, row details.  Nothing is loaded from another
host, and curator-supplied text reaches the page only as escaped JSON or escaped HTML.

Long by design: compiling a chart (``compile_vega``, with its memo of compiled shapes and the
checks that a kept compile fits the chart) is part of drawing it, and Figure is its only user.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import json
import math
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
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
        spec = compile_vega(self.spec())
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
    """Start vl-convert's engine (1-2 s in a new process) if the build's charts will need it.

    Only when the compile memo is empty (a cold build: every chart is compiled); otherwise the
    engine starts on the first memo miss, and a rebuild whose charts kept their shapes (a new
    evidence row) never starts it (~0.5 s of CPU a worker).
    """
    folder = _memo_folder()
    if folder is not None and any(folder.glob(f"*{_MEMO_SUFFIX}")):
        return
    import vl_convert

    vl_convert.vegalite_to_vega({"mark": "point", "data": {"values": []}})


# ---------------------------------------------------------------------------------------------
# The compile memo: Vega-Lite -> Vega without vl-convert when only the data values changed.
#
# Vega-Lite's compiler does not read inline data values (scale domains and the like are
# computed by the Vega runtime from the data), so the compiled Vega depends on the spec with
# its values left out.  Every inline ``data.values`` array of objects and every
# ``datasets[...]`` array is replaced by a placeholder (identical arrays by one placeholder,
# as the compiler merges identical inline sources), and so are the top-level ``description``
# and ``usermeta``, which the compiler copies (they carry counts that change with each row);
# that spec is compiled once and kept, and the real values are put back where the
# placeholders came out.  Key: the digest of the placeholder spec's JSON in its own key
# order (the compiler's output follows it), plus
# vl-convert's version, the Vega-Lite version it compiles for by default (its latest) and
# its Vega version.  A compile in which any placeholder does not come out exactly once is not
# kept that way: the chart is compiled with its values, then and in later builds (a "direct"
# entry).  tests/test_render.py compiles every chart of the review both ways.

_MEMO_FOLDER = "vega"  # in provenance.MEMO_DIR; holds only this memo's files
_MEMO_SUFFIX = ".vega.json"
# Entries kept: one file per distinct compiled spec (the review draws a few dozen charts).
# A hit refreshes its file's time, so pruning the oldest beyond this count, on a miss, keeps
# every entry the last builds used and bounds the folder however often the shapes change.
_MEMO_KEEP = 256
_PLACEHOLDER = "__review_vega_memo__"


def _memo_folder() -> Path | None:
    from . import paths, provenance

    try:
        return paths.build_dir(paths.find_root()) / provenance.MEMO_DIR / _MEMO_FOLDER
    except FileNotFoundError:  # a chart drawn outside any review (a test, a notebook)
        return None


@functools.cache
def _compiler_versions() -> list[str]:
    import vl_convert

    def number(version: str) -> tuple[int, ...]:
        return tuple(int(part) for part in version.lstrip("v").split(".") if part.isdigit())

    latest = max(vl_convert.get_vegalite_versions(), key=number)
    return [vl_convert.__version__, latest, vl_convert.get_vega_version()]


# Altair names a dataset after its rows ("data-" + their MD5), so the name changes with them.
_ALTAIR_DATASET = re.compile(r"data-[0-9a-f]{32}")
_NAME_MARK = "7e57ab1e0ddba11c0ffee000"  # + 8 hex digits: an Altair-like name, numbered


def _with_placeholders(
    spec: dict[str, Any],
) -> tuple[str, list[Any], dict[str, int], dict[str, str]]:
    """*spec*'s JSON with its values left out (see above); the values, by placeholder number;
    the texts' placeholders, with their numbers; the dataset names, by placeholder name.

    An array of rows becomes ``[{_PLACEHOLDER: i}]`` (still an array of objects, which the
    compiler checks for); the top-level ``usermeta`` ``{_PLACEHOLDER: i}``; the top-level
    ``description`` and each ``data.url`` the text ``_PLACEHOLDER:i:`` (a URL's extension
    kept after it: the compiler reads the format from it).  Altair's dataset names become
    names of the same form, numbered in the names' sorted order (the compiler may sort them).
    """
    values: list[Any] = []
    numbers: dict[str, int] = {}
    texts: dict[str, int] = {}

    def number(value: Any) -> int:
        text = json.dumps(value, sort_keys=True)
        if text not in numbers:
            numbers[text] = len(values)
            values.append(value)
        return numbers[text]

    def text(value: str, suffix: str = "") -> str:
        values.append(value)  # never shared: a text is its own placeholder kind
        token = f"{_PLACEHOLDER}:{len(values) - 1}:{suffix}"
        texts[token] = len(values) - 1
        return token

    def rows(value: Any) -> Any:
        # Only non-empty arrays of objects: the compiler looks at whether rows are objects.
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            return [{_PLACEHOLDER: number(value)}]
        return walk(value)

    def data(node: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for key, value in node.items():
            if key == "values":
                out[key] = rows(value)
            elif key == "url" and isinstance(value, str):
                out[key] = text(value, posixpath.splitext(value.split("?")[0])[1])
            else:
                out[key] = walk(value)
        return out

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        return {
            key: data(value) if key == "data" and isinstance(value, dict) else walk(value)
            for key, value in node.items()
        }

    shape = {}
    for key, value in spec.items():
        if key == "datasets" and isinstance(value, dict):
            shape[key] = {name: rows(array) for name, array in value.items()}
        elif key == "usermeta":
            shape[key] = {_PLACEHOLDER: number(value)}
        elif key == "description" and isinstance(value, str):
            shape[key] = text(value)
        elif key == "data" and isinstance(value, dict):
            shape[key] = data(value)
        else:
            shape[key] = walk(value)
    shape_text = json.dumps(shape)
    names = {}
    for i, name in enumerate(
        sorted(n for n in spec.get("datasets", {}) if _ALTAIR_DATASET.fullmatch(n))
    ):
        names[f"data-{_NAME_MARK}{i:08x}"] = name
        shape_text = shape_text.replace(name, f"data-{_NAME_MARK}{i:08x}")
    return shape_text, values, texts, names


def _filled(
    compiled_text: str, values: list[Any], texts: dict[str, int], names: dict[str, str]
) -> Any | None:
    """The compiled spec with the placeholders replaced; None unless each value's placeholder
    occurs exactly once, as a whole value, and each name's only as the whole name."""
    if compiled_text.count(_NAME_MARK) != sum(compiled_text.count(n) for n in names):
        return None  # a name the compiler changed (or took apart): not filled
    for placeholder, name in names.items():
        compiled_text = compiled_text.replace(placeholder, name)
    seen = [0] * len(values)

    def token(node: Any) -> int | None:
        if isinstance(node, list) and len(node) == 1 and isinstance(node[0], dict):
            node = node[0]  # an array of rows: [{_PLACEHOLDER: i}]
        if isinstance(node, dict) and list(node) == [_PLACEHOLDER]:
            i = node[_PLACEHOLDER]
            if i in texts.values():
                i = None  # a text's number in an object's place
        elif isinstance(node, str) and node in texts:
            i = texts[node]
        else:
            return None
        if not (isinstance(i, int) and 0 <= i < len(values)):
            seen.append(0)  # a placeholder the compiler changed: never filled
            return None
        seen[i] += 1
        return i

    def walk(node: Any) -> Any:
        i = token(node)
        if i is not None:
            return _as_compiled(values[i])
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, str) and _PLACEHOLDER in node:
            seen.append(0)  # part of a text: never filled
        return node

    filled = walk(json.loads(compiled_text))
    return filled if all(count == 1 for count in seen) else None


def _as_compiled(node: Any) -> Any:
    """*node* as it comes back from vl-convert's JavaScript, where numbers are JS numbers.

    An integral number from -2**31 to 2**32 - 1 comes back an int (2.0 -> 2; -0.0 stays), any
    other number a float (2**40 -> 1099511627776.0), NaN and infinities None: how vl-convert
    hands V8's numbers to Python (tested against it).
    """
    kind = type(node)
    if kind is str or kind is bool or node is None:
        return node
    if kind is float:
        if node != node or node in (math.inf, -math.inf):
            return None
        if node.is_integer() and -(2**31) <= node < 2**32 and (node or math.copysign(1, node) > 0):
            return int(node)
        return node
    if kind is int:
        return node if -(2**31) <= node < 2**32 else float(node)
    if kind is dict:
        return {key: _as_compiled(value) for key, value in node.items()}
    if kind is list:
        return [_as_compiled(item) for item in node]
    return node


def compile_vega(spec: dict[str, Any]) -> dict[str, Any]:
    """vl-convert's Vega for the Vega-Lite *spec*, through the compile memo above."""
    folder = _memo_folder()
    if folder is None:
        import vl_convert

        return vl_convert.vegalite_to_vega(spec)
    shape_text, values, texts, names = _with_placeholders(spec)
    key = json.dumps([_compiler_versions(), shape_text])
    path = folder / f"{hashlib.sha256(key.encode()).hexdigest()}{_MEMO_SUFFIX}"
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        entry = None
    if isinstance(entry, dict) and entry.get("key") == key:
        with contextlib.suppress(OSError):
            os.utime(path)  # used by this build: pruned last
        if isinstance(entry.get("vega"), str):
            filled = _filled(entry["vega"], values, texts, names)
            if filled is not None:
                return filled
        if entry.get("direct"):
            import vl_convert

            return vl_convert.vegalite_to_vega(spec)
    import vl_convert

    try:
        compiled = json.dumps(vl_convert.vegalite_to_vega(json.loads(shape_text)))
    except ValueError:  # the chart's own error, if it has one, comes from compiling it
        compiled = None
    filled = _filled(compiled, values, texts, names) if compiled is not None else None
    entry = {"key": key, "vega": compiled} if filled is not None else {"key": key, "direct": True}
    _remember(folder, path, entry)
    return filled if filled is not None else vl_convert.vegalite_to_vega(spec)


def _remember(folder: Path, path: Path, entry: dict[str, Any]) -> None:
    from .files import atomic_write

    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(entry).encode("utf-8"), durable=False)
        entries = sorted(
            folder.glob(f"*{_MEMO_SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for old in entries[_MEMO_KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # only a cache (a worker pruning at the same time, a read-only build folder)


def markdown(text: str) -> Any:
    """Generated prose (counts, lists) rendered as Markdown in the page."""
    from IPython.display import Markdown

    return Markdown(text)
