"""The theme's templates are compiled once and reused by later builds, never stale."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from jinja2 import FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment

from neuroimmune_review.build import template_cache


def _app(build: Path, templates: Path, **settings) -> SimpleNamespace:
    """What ``use_bytecode_cache`` reads of a Sphinx app: a new process's template environment."""
    environment = SandboxedEnvironment(loader=FileSystemLoader(str(templates)), **settings)
    builder = SimpleNamespace(templates=SimpleNamespace(environment=environment))
    return SimpleNamespace(builder=builder, outdir=str(build / "html"))


def _render(app, name: str = "page.html") -> tuple[str, int]:
    """The rendered page and how many templates the environment compiled to get it."""
    environment = app.builder.templates.environment
    compiled = []
    compile_ = environment.compile

    def counting(source, name=None, filename=None, raw=False, defer_init=False):
        compiled.append(name)
        return compile_(source, name, filename, raw, defer_init)

    environment.compile = counting
    return environment.get_template(name).render(title="IL-6"), len(compiled)


@pytest.fixture
def templates(tmp_path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "layout.html").write_text("<main>{% block body %}{% endblock %}</main>\n")
    (folder / "page.html").write_text(
        '{% extends "layout.html" %}{% block body %}<h1>{{ title }}</h1>{% endblock %}'
    )
    return folder


def test_a_later_build_reuses_the_compiled_templates(tmp_path, templates):
    build = tmp_path / "_build"
    first = _app(build, templates)
    template_cache.use_bytecode_cache(first)
    html, compiled = _render(first)
    assert html == "<main><h1>IL-6</h1></main>" and compiled == 2
    cached = list((build / template_cache.CACHE_DIR).rglob("*.cache"))
    assert len(cached) == 2  # page.html and the layout it extends

    later = _app(build, templates)
    template_cache.use_bytecode_cache(later)
    assert _render(later) == (html, 0)  # nothing compiled: both came from the cache


def test_an_edited_template_is_compiled_again(tmp_path, templates):
    build = tmp_path / "_build"
    first = _app(build, templates)
    template_cache.use_bytecode_cache(first)
    _render(first)

    (templates / "layout.html").write_text(
        "<main class='new'>{% block body %}{% endblock %}</main>"
    )
    later = _app(build, templates)
    template_cache.use_bytecode_cache(later)
    html, compiled = _render(later)
    # Jinja keeps the source's checksum with its code: the edited layout is compiled again,
    # the unchanged page is not, and the page shows the edit.
    assert html == "<main class='new'><h1>IL-6</h1></main>" and compiled == 1


def test_other_compiler_settings_or_versions_use_another_directory(
    tmp_path, templates, monkeypatch
):
    build = tmp_path / "_build"
    plain = _app(build, templates).builder.templates.environment
    trimmed = _app(build, templates, trim_blocks=True).builder.templates.environment
    escaped = _app(build, templates, autoescape=True).builder.templates.environment
    dirs = {template_cache.cache_dir(build, e) for e in (plain, trimmed, escaped)}
    assert len(dirs) == 3  # the same source compiles to different code under these settings

    import jinja2

    before = template_cache.cache_dir(build, plain)
    monkeypatch.setattr(jinja2, "__version__", "99.0.0")
    assert template_cache.cache_dir(build, plain) != before  # an upgrade starts an empty cache


def test_the_cache_lives_in_build_and_is_set_once(tmp_path, templates):
    build = tmp_path / "_build"
    app = _app(build, templates)
    template_cache.use_bytecode_cache(app)
    cache = app.builder.templates.environment.bytecode_cache
    assert Path(cache.directory).is_relative_to(build / template_cache.CACHE_DIR)
    template_cache.use_bytecode_cache(app)  # a second call keeps the cache it has
    assert app.builder.templates.environment.bytecode_cache is cache
    other = SimpleNamespace(builder=SimpleNamespace(), outdir=str(build / "html"))
    template_cache.use_bytecode_cache(other)  # a builder without Jinja templates: nothing to do


def test_the_extension_gives_sphinx_builds_the_cache():
    from neuroimmune_review.build import sphinx_ext

    listeners = []
    app = SimpleNamespace(
        connect=lambda event, handler, **kw: listeners.append((event, handler)),
        add_config_value=lambda *a, **kw: None,
        add_search_language=lambda *a: None,
        add_css_file=lambda *a, **kw: None,
    )
    sphinx_ext.setup(app)
    assert ("builder-inited", template_cache.use_bytecode_cache) in listeners
