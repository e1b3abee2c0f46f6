"""Executing notebooks in a few long-lived worker processes (performance only).

myst-nb's ``cache`` mode starts one kernel per page, and every kernel imports pandas and
altair again: about 2.5 s of a page's 3 s.  :func:`execute_notebooks` runs many notebooks
in a few long-lived worker processes instead (one per core), one after another in each.
Each notebook starts from an empty namespace, execution count 1 and its own working
directory, as in a kernel of its own; modules stay imported, which is the point.  Nothing
off the shelf reuses a kernel across notebooks (nbclient and jupyter-cache start one per
notebook), and this halved the cold build, so the machinery is ours.

A worker runs its notebooks in IPython's own shell (``shell_worker``), in its own
process, and builds the outputs a kernel would have sent; per page a Jupyter kernel cost a
reset over ZMQ, new channels, and every output serialised, sent and parsed again, which
measured as much again as the pages' own work.  Workers can be started before their
notebooks are known (:func:`start_workers`), so their imports overlap the caller's own
start-up, and they import (and warm up) the modules the pages use before the first page.
They are forked from multiprocessing's fork server, which imports those modules (and, told
the review's root, loads its evidence: ``fork_preload``) once for all workers of a build.

This module knows nothing of Sphinx or myst-nb: ``build.sphinx_ext`` decides which pages
to run and stores the results in myst-nb's execution cache.  A notebook that fails comes
back with ``ok=False`` (myst-nb then executes and reports it as usual), and its worker is
replaced by a fresh one so the failure leaves nothing behind; a worker process that dies
raises :class:`WorkerDied`, because then no result can be trusted.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import nbformat

from .shell_worker import run_worker  # noqa: F401 - what WORKER_COMMAND runs
from .worker_processes import FORK_SERVER_METHOD
from .worker_processes import CommandProcess as _CommandProcess
from .worker_processes import ForkedProcess as _ForkedProcess

WORKERS_ENV = "REVIEW_EXECUTION_WORKERS"
# The worker is shell_worker.run_worker, imported here and named from __name__ so a move cannot break it.
# Arguments after it name modules the worker imports before its first notebook.
WORKER_COMMAND = (sys.executable, "-c", f"from {__name__} import run_worker; run_worker()")


@dataclass(frozen=True)
class Job:
    """One notebook to execute; *name* (e.g. the page's docname) comes back in its result."""

    name: str
    notebook: nbformat.NotebookNode
    cwd: str | None = None  # working directory of the notebook; None: the worker's own


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    seconds: float
    notebook: nbformat.NotebookNode | None = None  # the executed notebook, when ok
    error: str | None = None  # why it failed, when not ok


class WorkerDied(RuntimeError):
    """A worker process exited before answering: its notebooks have no result."""


def worker_count(jobs: int) -> int:
    """Workers to start for *jobs* notebooks: one per core, or ``REVIEW_EXECUTION_WORKERS``."""
    wanted = os.environ.get(WORKERS_ENV)
    if wanted is not None and wanted.strip():
        return max(0, min(int(wanted), jobs))
    cores = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )
    return max(1, min(cores, jobs))


def worker_command(preload: Sequence[str] = ()) -> tuple[str, ...]:
    """The default worker command, importing the modules *preload* before the first notebook."""
    return (*WORKER_COMMAND, *preload)


class Worker:
    """One worker process, started at once: it imports while its caller goes on.

    The default command (:data:`WORKER_COMMAND` and the modules to preload) is not run as a
    command: the worker is forked from multiprocessing's fork server, which imported those
    modules once for every worker of the process (:class:`_ForkedProcess`).  Any other
    command is started as a process of its own (:class:`_CommandProcess`).
    """

    def __init__(
        self, command: Sequence[str] = WORKER_COMMAND, server_environment: dict | None = None
    ) -> None:
        self.command = tuple(command)
        preload = _preload_of(self.command)
        if preload is not None and FORK_SERVER_METHOD in multiprocessing.get_all_start_methods():
            self._process: _ForkedProcess | _CommandProcess = _ForkedProcess(
                preload, server_environment or {}
            )
        else:
            self._process = _CommandProcess(self.command)

    def ask(self, request: dict) -> dict | None:
        """Send one request and wait for its answer; None if the worker is gone."""
        return self._process.ask(request)

    def close(self) -> tuple[int, str]:
        """End the worker (it exits when its input ends); its exit code and what it logged."""
        return self._process.close()


def _preload_of(command: tuple[str, ...]) -> tuple[str, ...] | None:
    """The modules to preload if *command* is the default worker's, else None."""
    if command[: len(WORKER_COMMAND)] == WORKER_COMMAND:
        return command[len(WORKER_COMMAND) :]
    return None


def start_workers(
    count: int, command: Sequence[str] = WORKER_COMMAND, server_environment: dict | None = None
) -> list[Worker]:
    """*count* workers, started now, for a later :func:`execute_notebooks` (which closes them).

    *server_environment* is added to the environment of the fork server, if this starts it.
    """
    return [Worker(command, server_environment) for _ in range(max(0, count))]


def close_workers(workers: Sequence[Worker]) -> None:
    """End workers that got no notebooks, at once: a worker still importing is not waited for."""
    for worker in workers:
        worker._process.kill()
        worker.close()


class Execution:
    """Notebooks executed in worker processes as they are submitted, results claimed one by one.

    :func:`execute_notebooks` submits every job, then waits; a caller can instead submit jobs
    in the order it will need them and :meth:`result` each one when it needs it, doing its
    own work meanwhile (the Sphinx extension reads page *i* while the workers execute *i+1*).
    At most *workers* worker processes run, started as jobs arrive; those in *started* (from
    :func:`start_workers`) are used first, and any still unused when :meth:`seal` says no
    more jobs will come are closed at once.  A worker that fails a notebook is replaced by a
    fresh one (started with *worker_command*), so the failure leaves nothing behind; a worker
    process that dies makes every later :meth:`result` raise :class:`WorkerDied`.  No
    library streams jobs through long-lived kernels (see the module's docstring), so this
    small scheduler (a queue and one thread per worker) is ours.
    """

    def __init__(
        self,
        *,
        workers: int,
        timeout: int | None = None,
        allow_errors: bool = False,
        worker_command: Sequence[str] = WORKER_COMMAND,
        started: Sequence[Worker] = (),
        server_environment: dict | None = None,
    ) -> None:
        self._limit = max(0, workers)
        self._server_environment = server_environment
        self._options = {"timeout": timeout, "allow_errors": allow_errors}
        self._command = tuple(worker_command)
        self._spare = list(started)
        self._todo: queue.Queue[Job | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._names: set[str] = set()
        self._taken = 0  # jobs a worker has started on
        self._results: dict[str, Result] = {}
        self._deaths: list[str] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._sealed = False
        self.started_at = time.perf_counter()
        if self._limit == 0:
            self.seal()

    @property
    def workers(self) -> int:
        """How many worker processes were put to work."""
        return len(self._threads)

    def submit(self, job: Job) -> None:
        """Queue *job*; a worker starts on it as soon as one is free."""
        if self._sealed:
            raise RuntimeError("no job can be submitted after seal()")
        self._names.add(job.name)
        self._todo.put(job)
        if len(self._threads) < min(self._limit, len(self._names)):
            worker = self._spare.pop(0) if self._spare else None
            thread = threading.Thread(target=self._drive, args=(worker,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def seal(self) -> None:
        """No more jobs: workers end when the queue is empty; unused started ones end now."""
        if self._sealed:
            return
        self._sealed = True
        close_workers(self._spare)
        self._spare = []
        for _ in self._threads:
            self._todo.put(None)

    def result(self, name: str) -> Result:
        """Wait for the result of the job *name*; raises :class:`WorkerDied` if a worker died."""
        if name not in self._names:
            raise KeyError(name)
        with self._changed:
            while name not in self._results and not self._deaths:
                self._changed.wait()
            if self._deaths:
                raise WorkerDied("\n".join(self._deaths))
            return self._results[name]

    def close(self) -> None:
        """Seal, stop handing out jobs, and wait for the workers to end (each finishes its job)."""
        self.seal()
        if any(name not in self._results for name in self._names):
            self._stop.set()  # jobs nobody will claim (the build stopped): leave them
        for thread in self._threads:
            thread.join()

    def _drive(self, worker: Worker | None) -> None:
        try:
            self._run_jobs(worker)
        except BaseException as error:  # noqa: BLE001 - e.g. a worker that cannot start
            # Told to whoever waits for a result, which would otherwise wait for ever.
            self._stop.set()
            with self._changed:
                self._deaths.append(
                    f"a page-execution worker failed: {type(error).__name__}: {error}"
                )
                self._changed.notify_all()

    def _run_jobs(self, worker: Worker | None) -> None:
        worker = worker or Worker(self._command, self._server_environment)
        pending: Job | None = None
        try:
            while not self._stop.is_set():
                pending = self._todo.get()
                if pending is None:
                    break
                with self._changed:
                    self._taken += 1
                answer = worker.ask(
                    {
                        "notebook": nbformat.writes(pending.notebook),
                        "cwd": pending.cwd,
                        **self._options,
                    }
                )
                if answer is None:
                    break
                executed = answer.get("notebook")
                result = Result(
                    name=pending.name,
                    ok=bool(answer.get("ok")),
                    seconds=answer.get("seconds", 0.0),
                    notebook=nbformat.reads(executed, as_version=4) if executed else None,
                    error=answer.get("error"),
                )
                pending = None
                with self._changed:
                    self._results[result.name] = result
                    self._changed.notify_all()
                if not result.ok and not (self._sealed and self._taken == len(self._names)):
                    # A failed page must not leave its state (modules it changed) to the next.
                    _finish(worker)
                    worker = Worker(self._command, self._server_environment)
        finally:
            code, log = worker.close()
        if pending is not None:
            self._stop.set()
            tail = "\n".join(log.strip().splitlines()[-15:]) or "(no output)"
            with self._changed:
                self._deaths.append(
                    f"a page-execution worker exited with code {code} before answering "
                    f"{pending.name!r}; its last output:\n{tail}"
                )
                self._changed.notify_all()
        elif log.strip():
            sys.stderr.write(log)  # kernel and library messages, as when inherited


def _finish(worker: Worker) -> None:
    """End *worker*, passing on what it logged (kernel and library messages, as when inherited)."""
    _code, log = worker.close()
    if log.strip():
        sys.stderr.write(log)


def execute_notebooks(
    jobs: Sequence[Job],
    *,
    workers: int,
    timeout: int | None = None,
    allow_errors: bool = False,
    worker_command: Sequence[str] = WORKER_COMMAND,
    started: Sequence[Worker] = (),
) -> list[Result]:
    """Execute *jobs* in *workers* worker processes; one result per job, sorted by name.

    Workers in *started* (from :func:`start_workers`) are used first and all of them are
    closed here, used or not; a worker replacing one is started with *worker_command*.
    A notebook's own ``metadata.execution`` (``timeout``, ``allow_errors``) overrides the
    arguments, as in myst-nb.  Raises :class:`WorkerDied` if a worker process exits early.
    """
    if not jobs or workers < 1:
        close_workers(started)
        return []
    execution = Execution(
        workers=workers,
        timeout=timeout,
        allow_errors=allow_errors,
        worker_command=worker_command,
        started=started,
    )
    try:
        # Longest notebooks first, so the workers finish together.
        for job in sorted(jobs, key=lambda j: -len(j.notebook.cells)):
            execution.submit(job)
        execution.seal()
        return sorted((execution.result(job.name) for job in jobs), key=lambda r: r.name)
    finally:
        execution.close()
