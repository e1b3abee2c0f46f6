"""Living search and screening: search log, screening queue, decisions, ranking and the reader pages."""
from __future__ import annotations

from .core import (  # noqa: F401
    DECISIONS, QUEUE, SEARCHES, CurationError, decide, import_search, latest_decisions, read_export, read_table, reasons,
)
from . import pages  # noqa: F401,E402  (registers the pages' tracked query)
