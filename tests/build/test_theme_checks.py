"""The theme's emptiness check is skipped only for templates that cannot render empty."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

import pydata_sphinx_theme
import sphinx_book_theme
from pydata_sphinx_theme import utils

from neuroimmune_review.build import theme_checks

BUTTONS = "article-header-buttons.html"
INSTALLED = Path(sphinx_book_theme.__file__).parent / "theme/sphinx_book_theme/components" / BUTTONS


def test_the_gates_match_the_installed_theme():
    # Upgrading either theme turns the skip off; this says so, so the gate is redone.
    assert pydata_sphinx_theme.__version__ == theme_checks.THEME_VERSION
    source = INSTALLED.read_text(encoding="utf-8")
    assert hashlib.sha256(source.encode()).hexdigest() == theme_checks.NEVER_EMPTY[BUTTONS]
    # Why it cannot be empty: a literal element at the top level, outside any Jinja block.
    first_block = source.index("{%-")
    assert source.index('<div class="article-header-buttons">') < first_block
    assert source.count("{% if") == 0


class _Templates:
    environment = None

    def __init__(self, sources: dict[str, str]):
        self.sources, self.rendered = sources, []

    def get_source(self, environment, name):
        return self.sources[name], name, None

    def render(self, name, context):
        self.rendered.append(name)
        return "" if name == "empty.html" else "<p>x</p>"


def _app(sources):
    builder = SimpleNamespace(format="html", templates=_Templates(sources))
    return SimpleNamespace(builder=builder)


def test_only_the_never_empty_template_skips_its_check(monkeypatch):
    monkeypatch.setattr(utils, "_update_and_remove_templates", utils._update_and_remove_templates)
    app = _app({BUTTONS: INSTALLED.read_text(encoding="utf-8")})
    theme_checks.skip_empty_checks(app)
    templates = [BUTTONS, "page-toc.html", "empty"]
    kept = utils._update_and_remove_templates(app, {}, templates, "theme_article_header_end")
    assert kept == [BUTTONS, "page-toc.html"]  # what the full check keeps
    assert app.builder.templates.rendered == ["page-toc.html", "empty.html"]
    # Another application (another build in this process) gets the theme's own check.
    other = _app({})
    utils._update_and_remove_templates(other, {}, templates, "sidebars")
    assert other.builder.templates.rendered == [BUTTONS, "page-toc.html", "empty.html"]


def test_an_edited_or_overridden_template_is_checked_as_before(monkeypatch):
    monkeypatch.setattr(utils, "_update_and_remove_templates", utils._update_and_remove_templates)
    before = utils._update_and_remove_templates
    app = _app({BUTTONS: "{% if header_buttons %}<div></div>{% endif %}"})
    theme_checks.skip_empty_checks(app)
    assert utils._update_and_remove_templates is before
    utils._update_and_remove_templates(app, {}, [BUTTONS], "theme_article_header_end")
    assert app.builder.templates.rendered == [BUTTONS]
