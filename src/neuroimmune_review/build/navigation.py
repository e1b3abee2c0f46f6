"""What a page's HTML takes from the other pages, computed once and kept between builds.

Two costs of every build that writes a page, both spent on output that cannot have changed:

- **The sidebar's table of contents.**  The theme asks Sphinx for the whole book's toctree on
  every page it writes (``builder._get_local_toctree``: each of the root's toctrees resolved
  against every page's table of contents, deep-copied and rendered to HTML), about 0.14 s a
  page profiled, 0.7 s of a prose rebuild's 5 written pages (the edited page, ``book/index``,
  the redirect index, search and genindex).  Its HTML is a function of the page's name, the
  call's arguments and the navigation (every page's title and table of contents, the
  toctrees, their numbering, the link suffixes), so it is kept under a digest of exactly
  those (``fingerprint``) and reused while the digest is unchanged.
- **Pages Sphinx rewrites only in case a title changed.**  With any page written, Sphinx also
  rewrites the root page and every page whose toctree lists a re-read page
  (``Builder.write``: ``files_to_rebuild`` and ``root_doc``), because their HTML shows the
  re-read pages' titles and sections.  After a prose edit that leaves the navigation as it
  was (same ``fingerprint``, same static files), those pages would come out byte-identical,
  so ``skip_unchanged_parents`` leaves them as they are.  Pages Sphinx itself found outdated
  or re-read are always written.

- **The theme's sidebar markup.**  pydata-sphinx-theme turns that toctree HTML into its
  sidebar on every page (``generate_toctree_html``: BeautifulSoup parses it, adds classes and
  collapse boxes, and serialises it twice, for its empty-template check and for the page),
  ~33 ms a page, 0.33 s of a one-row rebuild's 10 written pages.  The result is a function
  of that HTML and the call's ``show_nav_level`` alone, so it is kept under a digest of
  both (``keep_sidebar_markup``; other calls go to the theme).

Hand-written because Sphinx has no cache for either: it recomputes both on every write.
The digest is of the navigation's content (``pformat`` of the docutils nodes, sorted
mappings), never of read times, so a re-read page whose title and sections are unchanged
keeps it.  The memo lives in ``_build/`` (a cold build deletes it) and is replaced in one
step at the end of a successful build.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path
from typing import Any

from ..files import atomic_write

MEMO = ".navigation.pickle"  # in _build/, beside html/ and .doctrees/
VERSION = "2"  # of this module's digest and memo layout

# Configuration values Sphinx's toctree resolution and link making read.
_CONFIG = (
    "root_doc",
    "html_file_suffix",
    "html_link_suffix",
    "toc_object_entries",
    "toc_object_entries_show_parents",
)


def _node_text(node: Any) -> str:
    return node.pformat() if hasattr(node, "pformat") else repr(node)


def fingerprint(app) -> str:
    """Digest of everything the toctree HTML of any page is computed from."""
    import docutils
    import sphinx

    env = app.env
    digest = hashlib.sha256()

    def add(*parts: Any) -> None:
        for part in parts:
            digest.update(str(part).encode("utf-8", "surrogateescape"))
            digest.update(b"\x00")

    add(VERSION, sphinx.__version__, docutils.__version__, app.builder.name)
    add(*(f"{name}={getattr(app.config, name, None)!r}" for name in _CONFIG))
    for docname in sorted(env.all_docs):
        add("doc", docname)
        if docname in env.titles:
            add(_node_text(env.titles[docname]))
        if docname in env.longtitles:
            add(_node_text(env.longtitles[docname]))
        if docname in env.tocs:
            add(_node_text(env.tocs[docname]))
        add(env.metadata.get(docname, {}).get("tocdepth"))
        add(env.toctree_includes.get(docname))
        add(sorted(env.toc_secnumbers.get(docname, {}).items()))
        add(sorted((k, sorted(v.items())) for k, v in env.toc_fignumbers.get(docname, {}).items()))
    add(sorted(env.glob_toctrees), sorted(env.numbered_toctrees))
    # Link texts of cross-references (section names, labels) and the works cited anywhere.
    std = env.get_domain("std").data
    add(sorted(std.get("labels", {}).items()), sorted(std.get("anonlabels", {}).items()))
    try:
        cite = env.get_domain("cite")
    except Exception:  # sphinxcontrib-bibtex not loaded
        cite = None
    if cite is not None:
        add(sorted({(c.key, tuple(c.bibliography_key)) for c in cite.data.get("citations", [])}))
    return digest.hexdigest()


def _static_signature(outdir: Path) -> list[tuple[str, str]]:
    """Digest of each stylesheet and script in ``_static`` as the pages are written.

    Pages link them with a checksum of their content (``?v=``); Sphinx renders some of them
    again on every write (``basic.css``, ``documentation_options.js``), so contents are
    compared, not times.  Other static files are linked without a checksum.
    """
    static = outdir / "_static"
    if not static.is_dir():
        return []
    return [
        (path.relative_to(static).as_posix(), hashlib.sha1(path.read_bytes()).hexdigest())
        for path in sorted(static.rglob("*"))
        if path.suffix in (".css", ".js") and path.is_file()
    ]


class Navigation:
    """The memo for one build: the last build's fingerprint and the toctree HTML made under it."""

    def __init__(self, app) -> None:
        self.app = app
        self.path = Path(app.outdir).parent / MEMO
        try:
            memo = pickle.loads(self.path.read_bytes())
            if memo.get("version") != VERSION:
                memo = {}
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
            memo = {}
        self.previous: str | None = memo.get("fingerprint")
        self.previous_static = memo.get("static")
        self.static: list | None = None  # seen when this build's pages were written
        self.toctrees: dict[tuple, str] = memo.get("toctrees", {})
        self.sidebars: dict[str, str] = memo.get("sidebars", {})  # by _sidebar_key
        self.current: str | None = None
        self.changed = False

    def now(self) -> str:
        """This build's fingerprint, computed once when writing starts (reading is over)."""
        if self.current is None:
            self.current = fingerprint(self.app)
            if self.current != self.previous:
                self.toctrees = {}  # made under another navigation
                self.sidebars = {}  # still right (keyed by content), but not needed again
                self.changed = True
        return self.current

    def save(self) -> None:
        if self.current is None:
            return  # nothing written: the memo still describes the site
        if not self.changed and self.static == self.previous_static:
            return
        memo = {
            "version": VERSION,
            "fingerprint": self.current,
            "static": self.static,  # None (never skip next time) if written another way
            "toctrees": self.toctrees,
            "sidebars": self.sidebars,
        }
        atomic_write(self.path, pickle.dumps(memo, pickle.HIGHEST_PROTOCOL), durable=False)


_current: list[Navigation] = []


def _navigation(app) -> Navigation:
    if not _current or _current[0].app is not app:
        _current[:] = [Navigation(app)]
    return _current[0]


def _cached_toctree(app, original):
    def local_toctree(docname: str, collapse: bool = True, **kwargs: Any) -> str:
        navigation = _navigation(app)
        navigation.now()
        key = (docname, collapse, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
        html = navigation.toctrees.get(key)
        if html is None:
            html = original(docname, collapse=collapse, **kwargs)
            navigation.toctrees[key] = html
            navigation.changed = True
        return html

    return local_toctree


def _skipping_write(app, builder):
    """``Builder.write`` that leaves alone the pages Sphinx adds only for their toctrees."""
    write, write_serial, load_indexer = builder.write, builder._write_serial, builder.load_indexer

    def filtered_write(build_docnames, updated_docnames, method="update"):
        navigation = _navigation(app)
        skippable = method == "update" and build_docnames not in (None, ["__all__"])
        required = set(build_docnames or ()) | set(updated_docnames)

        def indexer_keeping_candidates(docnames):
            # Sphinx drops from the loaded search index every page it is about to write; a
            # page left as it is keeps its entries (re-feeding it would add the same ones),
            # so the candidates are dropped only once they are known to be written (serial).
            load_indexer([d for d in docnames if d in required])

        def serial(docnames):
            # Runs after Sphinx has copied the static files, before the first page is written.
            navigation.static = _static_signature(Path(app.outdir))
            # Pages added only by Sphinx's rule (the root page, toctree parents of re-read
            # pages) whose output exists, when nothing they take from other pages changed.
            unchanged = (
                skippable
                and navigation.now() == navigation.previous
                and navigation.static == navigation.previous_static
            )
            skipped = {
                d
                for d in docnames
                if unchanged and d not in required and Path(builder.get_outfilename(d)).is_file()
            }
            if navigation.static != navigation.previous_static:
                navigation.changed = True
            if builder.indexer is not None:  # as load_indexer would have left it
                builder.indexer.prune(set(app.env.all_docs) - (set(docnames) - skipped))
            return write_serial([d for d in docnames if d not in skipped])

        builder._write_serial = serial
        builder.load_indexer = indexer_keeping_candidates
        try:
            return write(build_docnames, updated_docnames, method)
        finally:
            builder._write_serial = write_serial
            builder.load_indexer = load_indexer

    return filtered_write


THEME_VERSION = "0.17.1"  # pydata-sphinx-theme, whose generate_toctree_html this wraps


def _sidebar_key(toctree_html: str, show_nav_level) -> str:
    """What the theme's sidebar markup is computed from: the toctree HTML and one argument
    (and the code: the theme's and BeautifulSoup's, which serialises it)."""
    import bs4

    text = repr((THEME_VERSION, bs4.__version__, show_nav_level, toctree_html))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _kept_sidebar(app, add_toctree_functions):
    """The theme's ``html-page-context`` handler, with its ``generate_toctree_html`` kept.

    Only the whole-book sidebar (``kind="sidebar"``, ``startdepth=0``, what the book theme's
    ``sbt-sidebar-nav.html`` asks for) is kept: the theme computes it from
    ``context["toctree"](**kwargs)`` alone, then only BeautifulSoup edits that follow
    ``show_nav_level``.  Anything else (``kind="raw"`` returns the soup) goes to the theme.
    The templates print the soup (``str``), so the kept string prints the same.
    """

    def add_kept_toctree_functions(app_, pagename, templatename, context, doctree):
        add_toctree_functions(app_, pagename, templatename, context, doctree)
        generate = context.get("generate_toctree_html")
        if generate is None:
            return

        def generate_toctree_html(kind, startdepth=1, show_nav_level=1, **kwargs):
            if kind != "sidebar" or startdepth != 0:
                return generate(kind, startdepth, show_nav_level, **kwargs)
            navigation = _navigation(app)
            navigation.now()  # a navigation changed since the memo was made empties it
            key = _sidebar_key(context["toctree"](**kwargs), show_nav_level)
            html = navigation.sidebars.get(key)
            if html is None:
                html = str(generate(kind, startdepth, show_nav_level, **kwargs))
                navigation.sidebars[key] = html
                navigation.changed = True
            return html

        context["generate_toctree_html"] = generate_toctree_html

    return add_kept_toctree_functions


def keep_sidebar_markup(app) -> None:
    """Replace the theme's ``add_toctree_functions`` handler by :func:`_kept_sidebar`'s, for
    the theme version this was written for; run just before the theme's other handlers (it
    only puts functions in the context, which they call)."""
    try:
        import pydata_sphinx_theme
        from pydata_sphinx_theme import toctree
    except ImportError:
        return
    if getattr(pydata_sphinx_theme, "__version__", None) != THEME_VERSION:
        return
    listeners = getattr(app.events, "listeners", {}).get("html-page-context", [])
    for listener in list(listeners):
        if listener.handler is toctree.add_toctree_functions:
            app.disconnect(listener.id)
            handler = _kept_sidebar(app, toctree.add_toctree_functions)
            app.connect("html-page-context", handler, priority=listener.priority - 1)


def keep_navigation(app) -> None:
    """``builder-inited``: cache the toctree HTML and the theme's sidebar markup, and skip
    unchanged toctree parents (HTML only)."""
    builder = app.builder
    if builder.format != "html" or not hasattr(builder, "_get_local_toctree"):
        return
    _current.clear()
    builder._get_local_toctree = _cached_toctree(app, builder._get_local_toctree)
    builder.write = _skipping_write(app, builder)
    keep_sidebar_markup(app)


def save_navigation(app, exception) -> None:
    """``build-finished``: keep this build's fingerprint and toctrees for the next one."""
    if exception is not None or app.builder.format != "html" or not _current:
        return
    if _current[0].app is app:
        _current[0].save()
