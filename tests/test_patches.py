"""patches/: each fits the locked version it names, is applied in this environment, and does
what it is for (a build that executes nothing imports no executor) without changing what a
build that does execute gets."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PATCHES = sorted((REPO / "patches").glob("*.patch"))
SITE = Path(sysconfig.get_paths()["purelib"])
NAME = re.compile(r"^(?P<package>[a-z][a-z0-9-]*?)-(?P<version>\d[\w.]*)-[a-z-]+\.patch$")

# What Sphinx loads for every build of the book, and what only executing a notebook needs.
EVERY_BUILD = """
import json, sys
import sphinx.application, myst_nb.sphinx_ext, myst_nb.sphinx_, jupyter_book.cli.main
import jupyter_book.sphinx, jupyter_book.config
print(json.dumps(sorted(m for m in sys.argv[1:] if m in sys.modules)))
"""
EXECUTORS = ("sqlalchemy", "jupyter_cache", "nbclient", "jupyter_client", "zmq")


def _locked(package: str) -> str:
    for line in (REPO / "requirements.lock").read_text(encoding="utf-8").splitlines():
        name, _, version = line.partition("==")
        if re.sub(r"[-_.]+", "-", name.strip().lower()) == package:
            return version.split()[0]
    raise AssertionError(f"{package} is not in requirements.lock")


def test_there_are_patches():
    assert PATCHES, "patches/ is empty"


@pytest.mark.parametrize("patch", PATCHES, ids=lambda p: p.name)
def test_each_patch_names_the_locked_and_installed_version(patch):
    match = NAME.match(patch.name)
    assert match, f"{patch.name}: expected PACKAGE-VERSION-WHAT.patch"
    package, version = match["package"], match["version"]
    assert _locked(package) == version
    assert metadata.version(package) == version


@pytest.mark.parametrize("patch", PATCHES, ids=lambda p: p.name)
def test_each_patch_is_applied_here(patch):
    # Reversing applies cleanly only to the patched files.
    result = subprocess.run(
        ["patch", "-d", str(SITE), "-p1", "-R", "--dry-run", "-s", "-f"],
        stdin=patch.open("rb"),
        capture_output=True,
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def test_applying_twice_changes_nothing(tmp_path):
    # make re-runs the install step on an existing environment: an applied patch is skipped.
    before = {p: (SITE / f).read_bytes() for p in PATCHES for f in _files(p)}
    result = subprocess.run(
        ["bash", "scripts/patch_site_packages.sh", sys.executable],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert {p: (SITE / f).read_bytes() for p in PATCHES for f in _files(p)} == before


def _files(patch: Path) -> list[str]:
    return re.findall(r"(?m)^\+\+\+ b/(\S+)", patch.read_text(encoding="utf-8"))


def test_loading_myst_nb_and_jupyter_book_imports_no_executor():
    result = subprocess.run(
        [sys.executable, "-c", EVERY_BUILD, *EXECUTORS], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


CACHE_LOOK_UP = """
import json, sys
import myst_nb.core.execute.cache
print(json.dumps(sorted(m for m in sys.argv[1:] if m in sys.modules)))
"""


def test_the_cache_client_imports_the_executor_only_on_a_miss():
    # A page found in the cache (every re-read page whose code is unchanged) needs SQLAlchemy
    # for the look-up, not nbclient and jupyter-client, which only execute.
    result = subprocess.run(
        [sys.executable, "-c", CACHE_LOOK_UP, "nbclient", "jupyter_client", "zmq"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
    source = (SITE / "myst_nb/core/execute/cache.py").read_text(encoding="utf-8")
    assert source.index("import single_nb_execution") < source.index("single_nb_execution(")


@pytest.mark.parametrize(
    ("mode", "client"),
    [
        ("cache", "NotebookClientCache"),
        ("force", "NotebookClientDirect"),
        ("inline", "NotebookClientInline"),
        ("off", "NotebookClientBase"),
    ],
)
def test_each_execution_mode_still_gets_its_executor(mode, client, tmp_path):
    import logging

    import nbformat
    from myst_nb.core.config import NbParserConfig
    from myst_nb.core.execute import create_client

    source = tmp_path / "page.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    source.write_text(nbformat.writes(notebook), encoding="utf-8")
    config = NbParserConfig(execution_mode=mode, execution_cache_path=str(tmp_path / "cache"))
    made = create_client(notebook, str(source), config, logging.getLogger("test"))
    assert type(made).__name__ == client


def test_jupyter_book_still_finds_kernels_where_it_lists_them():
    from jupyter_book import utils

    assert "find_kernel_specs" in utils.init_myst_file.__code__.co_names
    from jupyter_client.kernelspec import find_kernel_specs

    assert "python3" in find_kernel_specs()


# A Sphinx application with the book's extensions, built on one page: Sphinx loads all its
# builtin extensions (the linkcheck builder, the image post-transforms, ...) for every build,
# and myst-parser imports intersphinx's inventory loader.  Our own two extensions need a
# review's data to set up, so they are imported only.
A_BUILD_WITH_THE_BOOKS_EXTENSIONS = """
import json, sys
from pathlib import Path
from sphinx.application import Sphinx
import neuroimmune_review.build.early_start, neuroimmune_review.build.sphinx_ext
tmp, extensions = Path(sys.argv[1]), json.loads(sys.argv[2])
(tmp / "src").mkdir()
(tmp / "src/index.md").write_text("# A page\\n\\nText.\\n")
(tmp / "src/_toc.yml").write_text("format: jb-book\\nroot: index\\n")
(tmp / "src/refs.bib").write_text("")
overrides = {"extensions": extensions, "html_theme": "sphinx_book_theme", "bibtex_bibfiles": ["refs.bib"]}
app = Sphinx(tmp / "src", None, tmp / "out", tmp / "doctrees", "html", status=None, confoverrides=overrides)
app.build()
assert app.statuscode == 0 and (tmp / "out/index.html").is_file()
print(json.dumps(sorted(m for m in ("requests", "urllib3") if m in sys.modules)))
"""


def test_a_build_imports_no_requests_until_it_fetches_something(tmp_path):
    # requests with urllib3 is ~40-100 ms of import time in every build (no-op, prose, one-row,
    # cold); four patches defer it: the linkcheck builder, the image downloader, intersphinx's
    # inventory loader and the theme's remote version switcher.
    import yaml

    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    extensions = config["sphinx"]["config"]["extensions"]
    others = [e for e in extensions if not e.startswith("neuroimmune_review.")]
    assert len(others) == len(extensions) - 2
    script = A_BUILD_WITH_THE_BOOKS_EXTENSIONS
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), json.dumps(others)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_link_checking_remote_images_inventories_and_the_switcher_still_get_requests():
    import inspect

    import pydata_sphinx_theme
    import requests.exceptions
    from sphinx.builders import linkcheck

    worker = linkcheck.HyperlinkAvailabilityCheckWorker
    init, check = inspect.getsource(worker.__init__), inspect.getsource(worker._check_uri)
    assert init.index("from sphinx.util import requests") < init.index("requests._Session()")
    imported = check.index("Timeout as RequestTimeout")  # the end of the local imports
    for name in ("ConnectionError", "HTTPError", "SSLError", "TooManyRedirects"):
        assert check.index(f"    {name},") < imported and hasattr(requests.exceptions, name)
    assert imported < check.index("except RequestTimeout") < check.index("except HTTPError")
    switcher = inspect.getsource(pydata_sphinx_theme.update_config)
    assert switcher.index("import requests") < switcher.index("requests.get(json_url)")
    assert switcher.index("RetryError\n") < switcher.index("except (ConnectionError")
    from sphinx.ext.intersphinx import _load
    from sphinx.transforms.post_transforms import images

    download = inspect.getsource(images.ImageDownloader.handle)
    assert download.index("from sphinx.util import requests") < download.index("requests.get(")
    fetch = inspect.getsource(_load._read_from_url)
    assert fetch.index("from sphinx.util import requests") < fetch.index("requests.get(")
