"""The page whose cells are running, as the build's tracking cell named it.

Chapter cells do not type their own page name (a renamed page would silently show
another page's findings): :func:`page` asks the provenance tracker instead. Links
from the running page to another file of the site come from :func:`href_to`.
"""

from __future__ import annotations

import posixpath

from .. import provenance


def page(explicit: str | None = None) -> str:
    """*explicit* if given (tests, a notebook outside the build), else the page being executed."""
    name = explicit or provenance.current_docname()
    if not name:
        raise LookupError(
            "no page is being executed (the build's hidden first cell names it); "
            "outside a build, pass chapter='book/<part>/<page>'"
        )
    return name


def href_to(target: str, default_page: str = "book/index") -> str:
    """*target* (a path from the site root: 'downloads', 'book/about/references.html')
    relative to the page whose cells are running (*default_page* outside a build)."""
    here = provenance.current_docname() or default_page
    return posixpath.relpath(target, posixpath.dirname(here))
