"""Executing notebooks in a few long-lived worker processes (performance only).

myst-nb's ``cache`` mode starts one kernel per page, and every kernel imports pandas and
altair again: about 2.5 s of a page's 3 s.  :func:`execute_notebooks` runs many notebooks
in a few long-lived worker processes instead (one per core), one after another in each.
Each notebook starts from an empty namespace, execution count 1 and its own working
directory, as in a kernel of its own; modules stay imported, which is the point.  Nothing
off the shelf reuses a kernel across notebooks (nbclient and jupyter-cache start one per
notebook), and this halved the cold build, so the machinery is ours.

A worker runs its notebooks in ipykernel's own in-process kernel, driven by nbclient, so
the outputs are those of a kernel (the same shell, formatters, display publisher and
message-to-output code) without the kernel protocol between two processes: per page a
Jupyter kernel cost a reset over ZMQ, new channels, and every output serialised, sent and
parsed again, which measured as much again as the pages' own work.  Workers can be started
before their notebooks are known (:func:`start_workers`), so their imports overlap the
caller's own start-up, and they import the modules the pages use before the first page.

This module knows nothing of Sphinx or myst-nb: ``build.sphinx_ext`` decides which pages
to run and stores the results in myst-nb's execution cache.  A notebook that fails comes
back with ``ok=False`` (myst-nb then executes and reports it as usual), and its worker is
replaced by a fresh one so the failure leaves nothing behind; a worker process that dies
raises :class:`WorkerDied`, because then no result can be trusted.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import nbformat

WORKERS_ENV = "REVIEW_EXECUTION_WORKERS"
# The worker is this module's run_worker, named from __name__ so a move cannot break it.
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
    """One worker process, started at once: it imports while its caller goes on."""

    def __init__(self, command: Sequence[str] = WORKER_COMMAND) -> None:
        self.command = tuple(command)
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self._process = subprocess.Popen(
            list(self.command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
        )

    def ask(self, request: dict) -> dict | None:
        """Send one request and wait for its answer; None if the worker is gone."""
        try:
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
        except OSError:
            return None
        line = self._process.stdout.readline()
        return json.loads(line) if line else None

    def close(self) -> tuple[int, str]:
        """End the worker (it exits when its input ends); its exit code and what it logged."""
        with contextlib.suppress(OSError):
            self._process.stdin.close()
        try:
            code = self._process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            code = self._process.wait()
        self._process.stdout.close()
        self._stderr.seek(0)
        log = self._stderr.read()
        self._stderr.close()
        return code, log


def start_workers(count: int, command: Sequence[str] = WORKER_COMMAND) -> list[Worker]:
    """*count* workers, started now, for a later :func:`execute_notebooks` (which closes them)."""
    return [Worker(command) for _ in range(max(0, count))]


def close_workers(workers: Sequence[Worker]) -> None:
    """End workers that got no notebooks, at once: a worker still importing is not waited for."""
    for worker in workers:
        with contextlib.suppress(OSError):
            worker._process.kill()
        worker.close()


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
    count = min(workers, len(jobs)) if jobs else 0
    ready = list(started)
    close_workers(ready[count:])
    ready = ready[:count]
    if count < 1:
        return []
    todo: queue.Queue[Job] = queue.Queue()
    # Longest notebooks first, so the workers finish together.
    for job in sorted(jobs, key=lambda j: -len(j.notebook.cells)):
        todo.put(job)
    results: list[Result] = []
    deaths: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def finish(worker: Worker) -> None:
        _code, log = worker.close()
        if log.strip():
            sys.stderr.write(log)  # kernel and library messages, as when inherited

    def drive(worker: Worker | None) -> None:
        worker = worker or Worker(worker_command)
        pending: Job | None = None
        try:
            while not stop.is_set():
                try:
                    pending = todo.get_nowait()
                except queue.Empty:
                    pending = None
                    break
                answer = worker.ask(
                    {
                        "notebook": nbformat.writes(pending.notebook),
                        "cwd": pending.cwd,
                        "timeout": timeout,
                        "allow_errors": allow_errors,
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
                with lock:
                    results.append(result)
                if not result.ok and not todo.empty():
                    # A failed page must not leave its state (modules it changed) to the next.
                    finish(worker)
                    worker = Worker(worker_command)
        finally:
            code, log = worker.close()
        if pending is not None:
            stop.set()
            tail = "\n".join(log.strip().splitlines()[-15:]) or "(no output)"
            with lock:
                deaths.append(
                    f"a page-execution worker exited with code {code} before answering "
                    f"{pending.name!r}; its last output:\n{tail}"
                )
        elif log.strip():
            sys.stderr.write(log)  # kernel and library messages, as when inherited

    threads = [
        threading.Thread(target=drive, args=(ready[i] if i < len(ready) else None,), daemon=True)
        for i in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if deaths:
        raise WorkerDied("\n".join(deaths))
    return sorted(results, key=lambda r: r.name)


# --- the worker process ----------------------------------------------------------------------


def run_worker() -> None:
    """Worker process: execute the notebooks sent on stdin (one JSON line each) in-process.

    Its arguments name modules to import before the first notebook.
    """
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything else written to stdout (kernel, libraries) goes to stderr
    sys.stdout = sys.stderr
    log = os.fdopen(os.dup(2), "w", encoding="utf-8")  # the worker's own messages
    # debugpy, which ipykernel imports, warns that it cannot see frozen modules; a kernel
    # process is started with -Xfrozen_modules=off for it, which would slow every import.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    import asyncio
    import traceback

    code = 0
    try:
        asyncio.run(_worker_loop(sys.stdin, protocol, log, sys.argv[1:]))
    except BaseException:  # noqa: BLE001 - told to the caller, which raises WorkerDied
        traceback.print_exc(file=log)
        code = 1
    # Nothing is left to save, and the in-process kernel's teardown (its IOPub thread's
    # event loop) only logs asyncio warnings, which would end up in the build's output.
    log.flush()
    os._exit(code)


async def _worker_loop(requests, protocol, log, preload: Sequence[str] = ()) -> None:
    import importlib

    kernel = _InProcessKernel()
    for module in preload:
        try:
            importlib.import_module(module)
        except Exception as error:  # noqa: BLE001 - the page that needs it fails, and falls back
            print(f"[review] the worker could not import {module}: {error}", file=log)
    for line in requests:
        answer = await kernel.run(json.loads(line))
        protocol.write(json.dumps(answer) + "\n")
        protocol.flush()


class _CellTimeout(Exception):
    pass


class _InProcessKernel:
    """ipykernel's in-process kernel, executing one notebook after another with nbclient."""

    def __init__(self) -> None:
        from ipykernel.inprocess.manager import InProcessKernelManager

        self.km = InProcessKernelManager()
        self.km.client_factory = _async_in_process_client()
        self.km.start_kernel()
        kernel = self.km.kernel
        from ipykernel.iostream import OutStream

        # As in a kernel process, print() and whatever is written to file descriptors 1 and 2
        # (extension libraries, child processes) become the page's stream outputs; ipykernel's
        # in-process kernel would swap its streams in for each cell only, and miss the latter.
        kernel.stdout = sys.stdout = OutStream(kernel.session, kernel.iopub_thread, "stdout")
        kernel.stderr = sys.stderr = OutStream(kernel.session, kernel.iopub_thread, "stderr")
        self.kc = self.km.client()
        self.kc.start_channels()
        self._timed_out: str | None = None

    async def run(self, job: dict) -> dict:
        """Execute one request from :func:`execute_notebooks`; the answer to send back."""
        import gc
        import time

        from nbclient import NotebookClient

        notebook = nbformat.reads(job["notebook"], as_version=4)
        execution = notebook.metadata.get("execution", {})
        timeout = execution.get("timeout", job["timeout"])
        allow_errors = execution.get("allow_errors", job["allow_errors"])
        cwd = job["cwd"] or os.getcwd()
        kernel_name = notebook.metadata.get("kernelspec", {}).get("name", "python3")
        if kernel_name != self.km.kernel_name:
            return {"ok": False, "seconds": 0.0, "error": f"kernel {kernel_name!r}: not this one"}
        # What a kernel of its own would give the page: an empty namespace, execution count 1
        # (a new history session), its own working directory.
        self.km.kernel.shell.reset(new_session=True)  # this also collects garbage
        # What earlier pages left (imports, caches) lives as long as the worker: frozen, the
        # collector stops walking it on every collection (a third of a page's reset).
        gc.freeze()
        os.chdir(cwd)
        client = NotebookClient(
            notebook,
            km=self.km,
            timeout=timeout,
            allow_errors=allow_errors,
            record_timing=False,
            resources={"metadata": {"path": cwd}},
            on_cell_execute=self._arm,
            on_cell_complete=self._disarm,
        )
        client.kc = self.kc
        self._client, self._timed_out = client, None
        started = time.perf_counter()
        try:
            await client.async_execute()
            if self._timed_out:
                raise _CellTimeout(self._timed_out)
            answer = {"ok": True, "notebook": nbformat.writes(notebook)}
        except Exception as error:  # noqa: BLE001 - reported by myst-nb when it re-executes
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"[:2000]}
        finally:
            self._disarm()
        answer["seconds"] = time.perf_counter() - started
        return answer

    # A cell runs inside this process, so nbclient's timeout (it waits for a reply from
    # another process) cannot stop it; an alarm can.  The page then fails, and myst-nb
    # executes it again and reports the timeout as usual.
    def _arm(self, cell, cell_index: int, **_) -> None:
        import signal

        seconds = self._client._get_timeout(cell)
        if seconds:

            def expired(signum, frame) -> None:
                self._timed_out = f"cell {cell_index} ran longer than {seconds} s"
                raise TimeoutError(self._timed_out)

            signal.signal(signal.SIGALRM, expired)
            signal.setitimer(signal.ITIMER_REAL, seconds)

    def _disarm(self, **_) -> None:
        import signal

        signal.setitimer(signal.ITIMER_REAL, 0)


def _async_in_process_client():
    """The client class, defined here so that importing this module does not import ipykernel."""
    from ipykernel.inprocess.blocking import BlockingInProcessKernelClient

    return type("AsyncInProcessClient", (_AwaitableRequests, BlockingInProcessKernelClient), {})


class _AwaitableRequests:
    """ipykernel's blocking in-process client, with the requests nbclient awaits awaitable.

    Its own ``execute`` runs the kernel's coroutine through ``run_sync``, which inside
    nbclient's running event loop moves the cell to another thread; awaited here, the page
    runs in the main thread inside a running event loop, as in a kernel process.  The
    request itself is built as jupyter_client's ``KernelClient.execute`` builds it.
    """

    async def wait_for_ready(self, timeout=None) -> None:
        return None  # the kernel is this process, and ready once started

    async def _request(self, msg_type: str, content: dict | None = None) -> str:
        msg = self.session.msg(msg_type, content or {})
        stream = self.kernel.shell_stream
        self.session.send(stream, msg)
        await self.kernel.dispatch_shell(stream.recv_multipart())
        _idents, reply = self.session.recv(stream, copy=False)
        self.shell_channel.call_handlers_later(reply)
        return msg["header"]["msg_id"]

    async def kernel_info(self) -> str:
        return await self._request("kernel_info_request")

    async def execute(
        self,
        code: str,
        silent: bool = False,
        store_history: bool = True,
        user_expressions: dict | None = None,
        allow_stdin: bool | None = None,
        stop_on_error: bool = True,
    ) -> str:
        content = {
            "code": code,
            "silent": silent,
            "store_history": store_history,
            "user_expressions": user_expressions or {},
            "allow_stdin": self.allow_stdin if allow_stdin is None else allow_stdin,
            "stop_on_error": stop_on_error,
        }
        return await self._request("execute_request", content)
