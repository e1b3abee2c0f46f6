"""The bibliography keys the book's pages cite with MyST ``{cite}`` roles.

Its own module, importing nothing but the standard library: every build asks for these keys
(they key the validation memo, ``build.sphinx_ext._validation_inputs``) and must not import
the validator, and pandas with it, to get them.
"""

from __future__ import annotations

import re
from pathlib import Path

BOOK_DIR = "book"
# MyST citation roles in book pages: {cite}`a,b`, {cite:p}`a`, {cite:t}`a;b`.
BOOK_CITATION = re.compile(r"\{cite(?::\w+)?\}`([^`]*)`")


def book_citation_keys(root: Path) -> set[str]:
    """Keys cited with MyST {cite} roles in the book's pages."""
    keys: set[str] = set()
    book = root / BOOK_DIR
    if not book.is_dir():
        return keys
    for page in sorted(book.rglob("*")):
        if page.suffix not in {".md", ".ipynb"} or not page.is_file():
            continue
        try:
            text = page.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for group in BOOK_CITATION.findall(text):
            keys.update(k.strip() for k in re.split(r"[,;]", group) if k.strip())
    return keys
