"""The page-execution worker process: notebooks in IPython's own shell (performance only).

``shared_kernels`` starts this process and sends it one notebook at a time; see that module for
why pages run this way.  A worker is either forked from multiprocessing's fork server, which has
imported this module and the page modules once (:func:`serve_forked`), or a process of its own
started with a command (:func:`run_worker`, through ``shared_kernels.WORKER_COMMAND``).
"""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence

import nbformat

# Where the shell keeps its input history (see _ShellExecutor).
HISTORY_FILE = ":memory:"

# What the fork server imports for every worker, besides the page modules it is given: the
# shell that _ShellExecutor builds.
SHELL_MODULES = (
    "IPython.core.displayhook",
    "IPython.core.displaypub",
    "IPython.core.interactiveshell",
)


def run_worker() -> None:
    """Worker process: execute the notebooks sent on stdin (one JSON line each) in-process.

    Its arguments name modules to import before the first notebook.
    """
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything else written to stdout (kernel, libraries) goes to stderr
    sys.stdout = sys.stderr
    log = os.fdopen(os.dup(2), "w", encoding="utf-8")  # the worker's own messages

    def reply(answer: dict) -> None:
        protocol.write(json.dumps(answer) + "\n")
        protocol.flush()

    _serve((json.loads(line) for line in sys.stdin), reply, log, sys.argv[1:])


def serve_forked(connection, log_path: str, preload: Sequence[str], environ: dict) -> None:
    """A worker forked from the fork server: requests and answers go through *connection*.

    Everything the process writes (kernel and library messages, tracebacks) goes to the file
    *log_path*, which the caller reads when the worker ends.  The environment is the caller's
    now (the fork server's is that of the moment it started).
    """
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.environ.clear()
    os.environ.update(environ)
    gc.enable()  # off while the server imported (``fork_main``), if its preload stopped early
    # As in a kernel (and a ``python -c`` worker), a page's own folder comes first on the path.
    if "" not in sys.path:
        sys.path.insert(0, "")

    def requests() -> Iterable[dict]:
        while True:
            try:
                yield json.loads(connection.recv_bytes())
            except EOFError:  # the caller closed its end: no more pages
                return

    def reply(answer: dict) -> None:
        connection.send_bytes(json.dumps(answer).encode("utf-8"))

    _serve(requests(), reply, sys.stderr, preload)


def _serve(
    requests: Iterable[dict], reply: Callable[[dict], None], log, preload: Sequence[str]
) -> None:
    # debugpy, which ipykernel imports, warns that it cannot see frozen modules; a kernel
    # process is started with -Xfrozen_modules=off for it, which would slow every import.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    import traceback

    code = 0
    try:
        _worker_loop(requests, reply, log, preload)
    except BaseException:  # noqa: BLE001 - told to the caller, which raises WorkerDied
        traceback.print_exc(file=log)
        code = 1
    # Nothing is left to save: exiting at once skips the collector's walk over every page's
    # leftovers at interpreter teardown.
    sys.stdout.flush()
    log.flush()
    os._exit(code)


def _worker_loop(
    requests: Iterable[dict], reply: Callable[[dict], None], log, preload: Sequence[str] = ()
) -> None:
    import importlib

    shell = _ShellExecutor()
    for module in preload:
        try:
            loaded = importlib.import_module(module)
            # A module may warm itself up (render starts vl-convert's engine: 1-2 s a process).
            # Never in the fork server: the engine's threads would not survive the fork.
            getattr(loaded, "warm_up", lambda: None)()
        except Exception as error:  # noqa: BLE001 - the page that needs it fails, and falls back
            print(f"[review] the worker could not import {module}: {error}", file=log)
            continue
        # ... and be told when each page is done (provenance then writes the page's record).
        if hasattr(loaded, "finish_page"):
            shell.finishers.append(loaded.finish_page)
    for request in requests:
        reply(shell.run(request))


def language_info() -> dict:
    """The ``language_info`` of ipykernel's kernel (``IPythonKernel.language_info``), which
    nbclient copies into every executed notebook.

    Written out rather than imported: importing ``ipykernel.ipkernel`` brings ZMQ, Tornado and
    jupyter_client into the fork server (~0.15 s of each build's worker start-up) for this one
    dict; a test compares the two.
    """
    return {
        "name": "python",
        "version": sys.version.split()[0],
        "mimetype": "text/x-python",
        "codemirror_mode": {"name": "ipython", "version": sys.version_info[0]},
        "pygments_lexer": "ipython3",
        "nbconvert_exporter": "python",
        "file_extension": ".py",
    }


class _NotReproduced(Exception):
    """The page did something whose kernel output this path does not rebuild exactly."""


class _ShellExecutor:
    """IPython's own shell, executing one notebook after another in this process.

    A kernel is IPython's shell plus a protocol; the shell alone gives the same outputs: its
    display formatters make every mime bundle, its display hook the cell's result with its
    execution count, and print() becomes a stdout stream.  Measured on the 34 pages at 1x:
    ipykernel's in-process kernel driven by nbclient still cost about 30 ms per cell in its
    IOPub thread and ZMQ sockets (a 20-cell page of ``1 + 1``: 0.6 s), and the pages' own
    work doubled in wall time; the executed notebooks of all 34 pages are identical either
    way (tests/build/test_shared_kernels.py).  Only what a page of this book produces is
    rebuilt here: results, displays and stdout.  A page that raises, times out, writes to
    stderr (warnings included) or updates a display fails here instead (``ok=False``), and
    myst-nb executes it in a real kernel, which records and reports it exactly as always.
    """

    def __init__(self) -> None:
        import io

        from IPython.core.displayhook import DisplayHook
        from IPython.core.displaypub import DisplayPublisher
        from IPython.core.interactiveshell import InteractiveShell

        outputs: list[dict] = []
        stdout = io.StringIO()
        self._outputs, self._stdout = outputs, stdout

        def flush_stdout() -> None:  # print() before a display comes first, as in a kernel
            if stdout.tell():
                outputs.append(
                    {"output_type": "stream", "name": "stdout", "text": stdout.getvalue()}
                )
                stdout.seek(0)
                stdout.truncate()

        class Publisher(DisplayPublisher):
            def publish(
                self, data, metadata=None, source=None, *, transient=None, update=False, **_
            ):
                if transient or update:
                    raise _NotReproduced("a display with a display id")
                flush_stdout()
                outputs.append(
                    {"output_type": "display_data", "data": data, "metadata": metadata or {}}
                )

            def clear_output(self, wait=False):
                raise _NotReproduced("clear_output")

        class Hook(DisplayHook):
            def write_output_prompt(self) -> None:
                pass

            def write_format_data(self, format_dict, md_dict=None) -> None:
                flush_stdout()
                # execution_count: the cell's, filled in when the cell has run
                outputs.append(
                    {
                        "output_type": "execute_result",
                        "data": format_dict,
                        "metadata": md_dict or {},
                    }
                )

            def finish_displayhook(self) -> None:
                pass

        self._flush_stdout = flush_stdout
        self.finishers: list[Callable[[], None]] = []  # called after each page's cells
        from traitlets.config import Config

        # The input history in memory, not in the profile's history.sqlite: with the file, every
        # cell's source went to a saving thread that commits it to SQLite while holding the lock
        # the next cell's store_inputs waits on, and each page's new session was a commit too
        # (both workers share one file; cProfile put 0.25 s of wall of a one-row build's ten
        # pages in store_inputs).  Outputs do not depend on it: In, _i and the execution count
        # are kept in memory either way.  ':memory:' is IPython's own fallback when the file
        # cannot be used.
        config = Config()
        config.HistoryManager.hist_file = HISTORY_FILE
        self.shell = InteractiveShell.instance(
            config=config, displayhook_class=Hook, display_pub_class=Publisher
        )
        # As in ipykernel: every mime type a formatter knows is produced.
        formatter = self.shell.display_formatter
        formatter.active_types = formatter.format_types
        # nbclient copies the kernel's kernel_info reply into the notebook.
        self.language_info = language_info()

    def run(self, job: dict) -> dict:
        """Execute one request from :func:`execute_notebooks`; the answer to send back."""
        import time

        notebook = nbformat.reads(job["notebook"], as_version=4)
        execution = notebook.metadata.get("execution", {})
        timeout = execution.get("timeout", job["timeout"])
        cwd = job["cwd"] or os.getcwd()
        kernel_name = notebook.metadata.get("kernelspec", {}).get("name", "python3")
        started = time.perf_counter()
        try:
            if kernel_name != "python3":
                raise _NotReproduced(f"kernel {kernel_name!r}")
            # What earlier pages left (imports, caches) lives as long as the worker: frozen, the
            # collector run by the reset below does not walk it for every page.
            gc.freeze()
            # A kernel of its own would give the page an empty namespace, execution count 1
            # and its own working directory.
            self.shell.reset(new_session=True)
            self.shell.execution_count = 1
            os.chdir(cwd)
            try:
                for index, cell in enumerate(notebook.cells):
                    if cell.cell_type == "code":
                        self._run_cell(cell, index, timeout)
            finally:
                for finish in self.finishers:
                    finish()
            notebook.metadata["language_info"] = self.language_info
            answer = {"ok": True, "notebook": nbformat.writes(notebook)}
        except Exception as error:  # noqa: BLE001 - myst-nb executes the page again and reports
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"[:2000]}
        answer["seconds"] = time.perf_counter() - started
        return answer

    def _run_cell(self, cell, index: int, timeout) -> None:
        import contextlib
        import io
        import signal

        self._outputs.clear()
        if not cell.source.strip():  # as nbclient: an empty cell is not sent to the kernel
            return
        stderr = io.StringIO()

        def expired(signum, frame) -> None:
            raise TimeoutError(f"cell {index} ran longer than {timeout} s")

        if timeout and timeout > 0:
            signal.signal(signal.SIGALRM, expired)
            signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            with contextlib.redirect_stdout(self._stdout), contextlib.redirect_stderr(stderr):
                result = self.shell.run_cell(cell.source, store_history=True)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        self._flush_stdout()
        failure = result.error_before_exec or result.error_in_exec
        if failure is not None:
            raise _NotReproduced(f"cell {index} raised {type(failure).__name__}: {failure}")
        if stderr.tell():
            raise _NotReproduced(f"cell {index} wrote to stderr: {stderr.getvalue()[:300]}")
        for output in self._outputs:
            if output["output_type"] == "execute_result":
                output["execution_count"] = result.execution_count
        # Through JSON, as a kernel's messages are (tuples become lists, and so on).
        cell.outputs = [nbformat.from_dict(o) for o in json.loads(json.dumps(self._outputs))]
        cell.execution_count = result.execution_count
