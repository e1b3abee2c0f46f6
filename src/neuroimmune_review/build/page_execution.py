"""The Sphinx side of shared-kernel execution (``shared_kernels`` runs the pages).

Workers start at ``config-inited`` when the build will likely execute pages (``likely_work``),
so their imports overlap Sphinx's start-up.  At ``env-before-read-docs`` the pages the
jupyter-cache cannot serve are sent to them in Sphinx's reading order, and the handler returns;
at ``source-read``, just before myst-nb looks a page up in its cache, the page's result is
waited for and stored there.  So Sphinx reads page *i* while the workers execute the next ones.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

from .. import provenance
from . import early_checks, nb_cache, shared_kernels, worker_processes
from .likely_work import LAST_BUILD, likely_executions
from .tracking import with_tracking_cell

logger = logging.getLogger(__name__)


def notebook_of(app: Sphinx, env, docname: str):
    """The page as myst-nb reads it, with the tracking cell (None if it is not a notebook).

    A page read before in this build, with the same text, is not parsed again: the stale
    check (``sphinx_ext._drop_cached_outputs``) reads each stale page to find its cache
    records by content, and :func:`_pages_to_execute` then needs the same notebook (~25 ms a
    page).  Nobody changes it in between: the cache look-ups hash a copy.
    """
    from myst_nb.core.read import create_nb_reader

    path = Path(env.doc2path(docname))
    if not path.is_file() or path.suffix not in (".md", ".ipynb"):
        return None
    try:
        text = with_tracking_cell(docname, path.read_text(encoding=app.config.source_encoding))
        known = _read_notebooks.get((str(path), text))
        if known is not None:
            return known
        reader = create_nb_reader(str(path), env.myst_config, env.mystnb_config, text)
        notebook = reader.read(text) if reader is not None else None
    except Exception:  # noqa: BLE001 - myst-nb will meet (and report) the same problem
        return None
    if notebook is not None:
        _read_notebooks[(str(path), text)] = notebook
    return notebook


# Pages read by notebook_of, by source path and text, until myst-nb reads them (once each);
# emptied when a build finishes.
_read_notebooks: dict[tuple[str, str], object] = {}


def hand_read_notebooks_to_myst_nb() -> None:
    """Let myst-nb's parser take the notebook :func:`notebook_of` read instead of reading the
    page again (parsing its Markdown: ~25 ms a page, twice per page in a cold build).

    myst-nb has no way to be handed a notebook, so its parser's ``create_nb_reader`` is wrapped:
    for the very text (path and content, tracking cell included) that ``notebook_of`` read with
    the same reader and configuration, the reader returns that notebook, once; anything else is
    read as before.  The notebook is not changed in between: the worker has sent its copy, and
    Sphinx reads a page only after its execution.  Without that function (another myst-nb), the
    page is simply read twice.
    """
    import dataclasses

    from myst_nb import sphinx_ as myst_nb_parser

    original = getattr(myst_nb_parser, "create_nb_reader", None)
    if original is None or getattr(original, "hands_over_read_notebooks", False):
        return

    def create_nb_reader(path, md_config, nb_config, content):
        reader = original(path, md_config, nb_config, content)
        if reader is None or not isinstance(content, str):
            return reader
        notebook = _read_notebooks.pop((str(path), content), None)
        if notebook is None:
            return reader
        read_again = reader.read

        def read(text):
            return notebook if text == content else read_again(text)

        return dataclasses.replace(reader, read=read)

    create_nb_reader.hands_over_read_notebooks = True
    myst_nb_parser.create_nb_reader = create_nb_reader


_early_workers: dict[int, list[shared_kernels.Worker]] = {}  # by id(app), from config-inited


def _worker_command() -> tuple[str, ...]:
    """Workers import the page builders before their first page (once per worker)."""
    from .. import _PAGE_MODULES

    modules = [f"{__package__.rpartition('.')[0]}.pages.{name}" for name in _PAGE_MODULES]
    render = f"{__package__.rpartition('.')[0]}.render"
    return shared_kernels.worker_command([*modules, provenance.__name__, render, PRELOAD_MODULE])


# Imported by the workers' fork server only (its import does the work: never imported here).
PRELOAD_MODULE = f"{__package__}.fork_preload"
PRELOAD_ROOT_ENV = "REVIEW_PRELOAD_ROOT"  # fork_preload.ROOT_ENV


def _server_environment(app: Sphinx) -> dict[str, str]:
    """The fork server loads this review's evidence once for every worker (``fork_preload``)."""
    srcdir = getattr(app, "srcdir", None)
    return {PRELOAD_ROOT_ENV: str(srcdir)} if srcdir else {}


def start_workers_before_extensions(app: Sphinx) -> None:
    """From the setup of ``early_start``, the first extension listed: start the workers while
    Sphinx still loads the other extensions (~0.15 s at 1x, before their imports).

    Only the settings Jupyter Book hands Sphinx (``Config.overrides``) are known this early, so
    the execution mode and cache path are read from them; :func:`start_workers_early`, at
    ``config-inited``, closes these workers if the real settings say no page executes.  The
    workers take the environment of the moment they start, so the review's root is set now,
    as ``sphinx_ext.on_config`` sets it.
    """
    import os
    from types import SimpleNamespace

    from .. import paths

    overrides = app.config.overrides
    if overrides.get("nb_execution_mode") != "cache":
        return  # a conf.py build, or execution off: workers start at config-inited, if at all
    os.environ[paths.ROOT_ENV] = str(Path(app.srcdir).resolve())
    settings = SimpleNamespace(
        nb_execution_mode="cache",
        nb_execution_cache_path=overrides.get("nb_execution_cache_path", ""),
    )
    start_workers_early(app, settings)


def start_workers_early(app: Sphinx, config) -> None:
    """Start the workers now if this build will likely execute pages: their imports (seconds)
    then overlap validation and Sphinx's set-up.  A wrong guess costs CPU only: workers that
    get no page are closed; a no-op build starts none.  Workers already started (by
    :func:`start_workers_before_extensions`) are kept if the execution mode is still the cache."""
    if id(app) in _early_workers:
        if getattr(config, "nb_execution_mode", None) != "cache":
            shared_kernels.close_workers(_early_workers.pop(id(app)))
        return
    if getattr(config, "nb_execution_mode", None) != "cache":
        return
    likely = likely_executions(app, config)
    count = shared_kernels.worker_count(likely) if likely else 0  # worker_count(0) is 1
    if count:
        environment = _server_environment(app)
        srcdir = getattr(app, "srcdir", None)
        # The data checks then run in a process forked from the server (``early_checks``).
        prefix = early_checks.new_prefix(Path(srcdir).resolve()) if srcdir else None
        if prefix is not None:
            environment[early_checks.CHECK_ENV] = prefix
            months = _search_months(config, app)
            if months is not None:
                environment[early_checks.MONTHS_ENV] = str(months)
        _early_workers[id(app)] = shared_kernels.start_workers(
            count, _worker_command(), environment
        )
        # Only a server started now runs the checks (one started before is reused as it is).
        if prefix is not None and worker_processes.started_with(early_checks.CHECK_ENV) == prefix:
            _checks[id(app)] = prefix


def _search_months(config, app: Sphinx) -> int | None:
    """The literature-search schedule the stamp uses: the setting, or, before Sphinx has read
    its own, Jupyter Book's settings (the default where they say nothing)."""
    value = getattr(config, "review_search_schedule_months", None)
    if value is None:
        overrides = getattr(getattr(app, "config", None), "overrides", {}) or {}
        value = overrides.get("review_search_schedule_months", early_checks.SEARCH_SCHEDULE_MONTHS)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


_checks: dict[int, str] = {}  # by id(app): where the checker started with the workers reports


def checker_result(app: Sphinx, name: str) -> dict | None:
    """The early checker's result *name* (``early_checks``), waited for; None if there is none
    (the caller then checks itself)."""
    return early_checks.wait_for(_checks.get(id(app)), name, worker_processes.server_alive)


def close_early_workers(app: Sphinx, exception=None) -> None:
    """``build-finished``: end workers started early that no page needed, and those of a build
    that stopped before reading every page it executed; stamp the build."""
    shared_kernels.close_workers(_early_workers.pop(id(app), []))
    _checks.pop(id(app), None)
    _end_executions(app)
    _read_notebooks.clear()  # pages myst-nb did not read (a build that stopped)
    if exception is None and Path(app.doctreedir, "environment.pickle").is_file():
        Path(app.doctreedir, LAST_BUILD).touch()  # what likely_executions compares with


def execute_in_shared_kernels(app: Sphinx, env, docnames) -> None:
    """``env-before-read-docs``: start executing the pages about to be read, and return.

    The pages the execution cache cannot serve are sent to the workers in the order Sphinx
    reads them; :func:`wait_for_execution` (``source-read``) waits for each page's result
    just before myst-nb looks the page up in its cache, and stores it there.  So Sphinx reads
    page *i* while the workers execute *i+1*, and the pages are found (each read once with
    myst-nb's reader) while the first ones execute.  A page that fails in a worker is left
    uncached, so myst-nb executes and reports it as usual; a worker that dies stops the
    build, since it would otherwise fall back silently to one kernel per page.
    ``REVIEW_EXECUTION_WORKERS=0`` turns this off.

    With nothing to read (a no-op build) nothing is set up: looking at the execution cache
    imports jupyter-cache and SQLAlchemy (about 0.5 s of CPU).  Workers started early are
    closed at ``build-finished`` (:func:`close_early_workers`).
    """
    if not docnames:
        return
    early = _early_workers.pop(id(app), [])
    nb_config = env.mystnb_config
    workers = shared_kernels.worker_count(len(docnames))
    if nb_config.execution_mode != "cache" or workers == 0:
        shared_kernels.close_workers(early)
        return
    execution = shared_kernels.Execution(
        workers=workers,
        timeout=nb_config.execution_timeout,
        allow_errors=nb_config.execution_allow_errors,
        worker_command=_worker_command(),
        started=early,
        server_environment=_server_environment(app),
    )
    pending = _Pending(execution, env)
    hand_read_notebooks_to_myst_nb()
    try:
        for job, path in _pages_to_execute(app, env, _longest_first(app, docnames, workers)):
            execution.submit(job)
            pending.paths[job.name] = path
    except Exception as error:  # noqa: BLE001 - never worse than myst-nb on its own
        logger.info(f"[review] shared kernels skipped: {error}")
    execution.seal()
    if not pending.paths:
        execution.close()
        return
    _executions[id(app)] = pending
    if getattr(app, "parallel", 1) > 1:
        # Sphinx may read in forked processes, where the threads feeding the workers do not
        # exist: every result is stored before reading starts.
        for docname in list(pending.paths):
            _claim(app, pending, docname)


SECONDS_MEMO = "review-execution-seconds.json"  # in doctreedir: each page's last execution time


def _longest_first(app: Sphinx, docnames, workers: int) -> list[str]:
    """*docnames* in Sphinx's reading order, except that the ``workers - 1`` pages that took
    longest when last executed (:data:`SECONDS_MEMO`) go first.

    Sphinx waits for the pages in its reading order, so the rest keep it; but the longest page
    is often read late (the gap map, at 1x 1.1-1.2 s of the ten pages' 4.9 s after a data
    change), and started late it was the one page still executing when every other was done.
    Started first on one worker, it runs while the others execute the pages read first.  Only
    the order changes: every page still runs from a fresh namespace in a warmed worker.
    """
    order = list(docnames)
    if workers < 2:
        return order
    seconds = _remembered_seconds(app)
    longest = sorted((d for d in order if d in seconds), key=lambda d: -seconds[d])[: workers - 1]
    return [*longest, *(d for d in order if d not in longest)]


def _remembered_seconds(app: Sphinx) -> dict[str, float]:
    import json

    doctrees = getattr(app, "doctreedir", None)
    try:
        seconds = json.loads(Path(doctrees, SECONDS_MEMO).read_text(encoding="utf-8"))
    except (TypeError, OSError, ValueError):
        return {}  # none yet: the reading order
    if not isinstance(seconds, dict):
        return {}
    return {k: v for k, v in seconds.items() if isinstance(v, (int, float))}


def _remember_seconds(app: Sphinx, seconds: dict[str, float]) -> None:
    import json

    from ..files import atomic_write

    doctrees = getattr(app, "doctreedir", None)
    if doctrees is None or not seconds:
        return
    known = {**_remembered_seconds(app), **seconds}
    try:
        text = json.dumps(known, sort_keys=True, indent=0)
        atomic_write(Path(doctrees, SECONDS_MEMO), text.encode("utf-8"), durable=False)
    except OSError:
        pass  # only an order


class _Pending:
    """The executions started by :func:`execute_in_shared_kernels`, claimed page by page."""

    def __init__(self, execution: shared_kernels.Execution, env) -> None:
        self.execution, self._env, self._cache = execution, env, None
        self.seconds: dict[str, float] = {}  # docname: execution time, of pages executed
        self.paths: dict[str, Path] = {}  # docname: source path, of every page submitted
        self.claimed: set[str] = set()
        self.cached = 0

    def store(self, notebook, uri: str, seconds: float) -> None:
        """Put an executed page in the execution cache: through ``nb_cache`` where it can
        (no SQLAlchemy: ~0.5 s of CPU while the workers use both cores), else through
        jupyter-cache, opened for the first such page (a cold build: no database yet)."""
        data = {"execution_seconds": seconds}
        path = self._env.mystnb_config.execution_cache_path or ".jupyter_cache"
        if self._cache is None:
            try:
                nb_cache.store(path, notebook, uri, data)
                return
            except nb_cache.Unsupported:
                self._cache = _execution_cache(self._env)
        from jupyter_cache.base import CacheBundleIn

        self._cache.cache_notebook_bundle(
            CacheBundleIn(notebook, uri, data=data), check_validity=False, overwrite=True
        )


_executions: dict[int, _Pending] = {}  # by id(app), from env-before-read-docs


def wait_for_execution(app: Sphinx, docname: str, source: list[str]) -> None:
    """``source-read``: before myst-nb looks *docname* up in its cache, put its result there."""
    pending = _executions.get(id(app))
    if pending is not None and docname in pending.paths and docname not in pending.claimed:
        _claim(app, pending, docname)


def _claim(app: Sphinx, pending: _Pending, docname: str) -> None:
    try:
        result = pending.execution.result(docname)
    except shared_kernels.WorkerDied as error:
        _end_executions(app)
        raise ExtensionError(
            f"[review] shared-kernel execution failed: {error}\n"
            f"(set {shared_kernels.WORKERS_ENV}=0 to execute pages with myst-nb alone)"
        ) from None
    pending.claimed.add(docname)
    if result.ok:  # else myst-nb executes it again and reports the error in its usual way
        pending.store(result.notebook, str(pending.paths[docname]), result.seconds)
        pending.cached += 1
        pending.seconds[docname] = round(result.seconds, 3)
    if len(pending.claimed) == len(pending.paths):
        _end_executions(app)
        _remember_seconds(app, pending.seconds)
        logger.info(
            f"[review] executed {pending.cached} page(s) in "
            f"{pending.execution.workers} worker process(es) in "
            f"{time.perf_counter() - pending.execution.started_at:.1f} s"
        )


def _end_executions(app: Sphinx) -> None:
    """End the workers of this build (each finishes the page it is on; unclaimed jobs are dropped)."""
    pending = _executions.pop(id(app), None)
    if pending is not None:
        pending.execution.close()


def _pages_to_execute(app: Sphinx, env, docnames) -> Iterator[tuple[shared_kernels.Job, Path]]:
    """The pages myst-nb would execute and the cache cannot serve, as executor jobs, in the
    order of *docnames* (Sphinx's reading order), each as soon as it is found."""
    from pathlib import PurePosixPath

    nb_config = env.mystnb_config
    is_cached = _cache_lookup(env)
    for docname in docnames:
        path = Path(env.doc2path(docname))
        posix = PurePosixPath(path.as_posix())
        if any(posix.match(pattern) for pattern in nb_config.execution_excludepatterns):
            continue
        notebook = notebook_of(app, env, docname)
        if notebook is None:
            continue
        if nb_config.metadata_key in notebook.metadata or nb_config.kernel_rgx_aliases:
            continue  # per-page execution settings: leave the page to myst-nb
        if not any(cell.cell_type == "code" and cell.source.strip() for cell in notebook.cells):
            continue
        if is_cached(notebook):
            continue
        cwd = None if nb_config.execution_in_temp else str(path.parent)
        yield shared_kernels.Job(docname, notebook, cwd), path


def _cache_lookup(env):
    """Whether the execution cache holds a notebook, asked without SQLAlchemy where
    ``nb_cache`` can (a prose edit's page is found there), else through jupyter-cache."""
    path = env.mystnb_config.execution_cache_path or ".jupyter_cache"
    try:
        # A cold build's cache is empty: no page can match (hashing each one cost ~4 ms).
        if not nb_cache.has_records(path):
            return lambda notebook: False

        def is_cached(notebook) -> bool:
            try:
                return nb_cache.record(path, notebook) is not None
            except nb_cache.Unsupported:
                return _cached_in_jupyter_cache(env, notebook)

        return is_cached
    except nb_cache.Unsupported:
        return lambda notebook: _cached_in_jupyter_cache(env, notebook)


def _cached_in_jupyter_cache(env, notebook) -> bool:
    try:
        _execution_cache(env).match_cache_notebook(notebook)
        return True
    except KeyError:
        return False


def _execution_cache(env):
    from jupyter_cache import get_cache

    # Exactly the path myst-nb's cache client uses.
    return get_cache(env.mystnb_config.execution_cache_path or ".jupyter_cache")


def _loaded_data_module():
    """``neuroimmune_review.data`` if this process has imported it, else None.

    The build's validation imports it whenever data changed; importing it only to defer or
    write the evidence join would bring pandas into builds that build no join (a no-op build).
    """
    import sys

    return sys.modules.get(f"{__package__.rpartition('.')[0]}.data")


def defer_join_writes() -> None:
    """Before the stale check: the evidence join it builds is written later (``data``)."""
    data = _loaded_data_module()
    if data is not None:
        data.defer_join_writes()


def write_deferred_joins(app: Sphinx, *args) -> None:
    """``env-before-read-docs`` (after the pages are sent to the workers) and ``build-finished``:
    write the evidence join the stale check built, unless the workers' fork server did."""
    data = _loaded_data_module()
    if data is not None:
        data.write_deferred_joins()
