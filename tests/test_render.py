"""Rendering escapes curator text and keeps charts self-contained."""

import json
import re
from pathlib import Path

import altair as alt
import pandas as pd
import pytest

from neuroimmune_review.render import Figure, Table
from neuroimmune_review.text import escape_markdown

PAYLOAD = "</script><script>alert(1)</script><img src=x onerror=alert(2)>"


def _figure(text: str) -> Figure:
    frame = pd.DataFrame({"label": [text], "n": [3]})
    return Figure(
        chart=alt.Chart(frame).mark_point().encode(x="label:N"),
        title=f"T {text}",
        description=f"D {text}",
        data=frame,
    )


def test_chart_spec_cannot_close_its_script_block():
    html = _figure(PAYLOAD)._repr_html_()
    spec_block = re.search(
        r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S
    ).group(1)
    assert "<" not in spec_block and ">" not in spec_block
    spec = json.loads(spec_block)
    assert PAYLOAD in json.dumps(
        spec, ensure_ascii=False
    )  # the text survives, escaped only for HTML
    assert "<script>alert" not in html.replace(spec_block, "")


def test_chart_carries_title_description_and_row_count():
    figure = _figure("IL-6")
    spec = figure.spec()
    assert spec["description"] == "T IL-6. D IL-6"
    assert spec["usermeta"]["review"]["rows"] == 3
    assert "<figcaption" in figure._repr_html_()


def test_table_escapes_cells_and_links():
    frame = pd.DataFrame({"Source": [PAYLOAD], "Note": ['"quoted" & <b>bold</b>']})
    html = Table(frame, "cap <i>", links={"Source": pd.Series(['javascript:"x"'])})._repr_html_()
    assert "<script>" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;/script&gt;" in html and "&quot;quoted&quot;" in html
    assert 'href="javascript:&quot;x&quot;"' in html  # quoted: cannot break out of the attribute


def test_only_long_tables_defer_their_layout():
    """A table of LONG_TABLE_ROWS rows or more is marked for content-visibility (review.css)."""
    from neuroimmune_review.render import LONG_TABLE_ROWS

    def scroll_box(rows: int) -> str:
        frame = pd.DataFrame({"n": range(rows)})
        return re.search(
            r'<div class="(review-table__scroll[^"]*)"', Table(frame, "c")._repr_html_()
        )[1]

    assert scroll_box(LONG_TABLE_ROWS - 1) == "review-table__scroll"
    assert scroll_box(LONG_TABLE_ROWS) == "review-table__scroll review-table__scroll--long"
    css = (Path(__file__).parents[1] / "src/neuroimmune_review/build/static/review.css").read_text(
        encoding="utf-8"
    )
    rule = re.search(r"\.review-table__scroll--long \{([^}]*)\}", css)[1]
    assert "content-visibility: auto" in rule and "80vh" in rule
    # the box's height while skipped is the cap of every table box, so nothing jumps
    assert re.search(r"\.review-table__scroll \{[^}]*max-height: 80vh", css)


def test_markdown_escaping_neutralises_markup():
    escaped = escape_markdown("[x](javascript:alert(1)) *b* <i>")
    assert "<i>" not in escaped and "\\[" in escaped and "\\*" in escaped


def test_inline_values_set_after_altair_give_the_chart_altair_would_build():
    rows = [{"label": f"row {i}", "n": i} for i in range(50)]
    built = alt.Chart(alt.Data(values=rows)).mark_point().encode(x="label:N", y="n:Q")
    placeholder = alt.Chart(alt.Data(values=[{}])).mark_point().encode(x="label:N", y="n:Q")
    direct = Figure(chart=built, title="T", description="D")
    late = Figure(chart=placeholder, title="T", description="D", values=rows)
    assert late.spec() == direct.spec()
    assert late.vega_spec() == direct.vega_spec()


def test_inline_values_need_a_chart_with_inline_data():
    frame = pd.DataFrame({"label": ["a"]})
    figure = Figure(
        chart=alt.Chart(frame).mark_point().encode(x="label:N"),
        title="Named data",
        description="D",
        values=[{"label": "b"}],
    )
    with pytest.raises(ValueError, match="'Named data'.*inline data"):
        figure.spec()


def test_records_are_what_to_dict_gives():
    import math

    import numpy as np
    import pandas as pd

    from neuroimmune_review.render import records

    frame = pd.DataFrame(
        {
            "text": pd.Series(["a", "é", None], dtype="str"),
            "n": np.array([1, 2, 3], dtype="int64"),
            "x": [0.5, float("nan"), 2.0],
            "flag": [True, False, True],
            "items": [["a", "b"], [], ["c"]],
        }
    )
    expected = frame.to_dict(orient="records")
    got = records(frame)
    assert [list(r) for r in got] == [list(r) for r in expected]
    for mine, theirs in zip(got, expected, strict=True):
        for key in theirs:
            a, b = mine[key], theirs[key]
            assert type(a) is type(b), key
            assert a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))
    assert records(frame.iloc[0:0]) == []
    assert records(pd.DataFrame(index=[0, 1])) == pd.DataFrame(index=[0, 1]).to_dict("records")


def test_the_stale_checks_queries_load_without_altair():
    # The stale-page check imports the modules of the queries it re-runs (the screening
    # state among them) and draws no chart: altair (about 1 s) is imported only to draw one.
    import subprocess
    import sys

    modules = [
        "neuroimmune_review.data",
        "neuroimmune_review.pages.screening",
        "neuroimmune_review.version",
        "neuroimmune_review.history",
        "neuroimmune_review.pages.suggest",
    ]
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint('altair' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
