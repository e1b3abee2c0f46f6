"""A changed file of html_static_path reaches _build/html/_static on an incremental build.

Sphinx copies static files only when it writes at least one page ("no targets are out of
date" returns before the copy), so an edit to build/static/review-charts.js alone left the
site serving the old script.  A real (tiny) Sphinx project shows it.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

from neuroimmune_review.build import sphinx_ext


def _project(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "static").mkdir(parents=True)
    (src / "static" / "site.js").write_text("// version 1\n", encoding="utf-8")
    (src / "index.rst").write_text("Home\n====\n\nText.\n", encoding="utf-8")
    (src / "conf.py").write_text(
        "html_static_path = ['static']\n"
        "from neuroimmune_review.build import sphinx_ext\n"
        "def setup(app):\n"
        "    app.connect('build-finished', sphinx_ext.refresh_static_files)\n",
        encoding="utf-8",
    )
    return src


def _build(src: Path) -> Path:
    out = src.parent / "html"
    app = Sphinx(src, src, out, src.parent / "doctrees", "html", status=None, warning=None)
    app.build()
    return out


def test_changed_static_file_is_copied_when_no_page_changed(tmp_path):
    src = _project(tmp_path)
    out = _build(src)
    assert (out / "_static" / "site.js").read_text(encoding="utf-8") == "// version 1\n"
    (src / "static" / "site.js").write_text("// version 2, longer\n", encoding="utf-8")
    _build(src)  # no page changed: Sphinx writes nothing and copies nothing itself
    assert (out / "_static" / "site.js").read_text(encoding="utf-8") == "// version 2, longer\n"


def test_new_static_file_is_copied_and_others_stay(tmp_path):
    src = _project(tmp_path)
    out = _build(src)
    (src / "static" / "extra.css").write_text("p {}\n", encoding="utf-8")
    _build(src)
    assert (out / "_static" / "extra.css").read_text(encoding="utf-8") == "p {}\n"
    assert (out / "_static" / "site.js").read_text(encoding="utf-8") == "// version 1\n"
    assert sphinx_ext.refresh_static_files.__doc__


def test_superseded_explorer_data_files_leave_the_site(tmp_path):
    """Sphinx never deletes a static file: each data change left the explorer's previous
    content-named data file in the site. Only earlier versions of a current file go."""
    from neuroimmune_review.files import prune_published

    published, static = tmp_path / "explorer-data", tmp_path / "_static"
    published.mkdir()
    static.mkdir()
    current = "explorer-9ad7dab4fe825501.json"
    (published / current).write_text("{}")
    kept = [current, "review-explorer.js", "explorer-notes.json", "other-0123456789abcdef.json"]
    old = ["explorer-4944e636daf2c318.json", "explorer-df67735533dac0b4.json"]
    for name in kept + old:
        (static / name).write_text("x")
    assert prune_published(published, static) == sorted(old)
    assert sorted(p.name for p in static.iterdir()) == sorted(kept)
    assert prune_published(published, static) == []  # nothing more to delete
