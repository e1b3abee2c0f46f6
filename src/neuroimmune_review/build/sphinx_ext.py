"""Sphinx extension: what the review's build adds to Jupyter Book.

- validates ``data/`` and ``references.bib`` first and stops the build on errors;
- serves vega, vega-lite and vega-embed from the site (no CDN), bundled with the chart loader;
- tells each executed page its own name, so its data reads are recorded (``provenance``);
- re-reads and re-executes exactly the pages whose recorded data changed;
- executes those pages in a few shared kernels instead of one kernel per page;
- writes the theme's icons into the pages as SVG instead of loading Font Awesome's script (``icons``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

from .. import paths, provenance
from .shared_kernels import execute_in_shared_kernels

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
TEMPLATES = (Path(__file__).parent / "templates").resolve()
BUNDLE_NAME = "review-charts.bundle.js"
TRACKING_CELL = (
    "```{{code-cell}} ipython3\n:tags: [remove-cell]\n\n"
    "from neuroimmune_review import provenance; provenance.begin_page({docname!r})\n```\n\n"
)
FIRST_CODE_CELL = re.compile(r"^```\{code-cell\}", re.MULTILINE)


def _root(app: Sphinx) -> Path:
    return Path(app.srcdir).resolve()


def on_config(app: Sphinx, config) -> None:
    # Kernels inherit the environment: every page and every check resolves the same root.
    os.environ[paths.ROOT_ENV] = str(_root(app))
    _validate_first(_root(app))
    bundle_dir = _write_chart_bundle(_root(app))
    _stamp_every_page(_root(app), config)
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
    config.html_static_path = [*config.html_static_path, str(STATIC), str(bundle_dir)]


def _stamp_every_page(root: Path, config) -> None:
    """ "Evidence as of <date> · version · commit" at the top and in the footer of every page."""
    import html

    from ..pages.screening import banner_html, stamp_suffix
    from ..version import stamp_text

    options = dict(config.html_theme_options or {})
    text = f"{stamp_text(root)} · {stamp_suffix(root)}"
    options["extra_footer"] = f'<p class="review-stamp">{html.escape(text)}</p>'
    # A banner on every page once the last literature search is older than the schedule.
    banner = banner_html(root, int(config.review_search_schedule_months))
    if banner:
        options["announcement"] = banner
    config.html_theme_options = options
    # The same stamp opens every page (templates/page.html), where readers look first.
    context = dict(config.html_context or {})
    context["review_stamp"] = text
    config.html_context = context


def _validate_first(root: Path) -> None:
    from ..validate import format_problem, validate_root

    errors = [p for p in validate_root(root) if p.severity == "error"]
    if errors:
        shown = "\n".join(format_problem(p) for p in errors[:30])
        raise ExtensionError(
            f"data validation failed with {len(errors)} error(s); fix them before building:\n{shown}"
        )


def _write_chart_bundle(root: Path) -> Path:
    """vega + vega-lite + vega-embed + our loader in one file, rebuilt only when the loader changes."""
    import vl_convert

    loader = (STATIC / "review-charts.js").read_text(encoding="utf-8")
    key = hashlib.sha256((loader + vl_convert.__version__).encode()).hexdigest()[:16]
    out_dir = paths.build_dir(root) / ".chart-bundle" / key
    bundle = out_dir / BUNDLE_NAME
    if not bundle.is_file():
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = bundle.with_suffix(".tmp")
        tmp.write_text(vl_convert.javascript_bundle(snippet=loader), encoding="utf-8")
        tmp.replace(bundle)
    return out_dir


def inject_tracking_cell(app: Sphinx, docname: str, source: list[str]) -> None:
    """Insert a hidden first code cell naming the page, just before its first code cell."""
    text = source[0]
    match = FIRST_CODE_CELL.search(text)
    if match:
        source[0] = (
            text[: match.start()] + TRACKING_CELL.format(docname=docname) + text[match.start() :]
        )


def outdated_pages(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Pages whose recorded data answers changed: re-read them and drop their cached outputs.

    Pages Sphinx re-reads anyway (edited prose) are checked too: re-reading alone would
    reuse their cached, stale outputs.
    """
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
    from jupyter_cache import get_cache

    cache = get_cache(cache_path)
    sources = {str(Path(app.env.doc2path(d)).resolve()) for d in docnames}
    for record in cache.list_cache_records():
        if str(Path(record.uri).resolve()) in sources:
            cache.remove_cache(record.pk)


def publish_downloads(app: Sphinx, exception) -> None:
    """Copy the data files into the site, so readers download exactly what the pages were built from."""
    if exception is not None or app.builder.format != "html":
        return
    from ..pages.about import DOWNLOADS, DOWNLOADS_DIR

    target = Path(app.outdir) / DOWNLOADS_DIR
    target.mkdir(parents=True, exist_ok=True)
    root = _root(app)
    for name in DOWNLOADS:
        source = root / name if name.endswith(".bib") else paths.data_dir(root) / name
        if source.is_file():
            shutil.copyfile(source, target / name)


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
    inline_icons_in_site(Path(app.outdir), search_as_you_type=search_as_you_type)


def load_charts_where_drawn(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Add the 0.9 MB chart bundle only to pages that hold a chart."""
    if "review-chart__spec" in (context.get("body") or ""):
        app.add_js_file(BUNDLE_NAME, type="module")


def setup(app: Sphinx) -> dict:
    # Months between literature searches (_config.yml: sphinx.config.review_search_schedule_months).
    app.add_config_value("review_search_schedule_months", 6, "html", types=(int,))
    app.connect("config-inited", on_config)
    app.connect("source-read", inject_tracking_cell)
    app.connect("env-get-outdated", outdated_pages)
    app.connect("env-before-read-docs", execute_in_shared_kernels)
    app.connect("build-finished", publish_downloads)
    app.connect("build-finished", icons_without_script)
    app.connect("html-page-context", load_charts_where_drawn)
    app.add_css_file("review.css")
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
