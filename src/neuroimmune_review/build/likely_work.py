"""How many pages a build will likely execute, guessed before Sphinx knows (see
``page_execution.start_workers_early``): from file times and the edited pages' code cells
only, so it costs milliseconds."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from .. import paths

LAST_BUILD = "review-last-build"  # in doctreedir, touched when a build succeeds
CODE_CELLS = "review-code-cells.json"  # in doctreedir: each page's code cells, as last seen
# A MyST code cell: its fence line and body, up to the closing fence of the same length.
CODE_CELL = re.compile(r"^(`{3,})\{code-cell\}[^\n]*\n(.*?)^\1[ \t]*$", re.MULTILINE | re.DOTALL)


def likely_executions(app, config) -> int:
    """A cheap guess at the number of pages this build executes, from file times: all of
    them without a saved environment or execution cache (myst-nb's default path, set only
    after config-inited), or when data, the bibliography or the package (but build/) changed
    since the last build; else the pages changed since whose code cells changed too (the
    execution cache keys a page on its code: a prose edit executes nothing)."""
    root, saved = Path(app.srcdir).resolve(), Path(app.doctreedir) / LAST_BUILD
    cache = Path(config.nb_execution_cache_path or Path(app.outdir).parent / ".jupyter_cache")
    if not saved.is_file() or not cache.is_dir():
        _remember_code(Path(app.doctreedir), root, None)
        return 1 << 10
    since, here = saved.stat().st_mtime, Path(__file__).resolve().parent
    edited = [f for f in (root / "book").rglob("*.md") if _newer(f, since)]
    code_edited = _remember_code(Path(app.doctreedir), root, edited) if edited else 0
    package = [f for f in here.parent.rglob("*.py") if here not in f.parents]
    if any(_newer(f, since) for f in [*paths.data_dir(root).rglob("*"), *package]) or _newer(
        paths.bib_path(root), since
    ):
        return 1 << 10
    return code_edited


def code_cells_digest(text: str) -> str:
    """A digest of a page's code cells (fence lines and sources), prose left out."""
    cells = [match.group(0) for match in CODE_CELL.finditer(text)]
    return hashlib.sha256("\0".join(cells).encode()).hexdigest()[:20]


def _remember_code(doctrees: Path, root: Path, edited: list[Path] | None) -> int:
    """How many *edited* pages' code cells differ from those last seen (all pages when
    *edited* is None: a cold build), keeping what is seen now for the next guess.

    Only a guess: a page counted wrongly starts a worker that gets no page (CPU only), or
    none early (the worker then starts when the page is found to need executing).
    """
    memo = doctrees / CODE_CELLS
    try:
        known = json.loads(memo.read_text(encoding="utf-8")) if edited is not None else {}
        known = known if isinstance(known, dict) else {}
    except (OSError, ValueError):
        known = {}
    pages = edited if edited is not None else sorted((root / "book").rglob("*.md"))
    changed = 0
    for page in pages:
        try:
            now = code_cells_digest(page.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            now = None
        name = page.relative_to(root).as_posix()
        changed += now is None or known.get(name) != now
        known[name] = now
    try:
        doctrees.mkdir(parents=True, exist_ok=True)
        memo.write_text(json.dumps(known, sort_keys=True), encoding="utf-8")
    except OSError:
        pass  # only a guess
    return changed


def _newer(file: Path, since: float) -> bool:
    return file.is_file() and file.stat().st_mtime > since
