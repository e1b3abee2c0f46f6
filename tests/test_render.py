"""Rendering escapes curator text and keeps charts self-contained."""

import ast
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


# --- the compile memo (render.compile_vega) ---------------------------------------------------


def _review_copy(tmp_path, monkeypatch) -> Path:
    """A review root whose _build/ is private to the test (only what the memo needs)."""
    (tmp_path / "data").mkdir()
    (tmp_path / "_toc.yml").write_text("root: index\n", encoding="utf-8")
    monkeypatch.setenv("REVIEW_ROOT", str(tmp_path))
    return tmp_path


def _layered(rows: list[dict], other: list[dict]) -> dict:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "description": f"{len(rows)} rows",
        "usermeta": {"review": {"rows": len(rows)}},
        "datasets": {"named": other},
        "vconcat": [
            {"data": {"values": rows}, "mark": "bar", "encoding": {"x": {"field": "n"}}},
            {"data": {"name": "named"}, "mark": "point", "encoding": {"y": {"field": "k"}}},
            {"data": {"values": rows}, "mark": "tick", "encoding": {"x": {"field": "n"}}},
        ],
    }


def test_compile_memo_gives_vl_convert_output_without_starting_it(tmp_path, monkeypatch):
    import vl_convert

    from neuroimmune_review import render

    root = _review_copy(tmp_path, monkeypatch)
    first = _layered([{"n": 1}, {"n": 2}], [{"k": "a"}])
    assert render.compile_vega(first) == vl_convert.vegalite_to_vega(first)
    memo = root / "_build" / ".memo" / "vega"
    assert len(list(memo.iterdir())) == 1
    # New values, same shape: served from the memo, and vl-convert is not called.
    second = _layered([{"n": i} for i in range(40)], [{"k": "b"}, {"k": "c"}])
    expected = vl_convert.vegalite_to_vega(second)
    calls = []
    monkeypatch.setattr(vl_convert, "vegalite_to_vega", lambda *a, **k: calls.append(a))
    assert render.compile_vega(second) == expected
    assert calls == []
    # A new shape is a miss.
    monkeypatch.undo()
    monkeypatch.setenv("REVIEW_ROOT", str(root))
    third = {**second, "vconcat": second["vconcat"][:2]}
    assert render.compile_vega(third) == vl_convert.vegalite_to_vega(third)
    assert len(list(memo.iterdir())) == 2


def test_compile_memo_falls_back_when_a_placeholder_does_not_come_out_once(tmp_path, monkeypatch):
    import vl_convert

    from neuroimmune_review import render

    _review_copy(tmp_path, monkeypatch)
    spec = _layered([{"n": 1}], [{"k": "a"}])
    real = vl_convert.vegalite_to_vega

    def duplicating(vl_spec, *args, **kwargs):  # a compiler that copies the data twice
        out = real(vl_spec, *args, **kwargs)
        out["data"].append(dict(out["data"][0], name="copy"))
        return out

    monkeypatch.setattr(vl_convert, "vegalite_to_vega", duplicating)
    # Both copies hold the real values: not the first copy filled and a placeholder left.
    compiled = render.compile_vega(spec)
    assert compiled == duplicating(spec)
    assert "__review_vega_memo__" not in json.dumps(compiled)
    # ... and later builds compile it directly, with its values.
    assert render.compile_vega(spec) == duplicating(spec)


def test_compile_memo_keeps_a_bounded_number_of_entries(tmp_path, monkeypatch):
    import os

    from neuroimmune_review import render

    root = _review_copy(tmp_path, monkeypatch)
    monkeypatch.setattr(render, "_MEMO_KEEP", 3)
    memo = root / "_build" / ".memo" / "vega"

    def spec(mark: str) -> dict:
        return {"mark": mark, "data": {"values": [{"n": 1}]}, "encoding": {"x": {"field": "n"}}}

    specs = [spec(mark) for mark in ("bar", "point", "tick")]
    for each in specs:
        render.compile_vega(each)
        for path in memo.iterdir():  # entries written earlier look older
            os.utime(path, (path.stat().st_mtime - 10, path.stat().st_mtime - 10))
    (memo.parent / "someone-elses.json").write_text("{}", encoding="utf-8")
    render.compile_vega(specs[0])  # a hit: now the newest
    render.compile_vega(spec("line"))
    kept = {json.loads(p.read_text())["key"] for p in memo.iterdir()}
    assert len(kept) == 3
    assert not any('"point"' in key for key in kept)  # the least recently used went
    assert (memo.parent / "someone-elses.json").exists()


def _page_figures(patch: pytest.MonkeyPatch) -> dict[str, list[Figure]]:
    """Every figure the review's pages draw at 1x: each page's cells run, results displayed."""
    from test_chapter_cells import chapter_cells

    from neuroimmune_review import provenance, render

    repo = Path(__file__).resolve().parents[1]
    patch.setenv("REVIEW_ROOT", str(repo))
    drawn: list[Figure] = []
    original = render.Figure.vega_spec

    def recording(self):
        drawn.append(self)
        return original(self)

    patch.setattr(render.Figure, "vega_spec", recording)
    patch.setattr(render, "compile_vega", lambda spec: {})  # compiled in the test
    figures = {}
    for page, cells in chapter_cells().items():
        docname = page.removesuffix(".md")
        patch.setattr(provenance, "current_docname", lambda d=docname: d)
        namespace: dict = {}
        start = len(drawn)
        for _line, code in cells:
            # As a kernel runs a cell: its statements, then its last expression displayed.
            tree = ast.parse(code)
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, page, "exec"), namespace)  # noqa: S102 - the chapter's own cells
            value = (
                eval(compile(ast.Expression(last.value), page, "eval"), namespace)  # noqa: S307
                if last
                else None
            )
            for method in ("_repr_mimebundle_", "_repr_html_"):
                if hasattr(value, method):
                    getattr(value, method)()
                    break
        if len(drawn) > start:
            figures[docname] = drawn[start:]
    return figures


def test_compile_memo_matches_vl_convert_for_every_chart_of_the_review(tmp_path, monkeypatch):
    import vl_convert

    from neuroimmune_review import render

    with monkeypatch.context() as patch:
        figures = _page_figures(patch)
    assert sum(map(len, figures.values())) > 20  # the pages really drew their charts
    root = _review_copy(tmp_path, monkeypatch)
    for docname, drawn in figures.items():
        for figure in drawn:
            spec = figure.spec()
            direct = vl_convert.vegalite_to_vega(spec)
            missed = render.compile_vega(spec)  # compiled with placeholders and kept
            hit = render.compile_vega(spec)  # filled from the kept entry
            # As text: 2 == 2.0 in Python, not on the page.
            text = json.dumps(direct, sort_keys=True)
            assert json.dumps(missed, sort_keys=True) == text, f"{docname}: {figure.title}"
            assert json.dumps(hit, sort_keys=True) == text, f"{docname}: {figure.title}"
    entries = [json.loads(p.read_text()) for p in (root / "_build/.memo/vega").iterdir()]
    # The review's charts are all served from placeholders, none compiled directly.
    assert entries and not any(entry.get("direct") for entry in entries)


def test_warm_up_starts_vl_convert_only_for_an_empty_memo(tmp_path, monkeypatch):
    import vl_convert

    from neuroimmune_review import render

    _review_copy(tmp_path, monkeypatch)
    calls = []
    real = vl_convert.vegalite_to_vega
    monkeypatch.setattr(vl_convert, "vegalite_to_vega", lambda *a, **k: calls.append(a) or real(*a))
    render.warm_up()  # a cold build: every chart will be compiled
    assert len(calls) == 1
    render.compile_vega({"mark": "bar", "data": {"values": [{"n": 1}]}})
    calls.clear()
    render.warm_up()  # charts kept: the engine starts on the first miss, if any
    assert calls == []


def test_compile_memo_gives_numbers_as_vl_convert_returns_them(tmp_path, monkeypatch):
    import vl_convert

    from neuroimmune_review import render

    _review_copy(tmp_path, monkeypatch)
    row = {
        "integral": 2.0, "negative": -5.0, "zero": -0.0, "fraction": 0.1, "tiny": 5e-324,
        "large": 1e20, "u32": 2**32 - 1, "u32_float": 2.0**32 - 1, "big": 2**32, "i32": -(2**31),
        "below_i32": -(2**31) - 1, "big_float": 2.0**40, "unsafe_int": 2**60,
        "nan": float("nan"), "inf": float("-inf"), "nested": [1.0, {"x": 3.0}], "flag": True,
        "none": None, "text": "x\u2028y",
    }  # fmt: skip
    spec = {"mark": "point", "data": {"values": [row]}, "encoding": {"x": {"field": "zero"}}}
    expected = json.dumps(vl_convert.vegalite_to_vega(spec), sort_keys=True)
    render.compile_vega(spec)  # kept
    assert json.dumps(render.compile_vega(spec), sort_keys=True) == expected


def test_compile_memo_serves_new_rows_of_named_datasets_and_urls(tmp_path, monkeypatch):
    import vl_convert

    from neuroimmune_review import render

    _review_copy(tmp_path, monkeypatch)

    def spec(frame: pd.DataFrame, url: str) -> dict:
        bars = alt.Chart(frame).mark_bar().encode(x="label:N", y="n:Q")
        other = alt.Chart(alt.Data(url=url)).mark_point().encode(x="a:Q")
        return Figure(chart=bars | other, title="T", description="D", data=frame).spec()

    first = spec(pd.DataFrame({"label": ["a", "b"], "n": [1, 2]}), "../_static/x-1.json")
    second = spec(pd.DataFrame({"label": ["c"], "n": [7]}), "../_static/x-2.json")
    assert list(first["datasets"]) != list(second["datasets"])  # Altair names them by content
    expected = json.dumps(vl_convert.vegalite_to_vega(second), sort_keys=True)
    render.compile_vega(first)
    monkeypatch.setattr(vl_convert, "vegalite_to_vega", lambda *a, **k: pytest.fail("compiled"))
    assert json.dumps(render.compile_vega(second), sort_keys=True) == expected


def test_compile_memo_fills_a_text_only_where_it_came_out_whole(tmp_path, monkeypatch):
    import vl_convert

    from neuroimmune_review import render

    _review_copy(tmp_path, monkeypatch)
    spec = _layered([{"n": 1}], [{"k": "a"}])
    real = vl_convert.vegalite_to_vega

    def quoting(vl_spec, *args, **kwargs):  # a compiler that puts the description in a text
        out = real(vl_spec, *args, **kwargs)
        out["description"] = f"{out['description']} (chart)"
        return out

    monkeypatch.setattr(vl_convert, "vegalite_to_vega", quoting)
    assert render.compile_vega(spec) == quoting(spec)
    assert "__review_vega_memo__" not in json.dumps(render.compile_vega(spec))
