"""How ``shared_kernels`` starts a page worker: forked from a fork server, or as a command.

The worker's side of both is ``shell_worker``; see ``shared_kernels`` for why pages run in
workers at all.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import subprocess
import tempfile
import threading
from collections.abc import Sequence

from . import shell_worker


class CommandProcess:
    """A worker started as a command of its own (``shell_worker.run_worker``): JSON lines on its
    stdin and stdout, its stderr kept in a temporary file."""

    def __init__(self, command: tuple[str, ...]) -> None:
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self._popen = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
        )

    def ask(self, request: dict) -> dict | None:
        try:
            self._popen.stdin.write(json.dumps(request) + "\n")
            self._popen.stdin.flush()
        except OSError:
            return None
        line = self._popen.stdout.readline()
        return json.loads(line) if line else None

    def poll(self) -> int | None:
        return self._popen.poll()

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self._popen.kill()

    def close(self) -> tuple[int, str]:
        with contextlib.suppress(OSError):
            self._popen.stdin.close()
        try:
            code = self._popen.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._popen.kill()
            code = self._popen.wait()
        self._popen.stdout.close()
        self._stderr.seek(0)
        log = self._stderr.read()
        self._stderr.close()
        return code, log


FORK_SERVER_METHOD = "forkserver"
_fork_server_lock = threading.Lock()


def _fork_context(preload: Sequence[str], environment: dict):
    """multiprocessing's fork-server context, its server started (once per process) with
    *preload* and the shell's modules imported.

    Each worker used to import IPython, pandas, Altair and the page modules itself (1.3-1.5 s
    of CPU a worker, on a machine whose cores the build keeps busy); forked from the server,
    they are imported once.  The server is a fresh interpreter that only imports modules, so
    no thread exists when it forks: OpenBLAS, which numpy loads, would start its thread pool
    there, so the server starts with ``OPENBLAS_NUM_THREADS=1`` (no page multiplies matrices;
    the workers get the caller's environment back, see ``shell_worker.serve_forked``).  What
    starts threads (vl-convert's engine, IPython's shell) is done by each worker after the fork.
    multiprocessing would run the caller's main script again in each worker; ``fork_main``
    (imported first by the server) makes it find that script already run.  *environment* is
    added to the server's environment, if this starts it.  The server lives as long as the
    process: a process that builds twice (jupyter-book builds once) forks the second build's
    workers from the same imports (the data caches check their files).
    """
    context = multiprocessing.get_context(FORK_SERVER_METHOD)
    with _fork_server_lock:
        from multiprocessing import forkserver

        context.set_forkserver_preload(
            [
                f"{__package__}.fork_main",
                f"{__package__}.fork_check",  # first after it: the checks fork from there
                shell_worker.__name__,
                *shell_worker.SHELL_MODULES,
                *preload,
            ]
        )
        environment = {**_FORK_SERVER_ENVIRONMENT, **_main_environment(), **environment}
        saved = {name: os.environ.get(name) for name in environment}
        os.environ.update(environment)
        try:
            before = server_pid()
            forkserver.ensure_running()  # returns at once; the server then imports
            if server_pid() != before:
                _started_with.append(environment)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    return context


# The environment of each fork server this process started (a server started once is reused).
_started_with: list[dict] = []


def started_with(name: str) -> str | None:
    """*name* in the environment of the fork server this process started last, if it did."""
    return _started_with[-1].get(name) if _started_with else None


def server_pid() -> int | None:
    """The process id of this process's fork server, if one was started (multiprocessing keeps
    it on a private attribute, read defensively: no id means no server to wait for)."""
    from multiprocessing import forkserver

    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    return pid if isinstance(pid, int) else None


def server_alive() -> bool:
    """Whether that fork server still runs (nobody reaps it, so an ended one is a zombie)."""
    pid = server_pid()
    if pid is None:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            state = handle.read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _main_environment() -> dict[str, str]:
    """What ``fork_main`` needs to stand for the caller's main module: multiprocessing's own
    description of it (a script's path, or a module's name), as each worker would get it."""
    from multiprocessing import spawn

    data = spawn.get_preparation_data("review-page-worker")
    return {
        "REVIEW_FORK_MAIN_FILE": data.get("init_main_from_path", ""),
        "REVIEW_FORK_MAIN_NAME": data.get("init_main_from_name", ""),
    }


_FORK_SERVER_ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


class ForkedProcess:
    """A worker forked from the fork server (``shell_worker.serve_forked``).

    Starting one waits for the server to have imported its modules, so it is started on a
    thread of its own: the caller goes on at once, as with a command (``ask`` waits for it).
    A worker killed while it is still starting is ended by that thread once it has started,
    so that ending an unneeded worker never waits for the server either.
    """

    def __init__(self, preload: tuple[str, ...], server_environment: dict) -> None:
        context = _fork_context(preload, server_environment)
        log = tempfile.NamedTemporaryFile(prefix="review-worker-", suffix=".log", delete=False)
        log.close()
        self._log_path = log.name
        self._connection, child = context.Pipe()
        self._process = context.Process(
            target=shell_worker.serve_forked,
            args=(child, self._log_path, preload, dict(os.environ)),
            name="review-page-worker",
            daemon=True,
        )
        self._start_error: BaseException | None = None
        self._lock = threading.Lock()
        self._ready = False  # start() has returned (or failed)
        self._cancelled = False  # killed before that: the starting thread ends it

        def start() -> None:
            try:
                self._process.start()
            except BaseException as error:  # noqa: BLE001 - raised by ask(), told by close()
                self._start_error = error
            finally:
                child.close()
                with self._lock:
                    self._ready = True
                    cancelled = self._cancelled
                if cancelled:
                    self._kill()
                    self._end()

        self._starting = threading.Thread(target=start, daemon=True)
        self._starting.start()

    def _started(self) -> bool:
        self._starting.join()
        return self._start_error is None

    def ask(self, request: dict) -> dict | None:
        if not self._started():
            raise self._start_error
        try:
            self._connection.send_bytes(json.dumps(request).encode("utf-8"))
            return json.loads(self._connection.recv_bytes())
        except (EOFError, OSError):
            return None

    def poll(self) -> int | None:
        with self._lock:
            if self._cancelled:
                return -9  # ended, or to be ended as soon as it has started
            if not self._ready:
                return None
        return self._process.exitcode if self._start_error is None else -1

    def kill(self) -> None:
        with self._lock:
            if not self._ready:
                self._cancelled = True
                return
        self._kill()

    def _kill(self) -> None:
        if self._start_error is None:
            with contextlib.suppress(OSError):
                self._process.kill()

    def close(self) -> tuple[int, str]:
        with self._lock:
            if self._cancelled:
                return -9, ""  # the starting thread ends it
        return self._end()

    def _end(self) -> tuple[int, str]:
        started = (
            self._started()
            if threading.current_thread() is not self._starting
            else (self._start_error is None)
        )
        self._connection.close()
        if started:
            self._process.join(timeout=60)
            if self._process.exitcode is None:
                self._process.kill()
                self._process.join()
            code = self._process.exitcode
        else:
            code = -1
        try:
            with open(self._log_path, encoding="utf-8", errors="replace") as file:
                log = file.read()
        finally:
            os.unlink(self._log_path)
        if not started:
            log += f"the worker could not start: {self._start_error!r}\n"
        return code, log
