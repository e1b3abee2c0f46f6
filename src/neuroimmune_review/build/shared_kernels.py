"""Executing the book's pages in a few shared kernels (performance only).

myst-nb's ``cache`` mode starts one kernel per page, and every kernel imports pandas and
altair again: about 2.5 s of a page's 3 s.  Before Sphinx reads the pages, we execute the
ones the jupyter-cache cannot serve in a few long-lived kernels (one per core), one page
after another in each, and store the results in the same cache.  myst-nb then finds every
page cached.  Each page starts from an empty namespace, execution count 1 and its own
folder as working directory, as in a kernel of its own; modules stay imported, which is
the point.  A page that fails here is left alone, so myst-nb executes and reports it as
before.  ``REVIEW_EXECUTION_WORKERS=0`` turns this off.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path, PurePosixPath

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

WORKERS_ENV = "REVIEW_EXECUTION_WORKERS"
# A new history session also restarts the execution count at 1, as in a fresh kernel.
_PAGE_PREAMBLE = "get_ipython().reset(new_session=True)\n__import__('os').chdir({cwd!r})\n"


def _pages_to_execute(app: Sphinx, env, docnames) -> list[tuple[str, Path, object]]:
    from myst_nb.core.read import create_nb_reader

    nb_config = env.mystnb_config
    cache = _execution_cache(env)
    jobs = []
    for docname in sorted(docnames):
        path = Path(env.doc2path(docname))
        if not path.is_file() or path.suffix not in (".md", ".ipynb"):
            continue
        posix = PurePosixPath(path.as_posix())
        if any(posix.match(pattern) for pattern in nb_config.execution_excludepatterns):
            continue
        try:
            source = [path.read_text(encoding=app.config.source_encoding)]
            from .sphinx_ext import inject_tracking_cell

            inject_tracking_cell(app, docname, source)
            reader = create_nb_reader(str(path), env.myst_config, nb_config, source[0])
            if reader is None:
                continue
            notebook = reader.read(source[0])
        except Exception:  # noqa: BLE001 - myst-nb will meet (and report) the same problem
            continue
        if nb_config.metadata_key in notebook.metadata or nb_config.kernel_rgx_aliases:
            continue  # per-page execution settings: leave the page to myst-nb
        if not any(cell.cell_type == "code" and cell.source.strip() for cell in notebook.cells):
            continue
        try:
            cache.match_cache_notebook(notebook)
            continue  # already cached
        except KeyError:
            pass
        jobs.append((docname, path, notebook))
    return jobs


def _execution_cache(env):
    from jupyter_cache import get_cache

    # Exactly the path myst-nb's cache client uses.
    return get_cache(env.mystnb_config.execution_cache_path or ".jupyter_cache")


def _worker_count(jobs: int) -> int:
    wanted = os.environ.get(WORKERS_ENV)
    if wanted is not None and wanted.strip():
        return max(0, min(int(wanted), jobs))
    cores = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )
    return max(1, min(cores, jobs))


def execute_in_shared_kernels(app: Sphinx, env, docnames) -> None:
    """``env-before-read-docs``: fill the execution cache for the pages about to be read."""
    if env.mystnb_config.execution_mode != "cache":
        return
    try:
        jobs = _pages_to_execute(app, env, docnames)
    except Exception as error:  # noqa: BLE001 - never worse than myst-nb on its own
        logger.info(f"[review] shared kernels skipped: {error}")
        return
    workers = _worker_count(len(jobs))
    if not jobs or workers == 0:
        return
    import queue
    import subprocess
    import sys
    import threading
    import time

    import nbformat
    from jupyter_cache.base import CacheBundleIn

    nb_config = env.mystnb_config
    todo: queue.Queue = queue.Queue()
    # Longest pages first, so the kernels finish together.
    for job in sorted(jobs, key=lambda j: -len(j[2].cells)):
        todo.put(job)
    results: list[tuple[str, Path, object, dict]] = []
    lock = threading.Lock()
    started = time.perf_counter()

    def drive() -> None:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from neuroimmune_review.build.shared_kernels import _kernel_worker; _kernel_worker()",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        try:
            while True:
                try:
                    docname, path, notebook = todo.get_nowait()
                except queue.Empty:
                    break
                cwd = str(path.parent) if not nb_config.execution_in_temp else None
                worker.stdin.write(
                    json.dumps(
                        {
                            "notebook": nbformat.writes(notebook),
                            "cwd": cwd,
                            "timeout": nb_config.execution_timeout,
                            "allow_errors": nb_config.execution_allow_errors,
                        }
                    )
                    + "\n"
                )
                worker.stdin.flush()
                line = worker.stdout.readline()
                if not line:
                    break  # the worker died: the pages left are myst-nb's
                answer = json.loads(line)
                with lock:
                    results.append((docname, path, notebook, answer))
        finally:
            with contextlib.suppress(OSError):
                worker.stdin.close()
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()

    threads = [threading.Thread(target=drive, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    cache = _execution_cache(env)
    done = 0
    for docname, path, _notebook, answer in sorted(results, key=lambda r: r[0]):
        if not answer.get("ok"):
            continue  # myst-nb executes it again and reports the error in its usual way
        executed = nbformat.reads(answer["notebook"], as_version=4)
        cache.cache_notebook_bundle(
            CacheBundleIn(executed, str(path), data={"execution_seconds": answer["seconds"]}),
            check_validity=False,
            overwrite=True,
        )
        logger.info(
            f"Executing notebook in a shared kernel: done in {answer['seconds']:.2f} seconds",
            location=docname,
        )
        done += 1
    logger.info(
        f"[review] executed {done} page(s) in {workers} shared kernel(s) "
        f"in {time.perf_counter() - started:.1f} s"
    )


def _kernel_worker() -> None:
    """Subprocess: execute the notebooks sent on stdin (one JSON line each) in one kernel."""
    import asyncio
    import sys

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
