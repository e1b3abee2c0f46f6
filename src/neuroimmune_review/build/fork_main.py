"""Imported first by the page workers' fork server (``shared_kernels``), and only there.

multiprocessing recreates the caller's main module in every process it starts, by running
the caller's main script (or ``-m`` module) again, unless the new process's main module
already names it.  The workers need nothing of it, and a script that does its work outside
``if __name__ == "__main__"`` would run that work again in each of them (a whole build).  So
the server's own main module is made to name the caller's (told in the two variables below,
from ``multiprocessing.spawn.get_preparation_data``): each forked worker then finds it "already
there" and runs nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib.machinery
import os
import sys

FILE_ENV = "REVIEW_FORK_MAIN_FILE"
NAME_ENV = "REVIEW_FORK_MAIN_NAME"

_main = sys.modules.get("__main__")
if _main is not None and os.environ.get(FILE_ENV):
    _main.__file__ = os.environ[FILE_ENV]
if _main is not None and os.environ.get(NAME_ENV):
    _main.__spec__ = importlib.machinery.ModuleSpec(os.environ[NAME_ENV], None)


def _exit_at_once() -> None:
    """The server's last act when its caller has gone: leave without tearing the interpreter down.

    The server ends (``SystemExit`` from multiprocessing's loop) when the build's process exits.
    Tearing down its heap (IPython, pandas, Altair, the page modules, the preloaded evidence)
    took 0.3-0.6 s, during which it still held the build's stdout and stderr, which it inherits:
    whoever reads the build's output to its end (the benchmark, CI logs) waited for it.  Nothing
    is lost: the workers it forked have ended (each leaves by ``os._exit`` anyway), it writes
    nothing of its own, and its streams are flushed first.  Registered when the server imports
    this module, before anything else it imports, so every other exit handler runs before it.
    No process waits for the server's exit status (multiprocessing never reaps it).
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


# Only in the server, which alone is started with these variables (``worker_processes``).
if FILE_ENV in os.environ or NAME_ENV in os.environ:
    atexit.register(_exit_at_once)
    # The server's imports allocate millions of objects that live as long as it does; the
    # collector's passes over them were ~0.14 s of its ~0.63 s of imports (median of ten).
    # Collection is turned back on, with the imported heap frozen, once ``fork_preload`` (the
    # last module it imports) is done, and again in every worker (``shell_worker``).
    gc.disable()
