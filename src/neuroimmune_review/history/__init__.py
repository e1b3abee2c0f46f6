"""The "What's new" page: what each commit changed in the evidence and the bibliography.

Read from ``git log`` of ``data/evidence.csv``, ``references.bib`` and
``data/reference_map.csv`` (and the vocabularies), newest first. Tags that point at a
commit are shown with it. Works without git, outside a checkout and in shallow clones
(the page then says what it cannot show).

- :mod:`.repo` — what git can tell: the repository's state and committed file contents;
- :mod:`.compare` — each commit compared with its first parent, and the verdicts that flipped;
- :mod:`.page` — the page's HTML table.

The page's code cell calls :func:`whats_new`, which reads :func:`history_state`
through ``provenance.tracked``: the page is re-executed exactly when a new commit
touches the data or a tag is added, not after a prose-only commit. Both stay in this
module, so the tracked query keeps its name (``neuroimmune_review.history.history_state``).
"""

from __future__ import annotations

from typing import Any

from ..provenance import tracked
from .compare import MOVED_BIB_FIELDS, Commit, commits, verdicts_of
from .page import change_counts, summarise_row, whats_new_html
from .repo import (
    BIBLIOGRAPHY,
    EVIDENCE,
    LOGGED,
    REFERENCE_MAP,
    TRACKED_FILES,
    VOCABULARIES,
    Repository,
    repository,
    state,
)

__all__ = [
    "BIBLIOGRAPHY",
    "EVIDENCE",
    "LOGGED",
    "MOVED_BIB_FIELDS",
    "REFERENCE_MAP",
    "TRACKED_FILES",
    "VOCABULARIES",
    "Commit",
    "Repository",
    "change_counts",
    "commits",
    "history_state",
    "repository",
    "state",
    "summarise_row",
    "verdicts_of",
    "whats_new",
    "whats_new_html",
]


@tracked
def history_state() -> dict[str, Any]:
    """Tracked query: the page re-executes when the data's history (or a tag) changes."""
    return state()


def whats_new(limit: int = 50):
    """For the page: the table, re-executed when the data's history changes."""
    from IPython.display import HTML

    history_state()  # recorded by provenance: the page depends on the data's history
    return HTML(whats_new_html(limit))
