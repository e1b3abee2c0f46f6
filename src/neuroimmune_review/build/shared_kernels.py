"""Executing notebooks in a few shared kernels (performance only).

myst-nb's ``cache`` mode starts one kernel per page, and every kernel imports pandas and
altair again: about 2.5 s of a page's 3 s.  :func:`execute_notebooks` runs many notebooks
in a few long-lived kernels instead (one per core), one after another in each.  Each
notebook starts from an empty namespace, execution count 1 and its own working directory,
as in a kernel of its own; modules stay imported, which is the point.  Nothing off the
shelf reuses a kernel across notebooks (nbclient and jupyter-cache start one per
notebook), and this halved the cold build, so the machinery is ours.

This module knows nothing of Sphinx or myst-nb: ``build.sphinx_ext`` decides which pages
to run and stores the results in myst-nb's execution cache.  A notebook that fails comes
back with ``ok=False`` (myst-nb then executes and reports it as usual); a worker process
that dies raises :class:`WorkerDied`, because then no result can be trusted.
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
# A new history session also restarts the execution count at 1, as in a fresh kernel.
_PAGE_PREAMBLE = "get_ipython().reset(new_session=True)\n__import__('os').chdir({cwd!r})\n"
# The worker is this module's run_worker, named from __name__ so a move cannot break it.
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
    """Kernels to start for *jobs* notebooks: one per core, or ``REVIEW_EXECUTION_WORKERS``."""
    wanted = os.environ.get(WORKERS_ENV)
    if wanted is not None and wanted.strip():
        return max(0, min(int(wanted), jobs))
    cores = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )
    return max(1, min(cores, jobs))


def execute_notebooks(
    jobs: Sequence[Job],
    *,
    workers: int,
    timeout: int | None = None,
    allow_errors: bool = False,
    worker_command: Sequence[str] = WORKER_COMMAND,
) -> list[Result]:
    """Execute *jobs* in *workers* shared kernels; one result per job, sorted by name.

    A notebook's own ``metadata.execution`` (``timeout``, ``allow_errors``) overrides the
    arguments, as in myst-nb.  Raises :class:`WorkerDied` if a worker process exits early.
    """
    if not jobs or workers < 1:
        return []
    todo: queue.Queue[Job] = queue.Queue()
    # Longest notebooks first, so the kernels finish together.
    for job in sorted(jobs, key=lambda j: -len(j.notebook.cells)):
        todo.put(job)
    results: list[Result] = []
    deaths: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def drive() -> None:
        with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as stderr:
            worker = subprocess.Popen(
                list(worker_command),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                encoding="utf-8",
            )
            pending: Job | None = None
            try:
                while not stop.is_set():
                    try:
                        pending = todo.get_nowait()
                    except queue.Empty:
                        pending = None
                        break
                    request = {
                        "notebook": nbformat.writes(pending.notebook),
                        "cwd": pending.cwd,
                        "timeout": timeout,
                        "allow_errors": allow_errors,
                    }
                    try:
                        worker.stdin.write(json.dumps(request) + "\n")
                        worker.stdin.flush()
                    except OSError:
                        break  # the worker is gone: reported below
                    line = worker.stdout.readline()
                    if not line:
                        break
                    answer = json.loads(line)
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
            finally:
                with contextlib.suppress(OSError):
                    worker.stdin.close()
                try:
                    code = worker.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    code = worker.wait()
                stderr.seek(0)
                log = stderr.read()
            if pending is not None:
                stop.set()
                tail = "\n".join(log.strip().splitlines()[-15:]) or "(no output)"
                with lock:
                    deaths.append(
                        f"a shared-kernel worker exited with code {code} before answering "
                        f"{pending.name!r}; its last output:\n{tail}"
                    )
            elif log.strip():
                sys.stderr.write(log)  # kernel and library messages, as when inherited

    threads = [threading.Thread(target=drive, daemon=True) for _ in range(min(workers, len(jobs)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if deaths:
        raise WorkerDied("\n".join(deaths))
    return sorted(results, key=lambda r: r.name)


def run_worker() -> None:
    """Worker process: execute the notebooks sent on stdin (one JSON line each) in one kernel."""
    import asyncio

    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything else written to stdout (kernel, libraries) goes to stderr
    sys.stdout = sys.stderr
    asyncio.run(_kernel_worker_loop(sys.stdin, protocol))


async def _kernel_worker_loop(requests, protocol) -> None:
    import time

    import nbformat
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    km: AsyncKernelManager | None = None

    async def stop() -> None:
        nonlocal km
        if km is not None:
            with contextlib.suppress(Exception):
                await km.shutdown_kernel(now=False)
            km = None

    try:
        for line in requests:
            job = json.loads(line)
            notebook = nbformat.reads(job["notebook"], as_version=4)
            timeout, allow_errors = job["timeout"], job["allow_errors"]
            execution = notebook.metadata.get("execution", {})
            timeout = execution.get("timeout", timeout)
            allow_errors = execution.get("allow_errors", allow_errors)
            cwd = job["cwd"] or os.getcwd()
            answer: dict = {"ok": False}
            t0 = time.perf_counter()
            try:
                kernel_name = notebook.metadata.get("kernelspec", {}).get("name", "python3")
                if km is not None and km.kernel_name != kernel_name:
                    await stop()
                if km is None:
                    km = AsyncKernelManager(kernel_name=kernel_name)
                    await km.start_kernel(cwd=cwd)
                kc = km.client()
                kc.start_channels()
                try:
                    await kc.wait_for_ready(timeout=120)
                    reply = await kc.execute_interactive(
                        _PAGE_PREAMBLE.format(cwd=cwd),
                        silent=True,
                        store_history=False,
                        timeout=120,
                    )
                    if reply["content"]["status"] != "ok":
                        raise RuntimeError("could not reset the shared kernel")
                finally:
                    kc.stop_channels()
                t0 = time.perf_counter()
                client = NotebookClient(
                    notebook,
                    km=km,
                    timeout=timeout,
                    allow_errors=allow_errors,
                    record_timing=False,
                    resources={"metadata": {"path": cwd}},
                )
                try:
                    await client.async_execute()
                finally:
                    if client.kc is not None:
                        client.kc.stop_channels()
                answer = {"ok": True, "notebook": nbformat.writes(notebook)}
            except Exception as error:  # noqa: BLE001 - reported by myst-nb when it re-executes
                answer = {"ok": False, "error": f"{type(error).__name__}: {error}"[:2000]}
                await stop()  # a failed page must not leave its state to the next one
            answer["seconds"] = time.perf_counter() - t0
            protocol.write(json.dumps(answer) + "\n")
            protocol.flush()
    finally:
        await stop()
