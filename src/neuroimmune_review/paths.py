"""Where the review's files live.

Everything resolves from one root (the folder holding ``_toc.yml`` and ``data/``),
so chapters executed from their own folder, scripts, tests and the benchmark's
temporary copies all read the same layout.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

ROOT_ENV = "REVIEW_ROOT"


def find_root(start: Path | None = None) -> Path:
    """The review root: $REVIEW_ROOT, else the nearest folder above *start* with a ``_toc.yml``."""
    if os.environ.get(ROOT_ENV):
        return _resolved(os.environ[ROOT_ENV])
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file() and (folder / "data").is_dir():
            return folder
    raise FileNotFoundError(f"no review root (a folder with _toc.yml and data/) above {here}")


@functools.lru_cache(maxsize=8)
def _resolved(folder: str) -> Path:
    # Performance: pages ask for the root per row (data.labels -> package -> data_dir); at
    # 1000x, resolving $REVIEW_ROOT 36,000 times was a sixth of the contested page's run.
    return Path(folder).resolve()


def data_dir(root: Path | None = None) -> Path:
    return (root or find_root()) / "data"


def bib_path(root: Path | None = None) -> Path:
    return (root or find_root()) / "references.bib"


def build_dir(root: Path | None = None) -> Path:
    return (root or find_root()) / "_build"
