"""The theme's emptiness check skipped for a template that can never render empty.

For every page it writes, pydata-sphinx-theme renders each template of its header, footer
and sidebar sections once just to drop those that come out empty
(``utils._update_and_remove_templates``), then renders the kept ones again for the page.
sphinx-book-theme's ``article-header-buttons.html`` starts with a literal
``<div class="article-header-buttons">`` outside any Jinja block, so it is never empty and
always kept; its check was the costliest (~1.3 ms a page: 17 of the 32 ms the theme's
handler took for a one-row rebuild's 13 written pages at 1x).  The theme has a parameter for
exactly this (``templates_skip_empty_check``, which it uses for its own slow templates); here
it gets that one more name.

Hand-written because the theme offers no setting for the list.  Gated: the theme version
this was read against, and the template's source as the build's loader finds it (its
SHA-256), so an edited or overridden template is checked as before.  Only the emptiness
check is skipped; the page still renders the template as it did.
"""

from __future__ import annotations

import hashlib

THEME_VERSION = "0.17.1"  # pydata-sphinx-theme, whose _update_and_remove_templates this wraps
# Templates whose source puts non-blank literal text outside any Jinja block, by the SHA-256
# of that source: sphinx-book-theme 1.3.0's components/article-header-buttons.html.
NEVER_EMPTY = {
    "article-header-buttons.html": "01d586c72ac254751e3563afd78f372bb42dfb8be53a09baa864875352938443",
}


def _never_empty(builder) -> list[str]:
    names = []
    for name, expected in NEVER_EMPTY.items():
        try:
            source = builder.templates.get_source(builder.templates.environment, name)[0]
        except Exception:  # noqa: BLE001 - not found or not a Sphinx loader: check as before
            continue
        if hashlib.sha256(source.encode("utf-8")).hexdigest() == expected:
            names.append(name)
    return names


def skip_empty_checks(app) -> None:
    """``builder-inited``: the theme skips the emptiness check of ``NEVER_EMPTY`` templates."""
    try:
        import pydata_sphinx_theme
        from pydata_sphinx_theme import utils
    except ImportError:
        return
    this_app, builder = app, app.builder
    if getattr(pydata_sphinx_theme, "__version__", None) != THEME_VERSION:
        return
    if builder.format != "html" or not hasattr(builder, "templates"):
        return
    names = _never_empty(builder)
    if not names:
        return
    check = getattr(utils._update_and_remove_templates, "_review_original", None)
    check = check or utils._update_and_remove_templates

    def update_and_remove_templates(
        app, context, templates, section, templates_skip_empty_check=None
    ):  # the theme's signature: it passes these by name
        skip = templates_skip_empty_check
        if app is this_app:
            skip = [*(skip or []), *names]
        return check(app, context, templates, section, skip)

    update_and_remove_templates._review_original = check  # one wrapper, whatever the app
    # The theme calls it as ``utils._update_and_remove_templates(...)``: the module attribute.
    utils._update_and_remove_templates = update_and_remove_templates
