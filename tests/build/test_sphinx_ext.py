"""The Sphinx side of shared-kernel execution: a dying worker is a build error, not a fallback."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from nbformat.v4 import new_code_cell, new_notebook
from sphinx.errors import ExtensionError

from neuroimmune_review.build import likely_work, shared_kernels, sphinx_ext

# What a bad import string in the worker command did: the worker exits before answering.
BROKEN_WORKER = (sys.executable, "-c", "from neuroimmune_review.build.moved_away import run_worker")


def test_a_dying_worker_stops_the_build_with_a_clear_message(monkeypatch):
    notebook = new_notebook(cells=[new_code_cell("1 + 1")])
    job = shared_kernels.Job("book/antidepressants/ssri", notebook)
    monkeypatch.setenv(shared_kernels.WORKERS_ENV, "1")
    monkeypatch.setattr(
        sphinx_ext, "_pages_to_execute", lambda app, env, docnames: [(job, Path("ssri.md"))]
    )
    real = shared_kernels.execute_notebooks
    monkeypatch.setattr(
        shared_kernels,
        "execute_notebooks",
        lambda jobs, **options: real(jobs, **{**options, "worker_command": BROKEN_WORKER}),
    )
    config = SimpleNamespace(
        execution_mode="cache", execution_timeout=30, execution_allow_errors=False
    )
    with pytest.raises(ExtensionError) as caught:
        sphinx_ext.execute_in_shared_kernels(None, SimpleNamespace(mystnb_config=config), [])
    message = str(caught.value)
    assert "shared-kernel execution failed" in message
    assert "before answering 'book/antidepressants/ssri'" in message
    assert "ModuleNotFoundError: No module named 'neuroimmune_review.build.moved_away'" in message
    assert f"{shared_kernels.WORKERS_ENV}=0" in message  # and how to build without it


def test_execution_off_or_nothing_to_run_starts_no_worker(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("no worker expected")

    monkeypatch.setattr(shared_kernels, "execute_notebooks", fail)
    off = SimpleNamespace(mystnb_config=SimpleNamespace(execution_mode="off"))
    sphinx_ext.execute_in_shared_kernels(None, off, ["book/index"])
    monkeypatch.setattr(sphinx_ext, "_pages_to_execute", lambda app, env, docnames: [])
    cache = SimpleNamespace(mystnb_config=SimpleNamespace(execution_mode="cache"))
    sphinx_ext.execute_in_shared_kernels(None, cache, ["book/index"])


def test_validation_runs_again_only_when_what_it_reads_changes(tmp_path, monkeypatch):
    repo = Path(__file__).resolve().parents[2]
    import shutil

    from neuroimmune_review import validate

    for name in ("_toc.yml", "_config.yml", "references.bib"):
        shutil.copy(repo / name, tmp_path / name)
    shutil.copytree(repo / "data", tmp_path / "data")
    shutil.copytree(repo / "book", tmp_path / "book")
    runs = []
    real = validate.validate_root
    monkeypatch.setattr(validate, "validate_root", lambda root: runs.append(1) or real(root))
    sphinx_ext._validate_first(tmp_path)
    sphinx_ext._validate_first(tmp_path)
    assert len(runs) == 1  # nothing changed: the kept verdict
    page = tmp_path / "book/neuroimmunology/introduction.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    sphinx_ext._validate_first(tmp_path)
    assert len(runs) == 1  # prose without a new citation: validation reads nothing of it
    evidence = tmp_path / "data/evidence.csv"
    rows = evidence.read_text(encoding="utf-8").splitlines(keepends=True)
    evidence.write_text("".join(rows[:-1]), encoding="utf-8")  # one row fewer
    sphinx_ext._validate_first(tmp_path)
    assert len(runs) == 2
    # A data error found once is found from the kept verdict too, with the same message.
    evidence.write_text("".join(rows) + "EV_BAD,not a row\n", encoding="utf-8")
    messages = []
    for _ in range(2):
        with pytest.raises(ExtensionError) as caught:
            sphinx_ext._validate_first(tmp_path)
        messages.append(str(caught.value))
    assert len(runs) == 3 and messages[0] == messages[1]
    assert "data validation failed" in messages[0] and "evidence.csv" in messages[0]


class _FakeCache:
    def __init__(self):
        self.cached = []

    def cache_notebook_bundle(self, bundle, **options):
        self.cached.append(bundle.uri)


def test_a_page_that_fails_in_a_worker_is_left_to_myst_nb(monkeypatch):
    good = shared_kernels.Job("book/good", new_notebook(cells=[new_code_cell("print(1)")]))
    bad = shared_kernels.Job("book/bad", new_notebook(cells=[new_code_cell("1 / 0")]))
    cache = _execute_in_one_worker(monkeypatch, None, [(good, "good.md"), (bad, "bad.md")])
    # Only the page that ran is cached; myst-nb executes the other and reports its error.
    assert cache.cached == ["good.md"]


def _execute_in_one_worker(monkeypatch, app, pages: list[tuple]) -> _FakeCache:
    """Run ``execute_in_shared_kernels`` with one worker on *pages* (job, path); its cache."""
    monkeypatch.setenv(shared_kernels.WORKERS_ENV, "1")
    jobs = [(job, Path(path)) for job, path in pages]
    monkeypatch.setattr(sphinx_ext, "_pages_to_execute", lambda app, env, docnames: jobs)
    cache = _FakeCache()
    monkeypatch.setattr(sphinx_ext, "_execution_cache", lambda env: cache)
    config = SimpleNamespace(
        execution_mode="cache", execution_timeout=30, execution_allow_errors=False
    )
    sphinx_ext.execute_in_shared_kernels(app, SimpleNamespace(mystnb_config=config), [])
    return cache


def _app(root: Path) -> SimpleNamespace:
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
    app = _app(tmp_path)
    config = SimpleNamespace(nb_execution_cache_path="")  # myst-nb's default: _build/.jupyter_cache
    assert likely_work.likely_executions(app, config) > 100  # no saved environment: a cold build
    (tmp_path / "_build/.doctrees/environment.pickle").write_bytes(b"")
    sphinx_ext.close_early_workers(app)  # a build finished: its time is what later ones compare
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
        shared_kernels, "start_workers", lambda count, command: started.append(count) or ["w"]
    )
    monkeypatch.setenv(shared_kernels.WORKERS_ENV, "2")
    sphinx_ext._start_workers_early(
        app, SimpleNamespace(nb_execution_mode="off", nb_execution_cache_path="")
    )
    assert started == []  # execution off: no worker
    monkeypatch.setenv(shared_kernels.WORKERS_ENV, "0")
    sphinx_ext._start_workers_early(
        app, SimpleNamespace(nb_execution_mode="cache", nb_execution_cache_path="")
    )
    assert started == []  # turned off
    monkeypatch.setenv(shared_kernels.WORKERS_ENV, "2")
    cache = SimpleNamespace(nb_execution_mode="cache", nb_execution_cache_path="")
    with monkeypatch.context() as nothing_changed:
        nothing_changed.setattr(sphinx_ext, "likely_executions", lambda app, config: 0)
        sphinx_ext._start_workers_early(app, cache)
    assert started == []  # a no-op build: none
    sphinx_ext._start_workers_early(app, cache)
    assert started == [2]
    closed = []
    monkeypatch.setattr(shared_kernels, "close_workers", closed.extend)
    sphinx_ext.close_early_workers(app)  # a build that executed nothing closes them
    assert closed == ["w"]


def test_workers_started_early_run_the_pages(monkeypatch):
    app = object()
    early = shared_kernels.start_workers(1, sphinx_ext._worker_command())
    sphinx_ext._early_workers[id(app)] = early
    job = shared_kernels.Job("book/p", new_notebook(cells=[new_code_cell("print(2)")]))
    cache = _execute_in_one_worker(monkeypatch, app, [(job, "p.md")])
    assert cache.cached == ["p.md"]
    assert early[0]._process.poll() is not None  # used, then closed
    assert id(app) not in sphinx_ext._early_workers
