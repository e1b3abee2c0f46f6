"""Living search and screening: search log, screening queue, decisions and ranking.

The reader pages (status, PRISMA flow, banner) are built by :mod:`neuroimmune_review.pages.screening`.
"""

from __future__ import annotations

from .core import (  # noqa: F401
    DECISIONS,
    QUEUE,
    SEARCHES,
    CurationError,
    decide,
    import_search,
    latest_decisions,
    read_export,
    read_table,
    reasons,
)
