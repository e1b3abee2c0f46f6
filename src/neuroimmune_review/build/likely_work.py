"""How many pages a build will likely execute, guessed before Sphinx knows (see
``sphinx_ext._start_workers_early``): from file times only, so it costs milliseconds."""

from __future__ import annotations

from pathlib import Path

from .. import paths

LAST_BUILD = "review-last-build"  # in doctreedir, touched when a build succeeds


def likely_executions(app, config) -> int:
    """A cheap guess at the number of pages this build executes, from file times: all of
    them without a saved environment or execution cache (myst-nb's default path, set only
    after config-inited), or when data, the bibliography or the package (but build/) changed
    since the last build; else the pages changed."""
    root, saved = Path(app.srcdir).resolve(), Path(app.doctreedir) / LAST_BUILD
    cache = Path(config.nb_execution_cache_path or Path(app.outdir).parent / ".jupyter_cache")
    if not saved.is_file() or not cache.is_dir():
        return 1 << 10
    since, here = saved.stat().st_mtime, Path(__file__).resolve().parent
    package = [f for f in here.parent.rglob("*.py") if here not in f.parents]
    if any(_newer(f, since) for f in [*paths.data_dir(root).rglob("*"), *package]) or _newer(
        paths.bib_path(root), since
    ):
        return 1 << 10
    return sum(_newer(f, since) for f in (root / "book").rglob("*.md"))


def _newer(file: Path, since: float) -> bool:
    return file.is_file() and file.stat().st_mtime > since
