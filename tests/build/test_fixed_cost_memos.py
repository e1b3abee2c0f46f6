"""What every build reuses from the last one is reused only while what it depends on is unchanged."""

from __future__ import annotations

import ast
import os
import pickle
import shutil
from importlib import metadata
from types import SimpleNamespace

import pybtex.plugin
import pytest
from pybtex.database import parse_string

from neuroimmune_review import provenance
from neuroimmune_review.build import bib_style, icons, sphinx_ext

BIB = """@article{kim2020,
  author = {Kim, Ann and Lee, Bo and others},
  title = {IL-6 after SSRIs},
  journal = {J Probe},
  year = {2020},
  doi = {10.1000/probe}
}
@article{ng2021,
  author = {Ng, Chi},
  title = {TNF-alpha in depression},
  journal = {J Probe},
  year = {2021}
}
"""


def _format(app, bib: str) -> dict:
    """One build's formatting of *bib*, as sphinxcontrib-bibtex asks for it: key -> entry."""
    bib_style.begin_build(app, None, [])
    style = bib_style.ReviewStyle()
    entries = parse_string(bib, "bibtex").entries
    out = {key: style.format_entry("1", entry) for key, entry in entries.items()}
    bib_style.keep_formatted(app, None)
    return out


def _text(formatted) -> str:
    return formatted.text.render_as("text")


def test_an_unchanged_entry_is_reused_and_an_edited_one_formatted_again(tmp_path):
    app = SimpleNamespace(srcdir=str(tmp_path))
    first = _format(app, BIB)
    assert "IL-6 after SSRIs" in _text(first["kim2020"])
    assert "et al." in _text(first["kim2020"])
    memo = tmp_path / "_build" / provenance.MEMO_DIR / bib_style.MEMO_FILE
    assert memo.is_file()
    second = _format(app, BIB)  # the next build, another process: from the file
    assert _text(second["kim2020"]) == _text(first["kim2020"])
    calls = []
    real = bib_style.PlainStyle.format_entry
    bib_style.PlainStyle.format_entry = lambda *a, **k: calls.append(1) or real(*a, **k)
    try:
        assert _text(_format(app, BIB)["ng2021"]) == _text(first["ng2021"])
        assert calls == []  # nothing formatted again
        edited = _format(app, BIB.replace("IL-6 after SSRIs", "IL-6 after SNRIs"))
        assert len(calls) == 1  # only the edited entry
        assert "IL-6 after SNRIs" in _text(edited["kim2020"])
        renamed = _format(app, BIB.replace("Lee, Bo", "Lee, Bea"))
        assert "Bea" in _text(renamed["kim2020"]) and len(calls) == 2
        relabelled = bib_style.ReviewStyle().format_entry(
            "2", parse_string(BIB, "bibtex").entries["ng2021"]
        )
        assert relabelled.label == "2" and len(calls) == 3
    finally:
        bib_style.PlainStyle.format_entry = real
    # Only the last build's entries are kept: the edited titles are gone from the file.
    assert len(pickle.loads(memo.read_bytes())) == 2


def test_new_style_code_formats_every_entry_again(tmp_path, monkeypatch):
    app = SimpleNamespace(srcdir=str(tmp_path))
    first = _format(app, BIB)
    monkeypatch.setattr(bib_style, "CODE", "another version of bib_style.py")
    calls = []
    real = bib_style.PlainStyle.format_entry
    monkeypatch.setattr(
        bib_style.PlainStyle, "format_entry", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    again = _format(app, BIB)
    assert len(calls) == 2
    assert _text(again["kim2020"]) == _text(first["kim2020"])


def test_plugins_registered_at_run_time_are_the_installed_ones():
    bib_style.register()
    for (group, name), _ in bib_style.INSTALLED_PLUGINS.items():
        (entry_point,) = metadata.entry_points(group=group, name=name)
        assert pybtex.plugin._RUNTIME_PLUGINS[group][name] is entry_point.load()
        assert pybtex.plugin.find_plugin(group, name) is entry_point.load()


def test_plugin_lookups_scan_the_installed_distributions_once(monkeypatch):
    import sphinxcontrib.bibtex.plugin

    bib_style.register()
    expected = [ep.name for ep in metadata.entry_points(group="pybtex.backends")]
    (entry_point,) = metadata.entry_points(group="pybtex.backends", name="html")
    html = entry_point.load()

    def scan(**selection):
        raise AssertionError("scanned the installed distributions again")

    monkeypatch.setattr(metadata, "entry_points", scan)
    assert pybtex.plugin.find_plugin("pybtex.backends", "html") is html
    assert [ep.name for ep in pybtex.plugin.entry_points(group="pybtex.backends")] == expected
    referencing = "sphinxcontrib.bibtex.style.referencing"
    assert sphinxcontrib.bibtex.plugin.find_plugin(referencing, "author_year") is not None


def test_the_statement_walk_finds_every_import_ast_walk_finds():
    source = """
import a
def f():
    try:
        from . import b
    except ImportError:
        import c
    finally:
        import d
    with open("x"):
        for i in []:
            import e
        else:
            while True:
                import f2
    match x:
        case 1:
            import g
class K:
    if True:
        import h
    else:
        from .i import j
"""
    kinds = (ast.Import, ast.ImportFrom)
    trees = [
        ast.parse(source),
        *(ast.parse(p.read_bytes()) for p in provenance.PACKAGE_DIR.rglob("*.py")),
    ]
    for tree in trees:
        walked = {(n.lineno, n.col_offset) for n in ast.walk(tree) if isinstance(n, kinds)}
        found = [
            (n.lineno, n.col_offset)
            for n in provenance._statements(tree.body)
            if isinstance(n, kinds)
        ]
        assert sorted(found) == sorted(walked)
    assert len([n for n in provenance._statements(trees[0].body) if isinstance(n, kinds)]) == 9


def test_a_query_code_is_walked_once_per_pass_and_again_in_the_next(monkeypatch):
    walks = []
    real = provenance.reachable_modules
    monkeypatch.setattr(
        provenance, "reachable_modules", lambda *a, **k: walks.append(1) or real(*a, **k)
    )
    name = "neuroimmune_review.data.evidence"
    with provenance._one_pass():
        first = provenance._query_code(name)
        assert provenance._query_code(name) == first
    assert len(walks) == 1
    # Between passes a module changes: the next pass sees it.
    monkeypatch.setattr(provenance, "file_digest", lambda path: "new bytes")
    with provenance._one_pass():
        assert provenance._query_code(name) != first
    assert len(walks) == 2
    assert provenance._query_code(name) != first and len(walks) == 3  # outside a pass: no memo


ICON_PAGE = (
    '<html><head><script defer src="_static/scripts/fontawesome.js"></script></head>'
    '<body><i class="fa-solid fa-bars"></i></body></html>'
)


def test_a_page_is_rewritten_again_only_after_it_was_written_again(tmp_path, monkeypatch):
    site, memo = tmp_path / "html", tmp_path / "memo.json"
    site.mkdir()
    (site / "a.html").write_text(ICON_PAGE, encoding="utf-8")
    (site / "b.html").write_text(ICON_PAGE, encoding="utf-8")
    assert icons.inline_icons_in_site(site, memo=memo) == 2
    done = (site / "a.html").read_text(encoding="utf-8")
    assert "<svg" in done and "fontawesome.js" not in done

    read = []
    real = icons.inline_icons
    monkeypatch.setattr(icons, "inline_icons", lambda text: read.append(1) or real(text))
    assert icons.inline_icons_in_site(site, memo=memo) == 0
    assert read == []  # neither page was read again
    (site / "b.html").write_text(ICON_PAGE, encoding="utf-8")  # Sphinx writes b again
    assert icons.inline_icons_in_site(site, memo=memo) == 1
    assert len(read) == 1 and "<svg" in (site / "b.html").read_text(encoding="utf-8")
    # Other code (or the other search option) rewrites every page again.
    monkeypatch.setattr(icons, "_code_key", lambda option: "new code")
    icons.inline_icons_in_site(site, memo=memo)
    assert len(read) == 3


def test_a_download_is_copied_again_only_when_its_source_changed(tmp_path):
    source, dest = tmp_path / "evidence.csv", tmp_path / "copy.csv"
    source.write_text("a,b\n1,2\n", encoding="utf-8")
    assert not sphinx_ext._same_copy(source, dest)
    shutil.copy2(source, dest)
    assert sphinx_ext._same_copy(source, dest)
    with source.open("a", encoding="utf-8") as handle:
        handle.write("3,4\n")  # a new row
    assert not sphinx_ext._same_copy(source, dest)
    shutil.copy2(source, dest)
    source.write_text("a,b\n1,2\n3,5\n", encoding="utf-8")  # same size, written a moment later
    later = dest.stat().st_mtime_ns + 10_000_000
    os.utime(source, ns=(later, later))
    assert not sphinx_ext._same_copy(source, dest)


def test_rows_appended_to_a_download_are_appended_to_its_copy(tmp_path, monkeypatch):
    source, dest = tmp_path / "evidence.csv", tmp_path / "copy.csv"
    source.write_text("a,b\n1,2\n", encoding="utf-8")
    copies = []
    real = shutil.copy2
    monkeypatch.setattr(shutil, "copy2", lambda a, b: copies.append(a) or real(a, b))

    def publish(kept):
        new = sphinx_ext._publish(source, dest, kept)
        assert dest.read_bytes() == source.read_bytes()
        assert sphinx_ext._same_copy(source, dest)  # copy2's times: the next build copies nothing
        return new

    kept = publish(None)
    assert len(copies) == 1 and kept["digest"] == provenance.file_digest(source)
    with source.open("a", encoding="utf-8") as handle:
        handle.write("3,4\n")  # a new row
    kept = publish(kept)
    assert len(copies) == 1  # only the new bytes were written
    source.write_text("a,b\n9,2\n3,4\n5,6\n", encoding="utf-8")  # an earlier byte changed
    kept = publish(kept)
    assert len(copies) == 2
    with dest.open("a", encoding="utf-8") as handle:
        handle.write("")  # the copy touched by someone else: its write signature changes
    os.utime(dest, ns=(1, 1))
    with source.open("a", encoding="utf-8") as handle:
        handle.write("7,8\n")
    kept = publish(kept)
    assert len(copies) == 3


@pytest.fixture(autouse=True)
def _fresh_bib_memo(tmp_path):
    yield
    bib_style.begin_build(SimpleNamespace(srcdir=str(tmp_path / "none")), None, [])


def _forget_walks() -> None:
    """As in a new process: no module's imports, and no walk of them, known yet."""
    provenance._module_imports.cache_clear()
    provenance._WALKS.clear()


def test_kept_imports_follow_the_module_bytes(tmp_path, monkeypatch):
    memo = tmp_path / "_build" / provenance.MEMO_DIR / provenance.IMPORTS_MEMO
    _forget_walks()
    parsed = []
    real = provenance._parse_imports
    monkeypatch.setattr(
        provenance,
        "_parse_imports",
        lambda path, module: parsed.append(module) or real(path, module),
    )
    name = "neuroimmune_review.pages.prisma"
    with provenance._one_pass(tmp_path):
        first = provenance.reachable_modules(f"import {name}")
    assert memo.is_file() and parsed
    _forget_walks()  # as in a new process
    parsed.clear()
    with provenance._one_pass(tmp_path):
        assert provenance.reachable_modules(f"import {name}") == first
    assert parsed == []  # every module's imports came from the file
    # A module whose bytes differ (another version of it) is parsed again.
    _forget_walks()
    digest = provenance.file_digest
    monkeypatch.setattr(
        provenance,
        "file_digest",
        lambda path: "edited" if path.name == "prisma.py" else digest(path),
    )
    with provenance._one_pass(tmp_path):
        provenance.reachable_modules(f"import {name}")
    assert parsed == [name]
    _forget_walks()


def test_kept_imports_are_found_by_a_new_process():
    # The key of the kept imports names the parsing code; it must not differ between
    # processes (a digest of code objects' repr held memory addresses, so no process ever
    # found the imports another had kept).
    import subprocess
    import sys

    probe = "from neuroimmune_review import provenance; print(provenance._IMPORTS_CODE)"
    other = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert other == provenance._IMPORTS_CODE


def test_code_digest_follows_nested_code():
    def outer():
        return [x for x in (1, 2)]

    def changed():
        return [x + 1 for x in (1, 2)]

    assert provenance._code_of(outer) != provenance._code_of(changed)
    assert provenance._code_of(outer) == provenance._code_of(outer)


def _cited(entry, full: bool) -> str:
    style = bib_style.ReviewAuthorYearStyle()
    template = style.person.author_or_editor_or_title(full)
    return template.format_data({"entry": entry, "style": style}).render_as("html")


def test_names_in_the_text_are_formatted_once_per_persons_and_separators(monkeypatch):
    twin = BIB.replace("kim2020", "kim2020b").replace("ng2021", "ng2021b")
    three = "@article{ab2019, author = {Alves, Ana and Brun, Bel and Cruz, Cy}, title = {T}}"
    entries = parse_string(BIB + twin + three, "bibtex").entries
    bib_style._cited_names.clear()
    fresh = {(key, full): _cited(entries[key], full) for key in entries for full in (True, False)}
    assert fresh["kim2020", False] == "Kim <em>et al.</em>"  # "and others": et al.
    assert fresh["kim2020", True] == "Kim <em>et al.</em>"
    assert fresh["ab2019", True] == "Alves, Brun, and Cruz"  # full: every name
    assert fresh["ab2019", False] == "Alves <em>et al.</em>"
    assert fresh["ng2021", True] == fresh["ng2021", False] == "Ng"
    # Formatted afresh every time (the memo emptied before each): the same text.
    for (key, full), text in fresh.items():
        bib_style._cited_names.clear()
        assert _cited(entries[key], full) == text
    # Another work with the same authors, and the same work cited again: no name formatted.
    calls = []
    real = bib_style._format_cite_names
    monkeypatch.setattr(bib_style, "_format_cite_names", lambda *a: calls.append(a) or real(*a))
    bib_style._cited_names.clear()
    assert _cited(entries["kim2020"], False) == fresh["kim2020", False] and len(calls) == 1
    assert _cited(entries["kim2020b"], False) == fresh["kim2020", False] and len(calls) == 1
    assert _cited(entries["ab2019"], True) == fresh["ab2019", True] and len(calls) == 2
    assert _cited(entries["ab2019"], False) == fresh["ab2019", False] and len(calls) == 3
    renamed = parse_string(BIB.replace("Kim, Ann", "Kam, Ann"), "bibtex").entries["kim2020"]
    assert _cited(renamed, False) == "Kam <em>et al.</em>" and len(calls) == 4


def _cite(app, bib: str) -> dict:
    """One build's in-text author names for each entry of *bib* (as a citation formats them)."""
    bib_style.begin_build(app, None, [])
    style = bib_style.ReviewAuthorYearStyle()
    names = bib_style._cite_names(role="author", sep=", ", sep2=" & ", last_sep=" & ")
    entries = parse_string(bib, "bibtex").entries
    out = {
        key: names.format_data({"entry": entry, "style": style}).render_as("text")
        for key, entry in entries.items()
    }
    bib_style.keep_cited_names(app, None)
    return out


def test_cited_names_are_kept_for_the_next_build_under_the_code(tmp_path, monkeypatch):
    app = SimpleNamespace(srcdir=str(tmp_path))
    monkeypatch.setattr(bib_style, "_cited_names", {})
    first = _cite(app, BIB)
    assert first == {"kim2020": "Kim et al.", "ng2021": "Ng"}
    memo = tmp_path / "_build" / provenance.MEMO_DIR / bib_style.CITED_FILE
    assert len(pickle.loads(memo.read_bytes())) == 2
    bib_style._cited_names.clear()  # the next build is another process: from the file
    calls = []
    real = bib_style._format_cite_names
    monkeypatch.setattr(
        bib_style, "_format_cite_names", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    assert _cite(app, BIB) == first and calls == []
    assert _cite(app, BIB.replace("Ng, Chi", "Ong, Chi")) == {**first, "ng2021": "Ong"}
    assert len(calls) == 1  # only the new author list
    bib_style._cited_names.clear()
    monkeypatch.setattr(bib_style, "CODE", "another version of bib_style.py")
    assert _cite(app, BIB) == first and len(calls) == 3  # new code formats every list again
    assert {key[0] for key in pickle.loads(memo.read_bytes())} == {bib_style.CODE}
