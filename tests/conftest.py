"""Shared fixtures for the tests of the built site (tests/test_site_*.py).

Session fixtures, reusable by any test:

* ``built_site`` -> Path of the built HTML site (``_build/html``). ``make test`` builds it first;
  if it is missing the tests fail with a message to run ``make site``. Set ``REVIEW_SITE_DIR``
  to test another build (e.g. one made in a temporary copy of the repository).
* ``site_pages`` -> sorted list of every HTML page of ``built_site`` (paths relative to it,
  POSIX style), excluding ``_static``/``_sources``/``downloads``.
* ``toc_docnames`` -> every document named in ``_toc.yml`` (root first), e.g. ``book/index``.
* ``site_server`` -> base URL (``http://127.0.0.1:PORT/``) of a local static server for ``built_site``.
* ``serve`` -> context manager ``serve(directory)`` yielding the base URL of a server for any folder.
* ``browser`` -> a Playwright Chromium browser (sync API, Debian's /usr/bin/chromium, no network use
  of its own). Create one ``browser.new_context()`` per test or page and close it.
* ``build_site`` -> function ``build_site(root, timeout=900) -> Path``: runs
  ``jupyter-book build ROOT -W -n --keep-going`` in a subprocess (with ``REVIEW_ROOT`` unset) and
  returns ``ROOT/_build/html``; raises ``AssertionError`` with the build log on failure.

Helpers (import from ``conftest``): ``REPO``, ``toc_documents(root)``, ``is_local(url, base)``,
``PageWatcher`` (console errors, page errors, failed and external requests of one page).
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from strict_build import strict_build

from benchmarks.browser import CHROMIUM, launch_chromium

REPO = Path(__file__).resolve().parents[1]
SITE_ENV = "REVIEW_SITE_DIR"
SKIPPED_DIRS = ("_static/", "_sources/", "_images/", "downloads/")


# --- The table of contents -----------------------------------------------------------------


def toc_documents(root: Path = REPO) -> list[str]:
    """Every document of ``root/_toc.yml`` (root page first), as Jupyter Book's parser reads it."""
    from sphinx_external_toc.parsing import parse_toc_yaml

    return list(parse_toc_yaml(root / "_toc.yml"))


@pytest.fixture(scope="session")
def toc_docnames() -> list[str]:
    return toc_documents(REPO)


# --- The built site ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def built_site() -> Path:
    """The built HTML site; fails (does not skip) when it has not been built."""
    site = Path(os.environ.get(SITE_ENV) or REPO / "_build" / "html").resolve()
    if not (site / "index.html").is_file():
        pytest.fail(
            f"No built site at {site} (no index.html). Run `make site` first "
            f"(`make test` always builds it), or point ${SITE_ENV} at a built site.",
            pytrace=False,
        )
    return site


def html_pages(site: Path) -> list[str]:
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    return [p for p in pages if not p.startswith(SKIPPED_DIRS)]


@pytest.fixture(scope="session")
def site_pages(built_site: Path) -> list[str]:
    return html_pages(built_site)


# --- A local static server -----------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - keep pytest output clean
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


_QuietHandler.extensions_map = {
    **SimpleHTTPRequestHandler.extensions_map,
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}


@contextlib.contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    """Serve *directory* on 127.0.0.1 (free port, threaded); yields the base URL, stops on exit."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, name=f"site-server-{server.server_port}", daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def serve():
    """``with serve(directory) as base_url: ...`` for sites other than ``built_site``."""
    return serve_directory


@pytest.fixture(scope="session")
def site_server(built_site: Path) -> Iterator[str]:
    with serve_directory(built_site) as base:
        yield base


# --- The browser ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's) through Playwright's sync API, for the whole session."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's chromium (make system-deps)", pytrace=False
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


def is_local(url: str, base: str) -> bool:
    """True for requests the page may make: to the local server, or data:/blob:/about: URLs."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    ours = urlsplit(base)
    return parts.scheme == ours.scheme and parts.netloc == ours.netloc


# In the page: true once every chart is drawn (at once on a page without charts), false after 15 s.
WAIT_FOR_CHARTS = """async () => {
  if (!document.querySelector("script.review-chart__spec")) return true;
  const late = new Promise((resolve) => setTimeout(() => resolve(false), 15000));
  return Promise.race([window.reviewChartsRendered.then(() => true), late]);
}"""


class PageWatcher:
    """Records what goes wrong on one Playwright page, and blocks every request to another host.

    ``console_errors``, ``page_errors``, ``failed`` (HTTP >= 400 or network failures of local
    requests) and ``external`` (URLs aborted because they point to another host).
    """

    def __init__(self, page, base: str):
        self.page, self.base = page, base
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.failed: list[str] = []
        self.external: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_request_failed)
        page.route("**/*", self._route)

    def _on_console(self, message) -> None:
        if message.type == "error":
            location = message.location or {}
            self.console_errors.append(
                f"{message.text} ({location.get('url', '')}:{location.get('lineNumber', '')})"
            )

    def _on_response(self, response) -> None:
        if response.status >= 400:
            self.failed.append(f"HTTP {response.status} {response.url}")

    def _on_request_failed(self, request) -> None:
        if is_local(request.url, self.base) and not request.url.startswith(("data:", "blob:")):
            self.failed.append(f"{request.failure} {request.url}")

    def _route(self, route) -> None:
        url = route.request.url
        if is_local(url, self.base):
            route.continue_()
        else:
            self.external.append(url)
            route.abort("blockedbyclient")

    def problems(self) -> dict[str, list[str]]:
        found = {
            "console errors": self.console_errors,
            "page errors": self.page_errors,
            "failed requests": self.failed,
            "requests to other hosts": self.external,
        }
        return {kind: items for kind, items in found.items() if items}


# --- Building a site from another root -----------------------------------------------------


def run_jupyter_book(root: Path, timeout: float = 900) -> Path:
    """``jupyter-book build ROOT -W -n --keep-going``; returns ROOT/_build/html or fails with the log."""
    log = strict_build(root, timeout=timeout)
    site = root / "_build" / "html"
    if not (site / "index.html").is_file():
        raise AssertionError(f"jupyter-book build {root} wrote no index.html:\n{log[-8000:]}")
    return site


@pytest.fixture(scope="session")
def build_site():
    """``build_site(root) -> Path`` of the built HTML (see ``run_jupyter_book``)."""
    return run_jupyter_book
