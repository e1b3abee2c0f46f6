"""The hidden first cell that tells an executed page its own name.

Both the Sphinx extension (when Sphinx reads a page) and the shared-kernel executor (when
it executes the same page ahead of Sphinx) insert it, so the notebook they see is the
same and the execution cache matches.  The cell calls ``provenance.begin_page``: from
then on every data query the page runs is recorded against it.
"""

from __future__ import annotations

import re

TRACKING_CELL = (
    "```{{code-cell}} ipython3\n:tags: [remove-cell]\n\n"
    "from neuroimmune_review import provenance; provenance.begin_page({docname!r})\n```\n\n"
)
FIRST_CODE_CELL = re.compile(r"^```\{code-cell\}", re.MULTILINE)


def with_tracking_cell(docname: str, text: str) -> str:
    """*text* with the tracking cell just before its first code cell (unchanged without one)."""
    match = FIRST_CODE_CELL.search(text)
    if not match:
        return text
    return text[: match.start()] + TRACKING_CELL.format(docname=docname) + text[match.start() :]
