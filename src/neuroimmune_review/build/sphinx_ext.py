"""Sphinx extension: what the review's build adds to Jupyter Book.

- validates ``data/`` and ``references.bib`` first and stops the build on errors;
- serves the Vega runtime from the site (no CDN) with the chart loader; charts are compiled
  from Vega-Lite at build time (render.Figure), so readers never download the compiler;
- loads the table enhancer (sorting, filter, row details) on pages that hold a table;
- tells each executed page its own name, so its data reads are recorded (``provenance``);
- re-reads and re-executes exactly the pages whose recorded data changed;
- executes those pages in a few long-lived worker processes instead of one kernel per page,
  while Sphinx reads the pages already executed (``page_execution``);
- writes the theme's icons into the pages as SVG instead of loading Font Awesome's script (``icons``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

from .. import paths, provenance
from ..files import prune_published
from . import early_checks, nb_cache
from .backlinks import add_backlinks
from .navigation import keep_navigation, save_navigation
from .nb_schemas import keep_compiled_validators
from .page_execution import (
    checker_result,
    close_early_workers,
    defer_join_writes,
    execute_in_shared_kernels,
    notebook_of,
    start_workers_early,
    wait_for_execution,
    write_deferred_joins,
)
from .search import COUNTS_FILE
from .template_cache import use_bytecode_cache
from .theme_checks import skip_empty_checks
from .tracking import with_tracking_cell

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
TEMPLATES = (Path(__file__).parent / "templates").resolve()
# The Vega runtime (npm vega, unchanged; see static/vendor/README.md), loaded before our loader.
VEGA_RUNTIME = "vendor/vega-6.2.0.min.js"
EXPLORER_DATA = "explorer-data"  # pages.synthesis.explorer.DATA_DIR, under _build/


def _root(app: Sphinx) -> Path:
    return Path(app.srcdir).resolve()


def on_config(app: Sphinx, config) -> None:
    # Kernels inherit the environment: every page and every check resolves the same root.
    os.environ[paths.ROOT_ENV] = str(_root(app))
    start_workers_early(app, config)  # they import while validation and Sphinx go on
    _read_sources_once(app)
    _validate_first(_root(app), app)
    _stamp_every_page(_root(app), config, app)
    # Our templates: the References list markup, and a complete page for the site root
    # instead of sphinx-external-toc's one-line redirect stub (invalid HTML).
    config.templates_path = [
        str(TEMPLATES),
        *[p for p in config.templates_path if Path(p).resolve() != TEMPLATES],
    ]
    config.html_additional_pages = {
        "index": "review-redirect.html",
        **(config.html_additional_pages or {}),
    }
    # Browsers ask for a favicon on every visit; without one each page logs a 404.
    config.html_favicon = config.html_favicon or str(STATIC / "favicon.svg")
    # The explorer's data file, written by the page that draws the explorer (one cacheable
    # file, named by its content, instead of data inlined in the page).
    explorer_data = paths.build_dir(_root(app)) / EXPLORER_DATA
    explorer_data.mkdir(parents=True, exist_ok=True)
    config.html_static_path = [
        *config.html_static_path,
        str(STATIC),
        str(explorer_data),
    ]


def _stamp_every_page(root: Path, config, app: Sphinx | None = None) -> None:
    """ "Evidence as of <date> · version · commit" at the top and in the footer of every page."""
    import html

    from ..version import stamp_text

    options = dict(config.html_theme_options or {})
    months = int(config.review_search_schedule_months)
    if app is not None and months == early_checks.checked_months():
        checker_result(app, early_checks.SCREENING)  # it computes them for these months
    suffix, banner = early_checks.screening_parts(root, months)
    text = f"{stamp_text(root)} · {suffix}"
    options["extra_footer"] = f'<p class="review-stamp">{html.escape(text)}</p>'
    # A banner on every page once the last literature search is older than the schedule.
    if banner:
        options["announcement"] = banner
    config.html_theme_options = options
    # The same stamp opens every page (templates/page.html), where readers look first.
    context = dict(config.html_context or {})
    context["review_stamp"] = text
    config.html_context = context


def _validate_first(root: Path, app: Sphinx | None = None) -> None:
    # The checker started with the workers may be validating already (``early_checks``): its
    # verdict is then kept, and read back below instead of computed.
    if app is not None:
        checker_result(app, early_checks.VALIDATED)
    errors = early_checks.validation_errors(root)
    if errors:
        shown = "\n".join(errors[:30])
        raise ExtensionError(
            f"data validation failed with {len(errors)} error(s); fix them before building:\n{shown}"
        )


def inject_tracking_cell(app: Sphinx, docname: str, source: list[str]) -> None:
    """``source-read``: a hidden first code cell naming the page (see ``build.tracking``)."""
    source[0] = with_tracking_cell(docname, source[0])


def outdated_pages(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Pages whose recorded data answers changed: re-read them and drop their cached outputs.

    Pages Sphinx re-reads anyway (edited prose) are checked too: re-reading alone would
    reuse their cached, stale outputs.
    """
    found = checker_result(app, early_checks.STALE)  # the checker's, if one ran
    if found is not None and isinstance(found.get("stale"), list) and found.get("check"):
        stale = [d for d in found["stale"] if d in env.found_docs]
        provenance.adopt_check(found["check"])
    else:
        defer_join_writes()  # written after the pages are sent (write_deferred_joins)
        stale = provenance.stale_pages(_root(app), sorted(env.found_docs))
    if stale:
        _drop_cached_outputs(app, stale)
        logger.info(f"[review] data changed for {len(stale)} page(s): {', '.join(sorted(stale))}")
    return [d for d in stale if d not in added and d not in changed]


def _drop_cached_outputs(app: Sphinx, docnames: list[str]) -> None:
    cache_path = app.config.nb_execution_cache_path or str(
        Path(app.outdir).parent / ".jupyter_cache"
    )
    if not Path(cache_path).exists():
        return
    sources = {str(Path(app.env.doc2path(d)).resolve()) for d in docnames}
    # The cache serves a page by its notebook's content, wherever it was cached: a checkout
    # moved or copied with its _build (a CI cache, a new clone) holds records under the old
    # paths, and those would serve the stale outputs.  So records are also found by content.
    notebooks = [nb for nb in (notebook_of(app, app.env, d) for d in docnames) if nb is not None]
    try:
        # Performance: without SQLAlchemy (jupyter-cache's ORM, ~0.5 s to import), which the
        # workers waited for: pages are sent to them only after this check.
        nb_cache.remove(cache_path, sources, notebooks)
        return
    except nb_cache.Unsupported:
        pass
    from jupyter_cache import get_cache

    cache = get_cache(cache_path)
    stale = {
        record.pk
        for record in cache.list_cache_records()
        if str(Path(record.uri).resolve()) in sources
    }
    for notebook in notebooks:
        try:
            stale.add(cache.match_cache_notebook(notebook).pk)
        except KeyError:
            pass
    for pk in stale:
        cache.remove_cache(pk)


def serve_cache_hits(app: Sphinx) -> None:
    """``builder-inited``: myst-nb takes a re-read page's cached outputs from ``nb_cache``
    (jupyter-cache's files, read without importing SQLAlchemy); misses go to jupyter-cache."""
    if getattr(app.config, "nb_execution_mode", None) == "cache":
        from .nb_cache import serve_hits_to_myst_nb

        serve_hits_to_myst_nb()


def _read_sources_once(app: Sphinx) -> None:
    """Digest each data file that has a shorter download copy once, for both uses in this
    process: the validation verdict's key (the whole file) and :func:`_publish`'s question
    whether the copy is the file's start (its first bytes).  Performance: at 1000x each was a
    read of 104 MB (~0.1 s); ``prefix_digests`` gives both from one."""
    from ..pages.downloads import DOWNLOADS, DOWNLOADS_DIR

    for name in DOWNLOADS:
        source = paths.data_dir(_root(app)) / name
        try:
            copy = (Path(app.outdir) / DOWNLOADS_DIR / name).stat().st_size
            if 0 < copy < source.stat().st_size:
                provenance.prefix_digests(source, copy)
        except OSError:
            continue


def publish_downloads(app: Sphinx, exception) -> None:
    """Copy the data files into the site, so readers download exactly what the pages were built from."""
    if exception is not None or app.builder.format != "html":
        return
    import json

    from ..pages.downloads import DOWNLOADS, DOWNLOADS_DIR

    target = Path(app.outdir) / DOWNLOADS_DIR
    target.mkdir(parents=True, exist_ok=True)
    root = _root(app)
    memo_path = paths.build_dir(root) / provenance.MEMO_DIR / DOWNLOADS_MEMO
    try:
        memo = json.loads(memo_path.read_text(encoding="utf-8"))
        memo = memo if isinstance(memo, dict) else {}
    except (OSError, ValueError):
        memo = {}
    kept = dict(memo)
    for name in DOWNLOADS:
        source = root / name if name.endswith(".bib") else paths.data_dir(root) / name
        if source.is_file() and not _same_copy(source, target / name):
            memo[name] = _publish(source, target / name, memo.get(name))
    if memo != kept:
        memo_path.parent.mkdir(parents=True, exist_ok=True)
        memo_path.write_text(json.dumps(memo, sort_keys=True), encoding="utf-8")


DOWNLOADS_MEMO = "downloads.json"  # in provenance.MEMO_DIR: each copy's digest, as last written


def _publish(source: Path, dest: Path, kept: dict | None) -> dict | None:
    """Make *dest* a copy of *source* (``shutil.copy2``); returns what to keep of it.

    Performance: after rows are appended to evidence.csv, only the new bytes are appended to
    its copy (copying all of it was 80 ms of a one-row rebuild at 1000x, 104 MB).  That is
    done only when the copy is exactly the source's first bytes: the copy is unchanged since
    this wrote it (same write signature: times, size, inode) and the digest kept for it then
    is the digest of the source's first bytes of that length (``provenance.prefix_digests``,
    which this build's validation already computed for the same length).  Anything else, and
    the whole file is copied; a source that changed meanwhile is not remembered.
    """
    from ..files import write_signature

    before = write_signature(source)
    try:
        copy = dest.stat()
    except OSError:
        copy = None
    appended = False
    if (
        copy is not None
        and isinstance(kept, dict)
        and kept.get("written") == write_signature(dest)
        and 0 < copy.st_size < source.stat().st_size
    ):
        digests = provenance.prefix_digests(source, copy.st_size)
        if digests is not None and digests[0] == kept.get("digest"):
            with source.open("rb") as new, dest.open("r+b") as out:
                new.seek(copy.st_size)
                out.seek(copy.st_size)
                shutil.copyfileobj(new, out)
            shutil.copystat(source, dest)
            appended = True
    if not appended:
        shutil.copy2(source, dest)
    if write_signature(source) != before:
        if appended:  # changed while its new bytes were read: copy all of it
            shutil.copy2(source, dest)
        return None  # nothing kept: the next change is copied in full
    return {"written": write_signature(dest), "digest": provenance.file_digest(source)}


def _same_copy(source: Path, dest: Path) -> bool:
    """Whether *dest* is the copy ``shutil.copy2`` made of *source* as it is now.

    copy2 gives the copy the source's modification time, and any write to the source changes
    that time: a no-op build no longer copies 104 MB of evidence at 1000x.
    """
    try:
        a, b = source.stat(), dest.stat()
    except OSError:
        return False
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def refresh_static_files(app: Sphinx, exception) -> None:
    """Copy every changed file of ``html_static_path`` into ``_static``, pages written or not.

    Sphinx copies static files only after writing at least one page: a rebuild where only
    ``build/static/review-charts.js`` changed ("no targets are out of date") kept serving
    the old script.  Files already identical are left alone (Sphinx's ``copyfile``
    compares contents), so after a full write this costs one comparison per file.
    """
    if exception is not None or app.builder.format != "html":
        return
    from sphinx.util.osutil import copyfile

    target = Path(app.outdir) / "_static"
    for entry in app.config.html_static_path:
        source = Path(app.confdir, entry)
        files = [source] if source.is_file() else sorted(source.rglob("*"))
        for file in files:
            relative = file.name if file == source else file.relative_to(source).as_posix()
            if not file.is_file() or any(part.startswith(".") for part in Path(relative).parts):
                continue  # Sphinx skips dot files too
            if file.name.endswith("_t"):
                continue  # a template: Sphinx renders it with the page context when it writes
            dest = target / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            copyfile(file, dest, __overwrite_warning__=False)
    prune_published(paths.build_dir(_root(app)) / EXPLORER_DATA, target)  # superseded data files


def prune_answer_cache(app: Sphinx, exception) -> None:
    """Remembered query answers that no page records any more are deleted (``provenance``)."""
    if exception is None:
        provenance.prune_answers(_root(app))


def icons_without_script(app: Sphinx, exception) -> None:
    """Every page's icons as inline SVG; the 1.49 MB Font Awesome script is neither loaded nor shipped.

    Pages other than search.html also lose the search scripts they never run (``icons``).
    """
    if exception is not None or app.builder.format != "html":
        return
    from .icons import inline_icons_in_site

    # The theme's default is off; only then do pages other than search.html skip the search scripts.
    option = (app.config.html_theme_options or {}).get("search_as_you_type", False)
    search_as_you_type = str(option).lower() == "true"
    memo = paths.build_dir(_root(app)) / provenance.MEMO_DIR / ICONS_MEMO
    inline_icons_in_site(Path(app.outdir), search_as_you_type=search_as_you_type, memo=memo)


ICONS_MEMO = (
    "icons-done.json"  # in provenance.MEMO_DIR: the pages as icons_without_script left them
)


def load_charts_where_drawn(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Add the chart bundle only to pages that hold a chart, the table enhancer only to pages
    with a table, and the explorer's controls only to the explorer."""
    body = context.get("body") or ""
    if "review-chart__spec" in body:
        app.add_js_file(VEGA_RUNTIME, defer="defer")
        app.add_js_file("review-charts.js", defer="defer")
    if 'class="review-table"' in body or "review-explorer" in body:
        app.add_js_file("review-tables.js", defer="defer")
    if pagename == "search":
        app.add_js_file(COUNTS_FILE, defer="defer")
        app.add_js_file("review-search.js", defer="defer")
    if "review-explorer" in body:
        app.add_js_file("review-explorer.js", defer="defer")
    _drop_unused_assets(body, context)


# Files the book's extensions add to every page, and what in a page's body they act on:
# copybutton on code blocks, togglebutton on toggles and dropdowns, sphinx-design on its sd-
# classes.  A page without any loads none of them (22 kB gzipped of a text page's 164 kB).
UNUSED_WITHOUT = {
    "clipboard.min.js": ('class="highlight',),
    "copybutton.js": ('class="highlight',),
    "copybutton.css": ('class="highlight',),
    "togglebutton.js": ("toggle", "dropdown", "<details"),
    "togglebutton.css": ("toggle", "dropdown", "<details"),
    "design-tabs.js": ("sd-",),
    "sphinx-design.min.css": ("sd-",),
}


def _drop_unused_assets(body: str, context) -> None:
    def used(asset) -> bool:
        name = str(getattr(asset, "filename", "") or asset).split("?")[0].rsplit("/", 1)[-1]
        markers = UNUSED_WITHOUT.get(name)
        return markers is None or any(marker in body for marker in markers)

    # In place: the list is the builder's own for this page (Sphinx restores it after the page),
    # and a new list would lose what later handlers add, such as the theme's pagename script.
    for key in ("script_files", "css_files"):
        if key in context:
            context[key][:] = [asset for asset in context[key] if used(asset)]


def _freeze_heap() -> None:
    """At interpreter exit, before teardown: the objects alive now are not collected again.

    Tearing the interpreter down after a build ran the cyclic garbage collector over the whole
    heap of the build (0.7 s of a no-op build's 4.4 s, more at 1000x); frozen objects are
    skipped.  Nothing is skipped that Python promises: atexit handlers and the flushing of
    the standard streams still run, and Python never guaranteed ``__del__`` for objects
    still alive at exit (the data model's note on ``__del__``).
    """
    import gc

    gc.freeze()


def _fewer_collections() -> None:
    """Once the extensions are loaded: what they imported is not traced again, and the young
    generations are collected ten times less often.

    Performance: Python's default thresholds (700, 10, 10) are tuned for small heaps; loading
    the saved environment and reading and writing pages allocate millions of objects, and the
    collector's passes over them were 0.29-0.46 s of a prose rebuild (1 s of CPU), two full
    passes of them; 0.07-0.16 s after (``gc.callbacks``, interleaved).  Frozen objects (the
    modules, classes and functions alive now, which live until exit anyway) are skipped by
    every pass.  Only the Sphinx process: workers are separate interpreters.  Collection
    still runs, so memory held by cycles is still freed, a little later.
    """
    import gc

    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


_exit_hook: list[bool] = []


def setup(app: Sphinx) -> dict:
    if not _exit_hook:
        import atexit

        atexit.register(_freeze_heap)  # registered early, so it runs after later handlers
        _exit_hook.append(True)
        _fewer_collections()
    # Months between literature searches (_config.yml: sphinx.config.review_search_schedule_months).
    app.add_config_value(
        "review_search_schedule_months", early_checks.SEARCH_SCHEDULE_MONTHS, "html", types=(int,)
    )
    from .bib_style import begin_build, keep_cited_names, keep_formatted, register
    from .search import ReviewSearch, write_term_counts

    register()
    app.add_search_language(ReviewSearch)
    app.connect("config-inited", on_config)
    app.connect("builder-inited", use_bytecode_cache)  # compiled theme templates, kept
    app.connect("builder-inited", keep_compiled_validators)  # compiled notebook schemas, kept
    app.connect("builder-inited", keep_navigation)  # sidebar toctrees kept, parents not rewritten
    app.connect("builder-inited", serve_cache_hits)  # cached pages without SQLAlchemy
    app.connect("builder-inited", skip_empty_checks)  # the theme's never-empty templates
    app.connect("source-read", inject_tracking_cell)
    app.connect("source-read", wait_for_execution)
    app.connect("env-get-outdated", outdated_pages)
    app.connect("env-before-read-docs", begin_build)
    app.connect("env-before-read-docs", execute_in_shared_kernels)
    app.connect("env-before-read-docs", write_deferred_joins, priority=600)  # after the above
    app.connect("env-updated", keep_formatted, priority=900)  # after sphinxcontrib-bibtex's
    app.connect("build-finished", close_early_workers)
    app.connect("build-finished", write_deferred_joins)  # if no page was read
    app.connect("build-finished", publish_downloads)
    app.connect("build-finished", refresh_static_files)
    app.connect("build-finished", prune_answer_cache)
    app.connect("build-finished", icons_without_script)
    app.connect("html-page-context", load_charts_where_drawn)
    app.connect("doctree-resolved", add_backlinks)
    app.connect("build-finished", write_term_counts)
    app.connect("build-finished", keep_cited_names)
    # Last: the static files as the other handlers left them are part of what it keeps.
    app.connect("build-finished", save_navigation, priority=900)
    app.add_css_file("review.css")
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
