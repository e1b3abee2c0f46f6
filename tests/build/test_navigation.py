"""A prose edit writes the edited page only, and the site is the one Sphinx alone makes.

``build.navigation`` keeps the sidebar's toctree HTML between builds and leaves alone the
pages Sphinx rewrites only in case a title changed (the root page, toctree parents).  These
tests build a book of text pages (nothing executes) twice in step: once as usual, and once
with the navigation memo deleted before every build (neither cache nor skip), and compare.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from strict_build import strict_build

from neuroimmune_review.build import navigation

REPO = Path(__file__).resolve().parents[2]
PAGE = "book/antidepressants/tca"
WRITTEN = re.compile(r"writing output\.\.\. .*?\[\s*\d+%\]\s+(?:\x1b\[[0-9;]*m)?([\w/-]+)")


def _build(root: Path) -> list[str]:
    """Build *root* strictly; return the pages Sphinx wrote."""
    return WRITTEN.findall(strict_build(root, timeout=600))


def _site(root: Path) -> dict[str, bytes]:
    html = root / "_build/html"
    return {
        p.relative_to(html).as_posix(): p.read_bytes()
        for p in sorted(html.rglob("*"))
        if p.suffix == ".html" or p.name == "searchindex.js"
    }


class Twins:
    """The book with the memo, and its twin built without it."""

    def __init__(self, root: Path, plain: Path) -> None:
        self.root, self.plain = root, plain

    def edit(self, change) -> None:
        for root in (self.root, self.plain):
            page = root / f"{PAGE}.md"
            page.write_text(change(page.read_text(encoding="utf-8")), encoding="utf-8")

    def build(self) -> list[str]:
        (self.plain / "_build" / navigation.MEMO).unlink(missing_ok=True)
        _build(self.plain)
        return _build(self.root)

    def differing(self) -> list[str]:
        mine, plain = _site(self.root), _site(self.plain)
        assert mine.keys() == plain.keys()
        return [name for name in plain if mine[name] != plain[name]]


@pytest.fixture(scope="module")
def twins(tmp_path_factory) -> Twins:
    """The review's toc and data with every page a short text page, built once."""
    root = tmp_path_factory.mktemp("book")
    for name in ("_config.yml", "references.bib", "_toc.yml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "data", root / "data")
    toc = (REPO / "_toc.yml").read_text(encoding="utf-8")
    for page in ["book/index", *re.findall(r"file: (book/[\w/-]+)", toc)]:
        target = root / f"{page}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        name = page.rsplit("/", 1)[-1]
        target.write_text(f"# Page {name}\n\nText of {name}.\n\n## Part of {name}\n\nMore.\n")
    plain = tmp_path_factory.mktemp("plain")
    shutil.copytree(root, plain, dirs_exist_ok=True)
    pair = Twins(root, plain)
    written = pair.build()
    assert PAGE in written and "book/index" in written
    assert (root / "_build" / navigation.MEMO).is_file()
    return pair


def _mystnb_link(root: Path) -> str:
    html = (root / "_build/html/book/index.html").read_text(encoding="utf-8")
    return re.search(r'href="[^"]*mystnb[^"]*"', html)[0]


def test_first_edit_after_a_cold_build_rewrites_the_root_page(twins):
    # A cold build writes its pages before myst-nb copies its stylesheet into _static, so they
    # link it without a checksum, and pages written later link it with one: the root page is
    # written as Sphinx would (the static files it links changed), not left as it was.
    assert "?v=" not in _mystnb_link(twins.root)
    twins.edit(lambda text: text + "\nA first added sentence.\n")

    assert twins.build() == sorted(["book/index", PAGE])
    assert "?v=" in _mystnb_link(twins.root)
    assert twins.differing() == []


def test_prose_edit_writes_the_edited_page_only(twins):
    index = twins.root / "_build/html/book/index.html"
    before = index.read_bytes(), index.stat().st_mtime_ns
    twins.edit(lambda text: text + "\nAn editor's added sentence.\n")

    assert twins.build() == [PAGE]
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before
    assert "added sentence" in (twins.root / f"_build/html/{PAGE}.html").read_text()
    # Every page and the search index (the page left alone keeps its entries) as without memo.
    assert twins.differing() == []


def test_title_edit_rewrites_the_pages_that_list_it(twins):
    twins.edit(lambda text: text.replace("# Page tca", "# Tricyclics renamed"))

    written = twins.build()
    assert PAGE in written and "book/index" in written  # Sphinx's own rule, not skipped
    assert "Tricyclics renamed" in (twins.root / "_build/html/book/index.html").read_text()
    assert twins.differing() == []


def test_prose_edit_after_a_title_edit_uses_the_new_navigation(twins):
    twins.edit(lambda text: text + "\nA second added sentence.\n")

    assert twins.build() == [PAGE]
    html = (twins.root / f"_build/html/{PAGE}.html").read_text()
    assert "Tricyclics renamed" in html and "second added sentence" in html
    assert twins.differing() == []
