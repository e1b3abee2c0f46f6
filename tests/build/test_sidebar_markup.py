"""The theme's sidebar markup kept between pages and builds (``navigation.keep_sidebar_markup``)
is the theme's own: pydata-sphinx-theme's ``generate_toctree_html`` computed afresh."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydata_sphinx_theme import toctree

from neuroimmune_review.build import navigation

# A toctree as Sphinx renders it: parts, the current page, a sub-page, a link into a page.
TOCTREE = """
<p class="caption" role="heading"><span class="caption-text">Part one</span></p>
<ul class="current">
<li class="toctree-l1 current"><a class="current reference internal" href="#">Current</a>
<ul><li class="toctree-l2"><a class="reference internal" href="sub.html">Sub</a></li>
<li class="toctree-l2"><a class="reference internal" href="#a-section">A section</a></li></ul></li>
<li class="toctree-l1"><a class="reference internal" href="other.html">Other &amp; more</a></li>
</ul>
<p class="caption" role="heading"><span class="caption-text">Part two</span></p>
<ul><li class="toctree-l1"><a class="reference internal" href="two.html">Two</a>
<ul><li class="toctree-l2"><a class="reference internal" href="deep.html">Deep</a></li></ul></li></ul>
"""
ARGS = {"maxdepth": 4, "collapse": False, "includehidden": True, "titles_only": True}


class FakeNavigation:
    def __init__(self) -> None:
        self.sidebars: dict[str, str] = {}
        self.changed = False

    def now(self) -> str:
        return "fingerprint"


def _context(html: str = TOCTREE) -> dict:
    return {"toctree": lambda **kwargs: html if kwargs == ARGS else pytest.fail(kwargs)}


def _kept(monkeypatch, memo: FakeNavigation, html: str = TOCTREE):
    monkeypatch.setattr(navigation, "_navigation", lambda app: memo)
    context = _context(html)
    handler = navigation._kept_sidebar(None, toctree.add_toctree_functions)
    handler(None, "book/page", "page.html", context, None)
    return context["generate_toctree_html"]


@pytest.mark.parametrize("level", [0, 1, 2])
def test_kept_sidebar_is_the_themes_own(monkeypatch, level):
    theirs = _context()
    toctree.add_toctree_functions(None, "book/page", "page.html", theirs, None)
    expected = str(theirs["generate_toctree_html"]("sidebar", 0, level, **ARGS))
    memo = FakeNavigation()
    assert _kept(monkeypatch, memo)("sidebar", startdepth=0, show_nav_level=level, **ARGS) == (
        expected
    )
    assert memo.changed and len(memo.sidebars) == 1
    # Another page (or build) with the same toctree HTML: the kept markup, no BeautifulSoup.
    monkeypatch.setattr(toctree, "BeautifulSoup", lambda *a, **k: pytest.fail("parsed"))
    again = _kept(monkeypatch, memo)
    assert again("sidebar", startdepth=0, show_nav_level=level, **ARGS) == expected


def test_other_toctrees_and_calls_go_to_the_theme(monkeypatch):
    memo = FakeNavigation()
    generate = _kept(monkeypatch, memo)
    first = generate("sidebar", startdepth=0, show_nav_level=1, **ARGS)
    other = _kept(monkeypatch, memo, TOCTREE.replace("Other", "Renamed"))
    assert "Renamed" in other("sidebar", startdepth=0, show_nav_level=1, **ARGS)
    assert len(memo.sidebars) == 2 and "Renamed" not in first
    raw = generate("raw", startdepth=0, show_nav_level=1, **ARGS)  # the soup itself
    assert type(raw).__name__ == "BeautifulSoup" and len(memo.sidebars) == 2


def test_the_theme_handler_is_replaced_for_its_version_only(monkeypatch):
    def listeners(handler):
        return {"html-page-context": [SimpleNamespace(id=7, handler=handler, priority=500)]}

    calls = []
    app = SimpleNamespace(
        events=SimpleNamespace(listeners=listeners(toctree.add_toctree_functions)),
        disconnect=lambda id: calls.append(("disconnect", id)),
        connect=lambda event, handler, priority: calls.append((event, handler, priority)),
    )
    navigation.keep_sidebar_markup(app)
    assert calls[0] == ("disconnect", 7)
    assert calls[1][0] == "html-page-context" and calls[1][2] == 499  # before the theme's others
    assert calls[1][1].__name__ == "add_kept_toctree_functions"
    calls.clear()
    monkeypatch.setattr("pydata_sphinx_theme.__version__", "0.0.0")
    navigation.keep_sidebar_markup(app)
    assert calls == []
