"""The Sphinx side of shared-kernel execution: pages cached as Sphinx reads them; a dying worker
is a build error, not a fallback."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from nbformat.v4 import new_code_cell, new_notebook
from sphinx.errors import ExtensionError

from neuroimmune_review.build import likely_work, page_execution, shared_kernels

# What a bad import string in the worker command did: the worker exits before answering.
BROKEN_WORKER = (sys.executable, "-c", "from neuroimmune_review.build.moved_away import run_worker")


def _env(**config) -> SimpleNamespace:
    options = {
        "execution_mode": "cache",
        "execution_timeout": 30,
        "execution_allow_errors": False,
        # No database there: nb_cache leaves storing to jupyter-cache (_FakeCache).
        "execution_cache_path": "/nonexistent/jupyter-cache",
    }
    return SimpleNamespace(mystnb_config=SimpleNamespace(**{**options, **config}))


def _app() -> SimpleNamespace:
    return SimpleNamespace(parallel=1)  # what execute_in_shared_kernels reads of the app


def test_a_dying_worker_stops_the_build_with_a_clear_message(monkeypatch):
    notebook = new_notebook(cells=[new_code_cell("1 + 1")])
    job = shared_kernels.Job("book/antidepressants/ssri", notebook)
    monkeypatch.setenv(shared_kernels.WORKERS_ENV, "1")
    monkeypatch.setattr(
        page_execution, "_pages_to_execute", lambda app, env, docnames: [(job, Path("ssri.md"))]
    )
    monkeypatch.setattr(page_execution, "_worker_command", lambda: BROKEN_WORKER)
    monkeypatch.setattr(page_execution, "_execution_cache", lambda env: _FakeCache())
    app = _app()
    page_execution.execute_in_shared_kernels(app, _env(), [job.name])
    # The build stops when Sphinx is about to read the page the worker never answered.
    with pytest.raises(ExtensionError) as caught:
        page_execution.wait_for_execution(app, job.name, [""])
    message = str(caught.value)
    assert "shared-kernel execution failed" in message
    assert "before answering 'book/antidepressants/ssri'" in message
    assert "ModuleNotFoundError: No module named 'neuroimmune_review.build.moved_away'" in message
    assert f"{shared_kernels.WORKERS_ENV}=0" in message  # and how to build without it
    assert id(app) not in page_execution._executions  # its workers are ended


def test_execution_off_or_nothing_to_run_starts_no_worker(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("no worker expected")

    monkeypatch.setattr(shared_kernels, "Worker", fail)
    page_execution.execute_in_shared_kernels(_app(), _env(execution_mode="off"), ["book/index"])
    monkeypatch.setattr(page_execution, "_pages_to_execute", lambda app, env, docnames: [])
    monkeypatch.setattr(page_execution, "_execution_cache", lambda env: _FakeCache())
    app = _app()
    page_execution.execute_in_shared_kernels(app, _env(), ["book/index"])
    assert id(app) not in page_execution._executions


def test_nothing_to_read_opens_no_execution_cache(monkeypatch):
    # A no-op build reads no page: the cache look-up (jupyter-cache, SQLAlchemy) is not made.
    def fail(*args, **kwargs):
        raise AssertionError("no execution cache expected")

    monkeypatch.setattr(page_execution, "_execution_cache", fail)
    monkeypatch.setattr(page_execution, "_cache_lookup", fail)
    monkeypatch.setattr(shared_kernels, "Worker", fail)
    app = _app()
    page_execution.execute_in_shared_kernels(app, _env(), [])
    assert id(app) not in page_execution._executions
    # Pages to read are looked up (nb_cache, or jupyter-cache when it cannot answer).
    looked_up = []
    monkeypatch.setattr(page_execution, "_cache_lookup", lambda env: looked_up.append(env))
    monkeypatch.setattr(page_execution, "notebook_of", lambda app, env, docname: None)
    env = _env(execution_excludepatterns=[])
    env.doc2path = lambda docname: f"{docname}.md"
    page_execution.execute_in_shared_kernels(app, env, ["book/index"])
    assert looked_up == [env]


class _FakeCache:
    def __init__(self):
        self.cached = []

    def cache_notebook_bundle(self, bundle, **options):
        self.cached.append(bundle.uri)


def test_a_page_that_fails_in_a_worker_is_left_to_myst_nb(monkeypatch):
    good = shared_kernels.Job("book/good", new_notebook(cells=[new_code_cell("print(1)")]))
    bad = shared_kernels.Job("book/bad", new_notebook(cells=[new_code_cell("1 / 0")]))
    cache = _execute_in_one_worker(monkeypatch, _app(), [(good, "good.md"), (bad, "bad.md")])
    # Only the page that ran is cached; myst-nb executes the other and reports its error.
    assert cache.cached == ["good.md"]


def test_each_page_is_cached_just_before_sphinx_reads_it(monkeypatch):
    """Execution overlaps reading: ``env-before-read-docs`` returns at once, with the jobs
    submitted in reading order, and each page's result is stored when Sphinx reads it."""
    names = ["book/a", "book/b", "book/c"]
    pages = [
        (shared_kernels.Job(n, new_notebook(cells=[new_code_cell(f"print({i!r})")])), f"{n}.md")
        for i, n in enumerate(names)
    ]
    monkeypatch.setenv(shared_kernels.WORKERS_ENV, "1")
    monkeypatch.setattr(
        page_execution,
        "_pages_to_execute",
        lambda app, env, docnames: [(j, Path(p)) for j, p in pages],
    )
    cache = _FakeCache()
    monkeypatch.setattr(page_execution, "_execution_cache", lambda env: cache)
    submitted = []
    real_submit = shared_kernels.Execution.submit
    monkeypatch.setattr(
        shared_kernels.Execution,
        "submit",
        lambda self, job: submitted.append(job.name) or real_submit(self, job),
    )
    app = _app()
    page_execution.execute_in_shared_kernels(app, _env(), names)
    assert submitted == names and cache.cached == []  # nothing waited for yet
    page_execution.wait_for_execution(app, "book/index", [""])  # not executed here: no wait
    page_execution.wait_for_execution(app, "book/b", [""])
    assert cache.cached == ["book/b.md"]
    page_execution.wait_for_execution(app, "book/a", [""])
    page_execution.wait_for_execution(app, "book/a", [""])  # read twice: cached once
    assert id(app) in page_execution._executions
    page_execution.wait_for_execution(app, "book/c", [""])
    assert cache.cached == ["book/b.md", "book/a.md", "book/c.md"]
    assert id(app) not in page_execution._executions  # every page claimed: the workers ended


def test_a_parallel_read_gets_every_page_cached_before_reading(monkeypatch):
    # Sphinx -j reads in forked processes, which cannot wait for this process's threads.
    app = SimpleNamespace(parallel=2)
    pages = [
        (shared_kernels.Job(n, new_notebook(cells=[new_code_cell("1")])), f"{n}.md")
        for n in ("book/a", "book/b")
    ]
    cache = _execute_in_one_worker(monkeypatch, app, pages)
    assert cache.cached == ["book/a.md", "book/b.md"]
    assert id(app) not in page_execution._executions


def _execute_in_one_worker(monkeypatch, app, pages: list[tuple]) -> _FakeCache:
    """Run ``execute_in_shared_kernels`` with one worker on *pages* (job, path), then read
    every page as Sphinx does; the cache it filled."""
    monkeypatch.setenv(shared_kernels.WORKERS_ENV, "1")
    jobs = [(job, Path(path)) for job, path in pages]
    monkeypatch.setattr(page_execution, "_pages_to_execute", lambda app, env, docnames: jobs)
    cache = _FakeCache()
    monkeypatch.setattr(page_execution, "_execution_cache", lambda env: cache)
    names = [job.name for job, _ in jobs]
    page_execution.execute_in_shared_kernels(app, _env(), names)
    for name in names:
        page_execution.wait_for_execution(app, name, [""])
    return cache


def _build_app(root: Path) -> SimpleNamespace:
    build = root / "_build"
    return SimpleNamespace(
        srcdir=str(root), doctreedir=str(build / ".doctrees"), outdir=str(build / "html")
    )


def test_workers_start_early_only_when_pages_will_likely_execute(tmp_path, monkeypatch):
    for folder in ("book", "data", "_build/.doctrees", "_build/.jupyter_cache"):
        (tmp_path / folder).mkdir(parents=True)
    page, data = tmp_path / "book/page.md", tmp_path / "data/evidence.csv"
    page.write_text("# page\n")
    data.write_text("id\n")
    app = _build_app(tmp_path)
    config = SimpleNamespace(nb_execution_cache_path="")  # myst-nb's default: _build/.jupyter_cache
    assert likely_work.likely_executions(app, config) > 100  # no saved environment: a cold build
    (tmp_path / "_build/.doctrees/environment.pickle").write_bytes(b"")
    page_execution.close_early_workers(app)  # a build finished: its time is what later ones compare
    saved = tmp_path / "_build/.doctrees" / likely_work.LAST_BUILD
    os.utime(saved, (time.time() + 10, time.time() + 10))
    assert likely_work.likely_executions(app, config) == 0  # nothing changed since: a no-op build
    page.write_text("# page\n\nProse, edited.\n")
    os.utime(page, (time.time() + 20, time.time() + 20))
    assert likely_work.likely_executions(app, config) == 0  # prose edited: its cache still serves
    page.write_text("# page\n\n```{code-cell} ipython3\nprint(1)\n```\n")
    os.utime(page, (time.time() + 20, time.time() + 20))
    assert likely_work.likely_executions(app, config) == 1  # one page's code edited
    page.write_text("# page\n\n```{code-cell} ipython3\nprint(1)\n```\n\nMore prose.\n")
    os.utime(page, (time.time() + 20, time.time() + 20))
    assert likely_work.likely_executions(app, config) == 0  # then only its prose
    os.utime(data, (time.time() + 20, time.time() + 20))
    assert likely_work.likely_executions(app, config) > 100  # data changed: many pages

    started = []
    monkeypatch.setattr(
        shared_kernels, "start_workers", lambda count, *_: started.append(count) or ["w"]
    )
    monkeypatch.setenv(shared_kernels.WORKERS_ENV, "2")
    page_execution.start_workers_early(
        app, SimpleNamespace(nb_execution_mode="off", nb_execution_cache_path="")
    )
    assert started == []  # execution off: no worker
    monkeypatch.setenv(shared_kernels.WORKERS_ENV, "0")
    page_execution.start_workers_early(
        app, SimpleNamespace(nb_execution_mode="cache", nb_execution_cache_path="")
    )
    assert started == []  # turned off
    monkeypatch.setenv(shared_kernels.WORKERS_ENV, "2")
    cache = SimpleNamespace(nb_execution_mode="cache", nb_execution_cache_path="")
    with monkeypatch.context() as nothing_changed:
        nothing_changed.setattr(page_execution, "likely_executions", lambda app, config: 0)
        page_execution.start_workers_early(app, cache)
    assert started == []  # a no-op build: none
    page_execution.start_workers_early(app, cache)
    assert started == [2]
    closed = []
    monkeypatch.setattr(shared_kernels, "close_workers", closed.extend)
    page_execution.close_early_workers(app)  # a build that executed nothing closes them
    assert closed == ["w"]


def test_workers_start_before_the_other_extensions_and_config_inited_keeps_or_closes_them(
    tmp_path, monkeypatch
):
    """``early_start`` (the first extension) starts the workers from Jupyter Book's settings,
    with the review's root in the environment they take; ``config-inited`` then keeps them
    if the execution mode is the cache (starting no second set), and closes them if not."""
    from neuroimmune_review import paths

    app = _build_app(tmp_path)  # no saved environment: a cold build, many pages likely
    started, closed = [], []
    monkeypatch.setattr(
        shared_kernels,
        "start_workers",
        lambda count, *_: started.append((count, os.environ.get(paths.ROOT_ENV))) or ["w"],
    )
    monkeypatch.setattr(shared_kernels, "close_workers", closed.extend)
    monkeypatch.setenv(shared_kernels.WORKERS_ENV, "2")
    monkeypatch.setenv(paths.ROOT_ENV, "before")  # and restored after the test

    app.config = SimpleNamespace(overrides={"nb_execution_mode": "off"})
    page_execution.start_workers_before_extensions(app)
    assert started == [] and os.environ[paths.ROOT_ENV] == "before"  # execution off: nothing
    app.config = SimpleNamespace(overrides={})  # a conf.py build: settings not known yet
    page_execution.start_workers_before_extensions(app)
    assert started == []

    app.config = SimpleNamespace(overrides={"nb_execution_mode": "cache"})
    page_execution.start_workers_before_extensions(app)
    assert started == [(2, str(tmp_path.resolve()))]
    cache = SimpleNamespace(nb_execution_mode="cache", nb_execution_cache_path="")
    page_execution.start_workers_early(app, cache)  # config-inited: the same mode
    assert started == [(2, str(tmp_path.resolve()))] and closed == []
    assert page_execution._early_workers[id(app)] == ["w"]
    off = SimpleNamespace(nb_execution_mode="off", nb_execution_cache_path="")
    page_execution.start_workers_early(app, off)  # config-inited: execution turned off after all
    assert closed == ["w"] and id(app) not in page_execution._early_workers


def test_workers_started_early_run_the_pages(monkeypatch):
    app = _app()
    early = shared_kernels.start_workers(1, page_execution._worker_command())
    page_execution._early_workers[id(app)] = early
    job = shared_kernels.Job("book/p", new_notebook(cells=[new_code_cell("print(2)")]))
    cache = _execute_in_one_worker(monkeypatch, app, [(job, "p.md")])
    assert cache.cached == ["p.md"]
    assert early[0]._process.poll() is not None  # used, then closed
    assert id(app) not in page_execution._early_workers


def test_myst_nb_is_handed_the_notebook_already_read_once(monkeypatch):
    """A page read to be executed is not parsed again by myst-nb: for the same path and text,
    its reader returns the notebook already read, once; any other text is read as before."""
    from myst_nb import sphinx_ as myst_nb_parser
    from myst_nb.core.read import NbReader

    parsed = []

    def original(path, md_config, nb_config, content):
        return NbReader(lambda text: parsed.append(text) or f"parsed {text}", md_config)

    monkeypatch.setattr(myst_nb_parser, "create_nb_reader", original)
    monkeypatch.setattr(page_execution, "_read_notebooks", {("/b/p.md", "text"): "read once"})
    page_execution.hand_read_notebooks_to_myst_nb()
    page_execution.hand_read_notebooks_to_myst_nb()  # installed once
    wrapped = myst_nb_parser.create_nb_reader
    assert wrapped is not original and wrapped.hands_over_read_notebooks
    reader = wrapped("/b/p.md", "md", "nb", "text")
    assert reader.read("text") == "read once" and reader.md_config == "md" and parsed == []
    # handed over once; then, and for another text or page, myst-nb reads the page itself
    assert wrapped("/b/p.md", "md", "nb", "text").read("text") == "parsed text"
    assert wrapped("/b/q.md", "md", "nb", "other").read("other") == "parsed other"
    assert parsed == ["text", "other"]


def test_a_page_is_parsed_once_for_the_stale_check_and_its_execution(tmp_path, monkeypatch):
    """notebook_of, asked twice for the same page and text in one build (the stale check finds
    its cache records by content, then the page is sent to a worker), parses it once; a page
    whose text changed is parsed again."""
    from myst_nb.core import read

    parsed = []

    def create_nb_reader(path, md_config, nb_config, content):
        return read.NbReader(lambda text: parsed.append(text) or new_notebook(), md_config)

    monkeypatch.setattr(read, "create_nb_reader", create_nb_reader)
    monkeypatch.setattr(page_execution, "_read_notebooks", {})
    page = tmp_path / "p.md"
    page.write_text("# P\n", encoding="utf-8")
    app = SimpleNamespace(config=SimpleNamespace(source_encoding="utf-8"))
    env = SimpleNamespace(doc2path=lambda docname: str(tmp_path / f"{docname}.md"))
    env.myst_config = env.mystnb_config = None
    first = page_execution.notebook_of(app, env, "p")
    assert page_execution.notebook_of(app, env, "p") is first and len(parsed) == 1
    page.write_text("# P, edited\n", encoding="utf-8")
    assert page_execution.notebook_of(app, env, "p") is not first and len(parsed) == 2


def test_the_page_that_took_longest_last_time_is_started_first(tmp_path, monkeypatch):
    """With two workers the page that executed longest last time goes first; the others keep
    Sphinx's reading order. The times are those of the pages executed, kept between builds."""
    good = shared_kernels.Job("book/good", new_notebook(cells=[new_code_cell("print(1)")]))
    bad = shared_kernels.Job("book/bad", new_notebook(cells=[new_code_cell("1 / 0")]))
    app = SimpleNamespace(parallel=1, doctreedir=str(tmp_path))
    assert page_execution._longest_first(app, ["a", "b", "c"], 2) == ["a", "b", "c"]  # no times
    _execute_in_one_worker(monkeypatch, app, [(good, "good.md"), (bad, "bad.md")])
    memo = tmp_path / page_execution.SECONDS_MEMO
    seconds = json.loads(memo.read_text(encoding="utf-8"))
    assert list(seconds) == ["book/good"] and 0 < seconds["book/good"] < 30  # a failed page: none
    memo.write_text('{"b": 0.2, "c": 1.5, "x": 9.0, "a": 0.1}', encoding="utf-8")
    assert page_execution._longest_first(app, ["a", "b", "c"], 2) == ["c", "a", "b"]
    assert page_execution._longest_first(app, ["a", "b", "c"], 3) == ["c", "b", "a"]
    assert page_execution._longest_first(app, ["a", "b", "c"], 1) == ["a", "b", "c"]
    page_execution._remember_seconds(app, {"a": 2.0})  # merged with the times already known
    assert page_execution._longest_first(app, ["a", "b", "c"], 2) == ["a", "b", "c"]
    assert json.loads(memo.read_text(encoding="utf-8"))["c"] == 1.5
    memo.write_text("not json", encoding="utf-8")
    assert page_execution._longest_first(app, ["a", "b", "c"], 2) == ["a", "b", "c"]


def test_results_are_stored_without_jupyter_cache_once_it_has_a_database(monkeypatch, tmp_path):
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    path = tmp_path / "cache"
    get_cache(path).cache_notebook_bundle(  # an earlier build's record: the database exists
        CacheBundleIn(new_notebook(cells=[new_code_cell("0")]), "old.md"), check_validity=False
    )
    monkeypatch.setenv(shared_kernels.WORKERS_ENV, "1")
    job = shared_kernels.Job("book/a", new_notebook(cells=[new_code_cell("print(1)")]))
    monkeypatch.setattr(
        page_execution, "_pages_to_execute", lambda app, env, docnames: [(job, Path("a.md"))]
    )
    monkeypatch.setattr(page_execution, "_execution_cache", lambda env: pytest.fail("opened"))
    app = _app()
    page_execution.execute_in_shared_kernels(app, _env(execution_cache_path=str(path)), ["book/a"])
    page_execution.wait_for_execution(app, "book/a", [""])
    record = get_cache(path).match_cache_notebook(job.notebook)  # jupyter-cache finds it
    assert record.uri == "a.md" and record.data["execution_seconds"] > 0
