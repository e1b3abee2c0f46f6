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
