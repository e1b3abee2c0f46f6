"""What the page workers' fork server does once, before it forks them (``shared_kernels``).

Imported by that server only, after the page modules, when ``$REVIEW_PRELOAD_ROOT`` names the
review being built.  It loads the joined evidence and the hash of each of its rows, which
nearly every page needs (``data.evidence()`` and the provenance record of its answer): each
worker inherits them instead of building them again.  At 1000x that was ~1.7 s (building the
join, or ~0.5 s loading it) and ~0.9 s (the row hashes) of CPU in each worker.  Pages run in a
worker exactly as before: the join is cached under the files' paths, sizes and modification
times (``data._cached_join``), so a file changed since is read again.  Nothing a page records
is touched: no page is being executed here (``provenance`` records only inside one).
"""

from __future__ import annotations

import contextlib
import gc
import os

from .fork_check import preload_evidence

ROOT_ENV = "REVIEW_PRELOAD_ROOT"


if os.environ.get(ROOT_ENV):
    # A failure is the pages' to meet and report, as without this module.
    with contextlib.suppress(Exception):
        preload_evidence(os.environ[ROOT_ENV])  # done already if the checks started first
# The server imported everything with the collector off (``fork_main``): what is alive now
# lives as long as the server, so it is frozen (never traced again, here or in the workers it
# forks, whose pages then collect only their own objects) and collection resumes.
gc.freeze()
gc.enable()
