"""The theme's icons are inline SVG, drawn without Font Awesome's 1.49 MB script."""

from __future__ import annotations

import re

from neuroimmune_review.build import icons

HEAD = (
    "<head>\n  <!-- So that users can add custom icons -->\n"
    '  <script defer src="../_static/scripts/fontawesome.js?digest=55c2"></script>\n</head>'
)


def test_icons_become_the_svg_the_script_drew():
    page = (
        HEAD + '<button><i class="fa-solid fa-magnifying-glass fa-lg"></i></button>'
        '<i class="theme-switch fa-solid fa-sun fa-lg" data-mode="light" title="Light"></i>'
        '<span class="fa-solid fa-bars"></span>'
    )
    out = icons.inline_icons(page)
    assert "fontawesome.js" not in out and "<i " not in out and "<span" not in out
    svgs = re.findall(r"<svg [^>]*>", out)
    assert len(svgs) == 3
    assert 'class="svg-inline--fa fa-magnifying-glass fa-lg" aria-hidden="true"' in svgs[0]
    assert 'viewBox="0 0 512 512"' in svgs[0]
    # A titled icon is labelled by its title, and keeps the attributes the theme's CSS selects on.
    assert 'class="svg-inline--fa fa-sun theme-switch fa-lg" data-mode="light"' in svgs[1]
    title_id = re.search(r'aria-labelledby="([^"]+)"', svgs[1])[1]
    assert f'<title id="{title_id}">Light</title>' in out
    assert out.count("Font Awesome Free 6.5.2") == 3  # the CC BY credit, in each SVG


def test_an_icon_outside_the_subset_is_left_to_the_web_font():
    page = '<i class="fa-solid fa-xmark"></i><i class="fa-regular fa-sun"></i><i>fa-bars</i>'
    assert icons.inline_icons(page) == page


def test_no_page_of_the_site_loads_font_awesome_or_keeps_an_icon_tag(built_site, site_pages):
    assert not (built_site / "_static/scripts/fontawesome.js").exists()
    leftover = re.compile(r"<(i|span)\b[^>]*\bclass=\"[^\"]*\bfa-[\w-]+[^>]*>")
    for page in site_pages:
        text = (built_site / page).read_text(encoding="utf-8")
        assert "fontawesome.js" not in text, page
        found = leftover.findall(text)
        assert not found, f"{page}: icons missing from build/fontawesome-subset.json: {found}"
    # A theme page (not the root's redirect) draws its icons: the replacement did run.
    assert "svg-inline--fa" in (built_site / "search.html").read_text(encoding="utf-8")


def test_search_scripts_stay_only_where_search_runs(built_site, site_pages):
    # The theme's search-as-you-type is off: only search.html runs Sphinx's search.
    assert "searchindex.js" in (built_site / "search.html").read_text(encoding="utf-8")
    for page in site_pages:
        if page != "search.html":
            text = (built_site / page).read_text(encoding="utf-8")
            assert "searchindex.js" not in text and "searchtools.js" not in text, page


# The patterns as they were, led by their indentation: ``_remove_indented`` must remove exactly
# what ``re.sub`` of these removed.
OLD_SCRIPT = re.compile(
    r"[ \t]*(?:<!-- So that users can add custom icons -->\s*)?"
    r'<script\b[^>]*\bsrc="[^"]*_static/scripts/fontawesome\.js(?:\?[^"]*)?"[^>]*>\s*</script>\n?'
)
OLD_SEARCH = re.compile(
    r'[ \t]*<script src="[^"]*(?:_static/searchtools\.js|_static/language_data\.js|searchindex\.js)'
    r'(?:\?[^"]*)?"></script>\n?'
)


def test_the_script_patterns_remove_what_the_indentation_led_ones_removed():
    import random

    pieces = [
        " ",
        "\t",
        "\n",
        "x",
        "<",
        '"',
        ">",
        "<script",
        "<!-- So that users can add custom icons -->",
        '<script defer src="../_static/scripts/fontawesome.js?digest=55c2"></script>',
        '<script src="_static/scripts/fontawesome.js"></script>',
        '<script src="../_static/searchtools.js"></script>\n',
        '<script src="searchindex.js?v=2"></script>',
        '<script src="_static/language_data.js"></script>',
        "</script>",
    ]
    rnd = random.Random(15)
    texts = [HEAD, HEAD + "\n" + HEAD]
    texts += ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 14))) for _ in range(20000)]
    removed = 0
    for text in texts:
        new = icons._remove_indented(icons._SCRIPT, text)
        assert new == OLD_SCRIPT.sub("", text), repr(text)
        assert icons.drop_search_scripts(text) == OLD_SEARCH.sub("", text), repr(text)
        removed += new != text
    assert removed > 1000  # the pieces do make whole tags
