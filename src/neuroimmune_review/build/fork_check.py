"""Imported by the page workers' fork server, right after ``fork_main``, and only there.

When the Sphinx process asks for them (``early_checks.CHECK_ENV``), the build's data checks
start here: pandas and the data module are imported, and a checker forked from
this point validates the data and finds the stale pages while the server goes on importing
IPython, Altair and the page modules (``early_checks``).  In a rebuild (pages have records)
the evidence the workers need is loaded first (:func:`preload_evidence`, as ``fork_preload``
would later): the stale check needs it too, and the checker inherits it instead of loading it
again beside the server (at 1000x ~0.3 s of CPU each).  Before a first build nothing needs it
yet, and the checker starts at once.  Without that variable this module imports nothing.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from .early_checks import CHECK_ENV


def preload_evidence(root: str | Path) -> None:
    """Load the joined evidence and the hash of each of its rows (``fork_preload``)."""
    from .. import data, paths

    here = os.getcwd()
    # Pages find the root from their own folder; from the root, the same resolved path (and so
    # the same cache keys) is found here.
    os.chdir(paths.find_root(Path(root)))
    try:
        data.evidence()
        data._evidence_answer()  # the row hashes every evidence() answer's digest is sliced from
    finally:
        os.chdir(here)


def _start() -> None:
    # The validator is imported by the checker alone (the workers never need it: ~25 ms).
    from .. import data, paths, provenance
    from .early_checks import start_checker

    root = paths.find_root()  # $REVIEW_ROOT, set for the server
    if (paths.build_dir(root) / provenance.RECORD_DIR).is_dir():
        # The checker writes the join it inherits, after its results: pickling it was ~0.2 s
        # at 1000x before the workers could be forked.
        data.defer_join_writes()
        with contextlib.suppress(Exception):  # the pages meet and report any failure
            preload_evidence(root)
    try:
        start_checker(root, os.environ[CHECK_ENV])
    finally:
        data.forget_deferred_joins()


if os.environ.get(CHECK_ENV):
    # A failure here is the Sphinx process's to meet: it finds no result and checks alone.
    with contextlib.suppress(Exception):
        _start()
