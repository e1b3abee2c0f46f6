"""Which data each page read, so a rebuild re-executes exactly the pages a change affects.

Jupyter Book's execution cache keys a page on its code cells only: a new row in
``data/evidence.csv`` would otherwise leave every chart stale.  Instead, every data
query a page runs is recorded with a digest of its result (``tracked``).  Before the
next build, ``stale_pages`` re-runs those queries against the current files; a page
whose answers changed is re-read and its cached notebook dropped, and no other page is.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from . import paths

RECORD_DIR = ".provenance"
_QUERIES: dict[str, Callable[..., Any]] = {}
_page: dict[str, Any] | None = None


def digest(value: Any) -> str:
    """A stable digest of a query result (DataFrame, mapping, text or bytes)."""
    h = hashlib.sha256()
    if isinstance(value, pd.DataFrame):
        h.update(json.dumps(list(map(str, value.columns))).encode())
        h.update(pd.util.hash_pandas_object(value.astype(str), index=False).values.tobytes())
    elif isinstance(value, bytes):
        h.update(value)
    elif isinstance(value, str):
        h.update(value.encode())
    else:
        h.update(json.dumps(value, sort_keys=True, default=str).encode())
    return h.hexdigest()[:20]


def code_digest() -> str:
    """Digest of the package's own source: changing a chart builder re-executes every page."""
    h = hashlib.sha256()
    package = Path(__file__).parent
    for file in sorted(package.rglob("*.py")):
        h.update(file.relative_to(package).as_posix().encode() + file.read_bytes())
    return h.hexdigest()[:20]


def tracked(query: Callable[..., Any]) -> Callable[..., Any]:
    """Register a keyword-only data query whose answers a page's output depends on."""
    name = f"{query.__module__}.{query.__qualname__}"
    _QUERIES[name] = query

    reads_data_only = query.__module__ == f"{__package__}.data"

    @functools.wraps(query)
    def run(**params: Any) -> Any:
        result = query(**params)
        if _page is not None:
            key = json.dumps([name, params], sort_keys=True)
            if reads_data_only:
                # The queries of ``data`` answer from data/ and references.bib alone: while
                # those files are unchanged, a digest computed for another page still holds.
                memo = (key, _data_state())
                answer = _DIGESTS.get(memo) or _DIGESTS.setdefault(memo, digest(result))
            else:
                answer = digest(result)
            if _page["inputs"].get(key) != answer:
                _page["inputs"][key] = answer
                _save(_page)
        return result

    return run


_DIGESTS: dict[tuple[str, tuple], str] = {}


def _data_state() -> tuple:
    root = paths.find_root()
    files = sorted(paths.data_dir(root).glob("*.csv")) + [
        paths.data_dir(root) / "datapackage.json",
        paths.bib_path(root),
    ]
    return tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.is_file())


def record_path(docname: str, root: Path | None = None) -> Path:
    return paths.build_dir(root) / RECORD_DIR / f"{docname}.json"


def begin_page(docname: str) -> None:
    """Called by the hidden first cell the build adds to every executed page."""
    global _page
    _page = {
        "docname": docname,
        "root": str(paths.find_root()),
        "code": code_digest(),
        "inputs": {},
    }
    _save(_page)


def _save(page: dict[str, Any]) -> None:
    path = record_path(page["docname"], Path(page["root"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(page, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def _answer_changed(key: str, recorded: str, answers: dict[str, str | None] | None = None) -> bool:
    """Whether the query *key* now answers differently; *answers* memoises within one check."""
    if answers is not None and key in answers:
        return answers[key] != recorded
    name, params = json.loads(key)
    query = _QUERIES.get(name)
    current: str | None = None
    if query is not None:
        try:
            current = digest(query(**params))
        except Exception:  # a query that now fails must re-run so the build shows the error
            current = None
    if answers is not None:
        answers[key] = current
    return current is None or current != recorded


def _register_all_queries() -> None:
    # Queries register on import; a page may have used any module's queries.
    # The build's own modules hold no queries and need Sphinx: skip them.
    package = Path(__file__).parent
    for module in pkgutil.walk_packages([str(package)], prefix=f"{__package__}."):
        if not module.name.startswith(f"{__package__}.build"):
            importlib.import_module(module.name)


def stale_pages(root: Path, docnames: list[str]) -> list[str]:
    """Pages whose recorded inputs no longer give the same answers (or whose code changed)."""
    _register_all_queries()

    current_code = code_digest()
    answers: dict[str, str | None] = {}  # many pages ask the same questions: answer each once
    stale = []
    for docname in docnames:
        path = record_path(docname, root)
        if not path.is_file():
            continue  # never executed, or has no code cells: the cache decides alone
        try:
            page = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stale.append(docname)
            continue
        if page.get("code") != current_code or any(
            _answer_changed(key, answer, answers) for key, answer in page.get("inputs", {}).items()
        ):
            stale.append(docname)
    return stale


def current_docname() -> str | None:
    """The page being executed, if any (used for links relative to that page)."""
    return _page["docname"] if _page else None
