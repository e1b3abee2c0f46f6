"""Cache hits served from jupyter-cache's files (``build.nb_cache``) are jupyter-cache's answers.

Each test fills a real jupyter-cache, then asks both jupyter-cache and ``nb_cache`` the same
question: the key, the record, the merged notebook, the access time, and what myst-nb's client
holds after a hit.  A miss and an unknown cache are left to jupyter-cache.
"""

from __future__ import annotations

import copy
import json
import logging
import subprocess
import sys
import time

import nbformat
import pytest
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from myst_nb.core.config import NbParserConfig

from neuroimmune_review.build import nb_cache


def _page(code: str = "x = 1\nx + 1") -> nbformat.NotebookNode:
    """A page as myst-nb reads it: Markdown and code cells, a kernelspec, a source map."""
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Title\n\nSome prose."),
            nbformat.v4.new_code_cell(code, metadata={"tags": ["remove-input"]}),
            nbformat.v4.new_markdown_cell("More prose."),
            nbformat.v4.new_code_cell("print('two')"),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "source_map": [0, 4, 8, 10],
        },
    )
    return notebook


def _executed(page: nbformat.NotebookNode) -> nbformat.NotebookNode:
    executed = nbformat.from_dict(json.loads(json.dumps(page)))
    executed.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    outputs = iter(
        [
            [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)],
            [nbformat.v4.new_output("stream", name="stdout", text="two\n")],
        ]
    )
    for count, cell in enumerate((c for c in executed.cells if c.cell_type == "code"), 1):
        cell.execution_count, cell.outputs = count, next(outputs)
    return executed


@pytest.fixture
def cache(tmp_path):
    path = tmp_path / "cache"
    cache = get_cache(path)
    page = _page()
    cache.cache_notebook_bundle(
        CacheBundleIn(_executed(page), str(tmp_path / "page.md"), data={"execution_seconds": 1.5}),
        check_validity=False,
        overwrite=True,
    )
    return cache


def test_the_key_is_jupyter_caches_own(tmp_path):
    cache = get_cache(tmp_path / "cache")
    for page in (_page(), _page("y = 2"), nbformat.v4.new_notebook()):
        assert nb_cache.hashkey(page) == cache.create_hashed_notebook(page)[1]
    # Prose and cell ids are not part of the key; code is.
    edited = _page()
    edited.cells[0].source += "\n\nAn added sentence."
    assert nb_cache.hashkey(edited) == nb_cache.hashkey(_page())
    assert nb_cache.hashkey(_page("x = 2")) != nb_cache.hashkey(_page())


def test_a_hit_is_the_record_and_the_merged_notebook_jupyter_cache_gives(cache):
    page = _page()
    page.cells[0].source += "\n\nAn edited paragraph."  # what a prose edit changes
    found = nb_cache.record(cache.path, page)
    theirs = cache.match_cache_notebook(page)
    assert (found.pk, found.hashkey, found.uri, found.data, found.created) == (
        theirs.pk,
        theirs.hashkey,
        theirs.uri,
        theirs.data,
        theirs.created,
    )
    assert nb_cache.has_records(cache.path)
    record, notebook = nb_cache.merged(cache.path, page)
    pk, expected = cache.merge_match_into_notebook(page)
    assert record.pk == pk
    assert notebook == expected
    assert notebook.cells[0].source.endswith("An edited paragraph.")  # the page's own prose
    assert notebook.cells[1].outputs[0]["data"] == {"text/plain": "2"}  # the cached outputs


def test_a_hit_touches_the_record_as_jupyter_cache_does(cache):
    page = _page()
    before = cache.get_cache_record(cache.match_cache_notebook(page).pk).accessed
    time.sleep(0.01)
    nb_cache.merged(cache.path, page)
    after = cache.get_cache_record(cache.match_cache_notebook(page).pk).accessed
    assert after > before  # read back by jupyter-cache itself: the stored format is its own


def test_misses_are_left_to_jupyter_cache(cache, tmp_path):
    assert nb_cache.record(cache.path, _page("changed code")) is None
    assert nb_cache.merged(cache.path, _page("changed code")) is None
    # A record whose notebook file is gone: jupyter-cache raises there, so it is asked.
    key = cache.match_cache_notebook(_page()).hashkey
    (cache.path / "executed" / key / "base.ipynb").unlink()
    assert nb_cache.merged(cache.path, _page()) is None
    # No database yet (a cold build): nothing cached, and nothing is created.
    empty = tmp_path / "no-cache"
    assert not nb_cache.has_records(empty)
    assert nb_cache.record(empty, _page()) is None
    assert not empty.exists()


def test_another_jupyter_cache_version_is_not_read(cache, monkeypatch):
    monkeypatch.setattr(nb_cache, "JUPYTER_CACHE_VERSION", "0.0.0")
    with pytest.raises(nb_cache.Unsupported):
        nb_cache.record(cache.path, _page())
    with pytest.raises(nb_cache.Unsupported):
        nb_cache.has_records(cache.path)


def _client_state(client) -> tuple:
    with client:
        return client.notebook, client.exec_metadata


def test_myst_nb_gets_what_its_cache_client_gets(cache, tmp_path, monkeypatch, caplog):
    from myst_nb import sphinx_ as myst_nb_parser
    from myst_nb.core.execute.cache import NotebookClientCache

    source = tmp_path / "page.md"
    source.write_text("(the page)", encoding="utf-8")
    config = NbParserConfig(execution_mode="cache", execution_cache_path=str(cache.path))
    logger = logging.getLogger("test-nb-cache")
    monkeypatch.setattr(myst_nb_parser, "create_client", myst_nb_parser.create_client)
    nb_cache.serve_hits_to_myst_nb()
    create_client = myst_nb_parser.create_client
    assert create_client.serves_cache_hits
    with caplog.at_level(logging.INFO, logger="test-nb-cache"):
        page = _page()  # one page (cell ids are random) handed to both
        ours = create_client(copy.deepcopy(page), str(source), config, logger)
        assert type(ours).__name__ == "CachedNotebookClient"
        mine = _client_state(ours)
        theirs = _client_state(NotebookClientCache(copy.deepcopy(page), source, config, logger))
    assert mine == theirs
    pk = cache.match_cache_notebook(_page()).pk
    assert caplog.messages == [f"Using cached notebook: ID={pk}"] * 2
    # A miss, an excluded page and another mode get myst-nb's own clients.
    assert type(create_client(_page("new"), str(source), config, logger)) is NotebookClientCache
    excluded = NbParserConfig(
        execution_mode="cache",
        execution_cache_path=str(cache.path),
        execution_excludepatterns=["*.md"],
    )
    assert type(create_client(_page(), str(source), excluded, logger)).__name__ == (
        "NotebookClientBase"
    )
    off = NbParserConfig(execution_mode="off", execution_cache_path=str(cache.path))
    assert type(create_client(_page(), str(source), off, logger)).__name__ == "NotebookClientBase"


HIT_WITHOUT_ORM = """
import json, logging, sys
from pathlib import Path
import nbformat
from myst_nb import sphinx_ as myst_nb_parser
from myst_nb.core.config import NbParserConfig
from neuroimmune_review.build import nb_cache
cache, source, page = sys.argv[1], sys.argv[2], nbformat.reads(sys.argv[3], 4)
nb_cache.serve_hits_to_myst_nb()
config = NbParserConfig(execution_mode="cache", execution_cache_path=cache)
with myst_nb_parser.create_client(page, source, config, logging.getLogger("t")) as client:
    outputs = client.notebook.cells[1].outputs
print(json.dumps([len(outputs), sorted(m for m in ("sqlalchemy", "jupyter_cache.cache.main")
                                       if m in sys.modules)]))
"""


def test_a_hit_imports_no_sqlalchemy(cache, tmp_path):
    source = tmp_path / "page.md"
    source.write_text("(the page)", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", HIT_WITHOUT_ORM, str(cache.path), str(source)]
        + [nbformat.writes(_page())],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [1, []]


def test_page_execution_asks_nb_cache_then_jupyter_cache(cache, monkeypatch):
    from types import SimpleNamespace

    from neuroimmune_review.build import page_execution

    env = SimpleNamespace(mystnb_config=SimpleNamespace(execution_cache_path=str(cache.path)))
    is_cached = page_execution._cache_lookup(env)
    assert is_cached(_page()) and not is_cached(_page("new code"))
    # A cache nb_cache does not read: jupyter-cache answers, the same.
    monkeypatch.setattr(nb_cache, "JUPYTER_CACHE_VERSION", "0.0.0")
    is_cached = page_execution._cache_lookup(env)
    assert is_cached(_page()) and not is_cached(_page("new code"))


def _rows(cache_path) -> list[tuple]:
    """Every record as stored (read back by jupyter-cache itself), and every file kept."""
    cache = get_cache(cache_path)
    records = sorted(
        (r.pk, r.hashkey, r.uri, r.description, r.data, r.created, r.accessed)
        for r in cache.list_cache_records()
    )
    files = sorted(
        (p.relative_to(cache.path).as_posix(), p.read_bytes())
        for p in (cache.path / "executed").rglob("*")
        if p.is_file()
    )
    return [*records, *files]


@pytest.fixture
def three_records(tmp_path):
    """Two pages cached here, and a third cached from a checkout elsewhere (another uri)."""
    path = tmp_path / "cache"
    cache = get_cache(path)
    for code, uri in (("a = 1", "a.md"), ("b = 2", "b.md"), ("c = 3", "/elsewhere/c.md")):
        cache.cache_notebook_bundle(
            CacheBundleIn(_executed(_page(code)), str(tmp_path / uri), data={"s": 1.0}),
            check_validity=False,
            overwrite=True,
        )
    return path


def test_removing_stale_records_is_what_jupyter_cache_removes(three_records, tmp_path):
    import shutil

    theirs_path = tmp_path / "theirs"
    shutil.copytree(three_records, theirs_path)
    uris = {str((tmp_path / "a.md").resolve())}
    notebooks = [_page("c = 3")]  # found by content: its record names the other checkout
    # jupyter-cache's way (sphinx_ext._drop_cached_outputs before nb_cache.remove).
    theirs = get_cache(theirs_path)
    stale = {r.pk for r in theirs.list_cache_records() if str(r.uri) in uris}
    stale |= {theirs.match_cache_notebook(nb).pk for nb in notebooks}
    for pk in stale:
        theirs.remove_cache(pk)
    removed = nb_cache.remove(three_records, uris, notebooks)
    assert sorted(removed) == sorted(stale) and len(stale) == 2
    assert _rows(three_records) == _rows(theirs_path)
    assert len(get_cache(three_records).list_cache_records()) == 1


def test_removing_leaves_unusual_caches_to_jupyter_cache(three_records, tmp_path, monkeypatch):
    cache = get_cache(three_records)
    before = _rows(three_records)
    uris = {str((tmp_path / "a.md").resolve()), str((tmp_path / "b.md").resolve())}
    # A record without its notebook file: jupyter-cache raises, so nothing is deleted here.
    key = cache.match_cache_notebook(_page("b = 2")).hashkey
    (three_records / "executed" / key / "base.ipynb").unlink()
    with pytest.raises(nb_cache.Unsupported):
        nb_cache.remove(three_records, uris, [])
    assert len(cache.list_cache_records()) == 3
    assert (
        three_records / "executed" / cache.match_cache_notebook(_page("a = 1")).hashkey
    ).is_dir()
    assert len(before) == 3 + 3  # (the fixture itself: three records, three files)
    with pytest.raises(nb_cache.Unsupported):
        nb_cache.remove(tmp_path / "no-cache", uris, [])  # no database: jupyter-cache makes one
    monkeypatch.setattr(nb_cache, "JUPYTER_CACHE_VERSION", "0.0.0")
    with pytest.raises(nb_cache.Unsupported):
        nb_cache.remove(three_records, set(), [])


def _without_times(rows: list[tuple]) -> list[tuple]:
    return [row[:5] if len(row) == 7 else row for row in rows]


@pytest.mark.parametrize("code", ["a = 1", "new = 4"])  # overwriting a record, and a new one
def test_storing_is_what_jupyter_cache_stores(three_records, tmp_path, code):
    import datetime as dt
    import shutil

    theirs_path = tmp_path / "theirs"
    shutil.copytree(three_records, theirs_path)
    uri, data = str(tmp_path / "page.md"), {"execution_seconds": 0.25}
    executed = _executed(_page(code))
    record = get_cache(theirs_path).cache_notebook_bundle(
        CacheBundleIn(copy.deepcopy(executed), uri, data=data),
        check_validity=False,
        overwrite=True,
    )
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    pk = nb_cache.store(three_records, copy.deepcopy(executed), uri, data)
    assert pk == record.pk
    ours, theirs = _rows(three_records), _rows(theirs_path)
    assert _without_times(ours) == _without_times(theirs)  # keys, uris, data, files: the same
    mine = next(row for row in ours if len(row) == 7 and row[0] == pk)
    assert mine[5] == mine[6] and started <= mine[5] <= dt.datetime.now(dt.UTC).replace(tzinfo=None)
    # jupyter-cache serves it: the executed outputs, under the new record.
    page = _page(code)  # one page (cell ids are random) handed to both
    theirs_pk, expected = get_cache(three_records).merge_match_into_notebook(copy.deepcopy(page))
    assert theirs_pk == pk
    assert nb_cache.merged(three_records, copy.deepcopy(page))[1] == expected


def test_storing_leaves_truncation_and_new_caches_to_jupyter_cache(three_records, tmp_path):
    cache = get_cache(three_records)
    cache.change_cache_limit(3)  # a fourth record would make jupyter-cache delete the oldest
    before = _rows(three_records)
    with pytest.raises(nb_cache.Unsupported):
        nb_cache.store(three_records, _executed(_page("new = 4")), "x.md", {})
    assert _rows(three_records) == before  # nothing changed
    # Overwriting one of the three does not truncate: stored here.
    nb_cache.store(three_records, _executed(_page("a = 1")), "x.md", {})
    assert len(cache.list_cache_records()) == 3
    with pytest.raises(nb_cache.Unsupported):
        nb_cache.store(tmp_path / "no-cache", _executed(_page()), "x.md", {})
    assert not (tmp_path / "no-cache").exists()


STALE_PAGES_WITHOUT_ORM = """
import json, sys
import nbformat
from neuroimmune_review.build import nb_cache
cache, page = sys.argv[1], nbformat.reads(sys.argv[2], 4)
removed = nb_cache.remove(cache, set(), [page])
stored = nb_cache.store(cache, page, "page.md", {"execution_seconds": 1.0})
print(json.dumps([len(removed), stored > 0, sorted(m for m in ("sqlalchemy", "jupyter_cache.cache.main")
                                       if m in sys.modules)]))
"""


def test_dropping_and_storing_pages_import_no_sqlalchemy(cache):
    result = subprocess.run(
        [sys.executable, "-c", STALE_PAGES_WITHOUT_ORM, str(cache.path)]
        + [nbformat.writes(_executed(_page()))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [1, True, []]
