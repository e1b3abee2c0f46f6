"""The theme's icons as inline SVG, without its Font Awesome JavaScript (1.49 MB on every page).

pydata-sphinx-theme marks icons up as ``<i class="fa-solid fa-bars"></i>`` (or ``<span>``) and loads Font
Awesome's JavaScript, which replaces each with an inline ``<svg>`` once the page has loaded.
After the build we write that same SVG into every page and drop the script: the icons are
the few the theme's templates use, kept in ``fontawesome-subset.json`` (their path data from
Font Awesome Free 6.5.2, the version the theme bundles; icons CC BY 4.0, credited in each SVG
as Font Awesome's own SVG files do).  The markup copies what the script produced (classes,
title, aria attributes) and ``review.css`` carries the script's few SVG rules, so the theme's
CSS and the look are unchanged; the icons now show before any script runs.  An icon missing
from the subset keeps its ``<i>``, which the theme's CSS still draws with the Font Awesome web
font; ``tests/test_site_html.py`` fails on it, so the subset grows with the templates.

Hand-written because Sphinx has no hook between rendering a page and writing it, and neither
the theme nor Font Awesome ships a build-time replacement.
"""

from __future__ import annotations

import functools
import html
import json
import re
from pathlib import Path

from ..files import write_signature

SUBSET = Path(__file__).parent / "fontawesome-subset.json"
SCRIPT_FILES = ("fontawesome.js", "fontawesome.js.map", "fontawesome.js.LICENSE.txt")
_SOLID = {"fa-solid", "fas", "fa"}
_ICON_TAG = re.compile(r"<(?P<tag>i|span)\b(?P<attrs>[^<>]*\bfa-[^<>]*)>\s*</(?P=tag)>")
_ATTR = re.compile(r"""([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
# The script tag (with the theme's comment before it), removed with its line's indentation
# (``_remove_indented``).  Written to lead with "<": ``<(?:C\s*<)?script`` is ``(?:C\s*)?<script``.
_SCRIPT = re.compile(
    r"<(?:!-- So that users can add custom icons -->\s*<)?"
    r'script\b[^>]*\bsrc="[^"]*_static/scripts/fontawesome\.js(?:\?[^"]*)?"[^>]*>\s*</script>\n?'
)


def _remove_indented(pattern: re.Pattern[str], text: str) -> str:
    """``re.sub("[ \\t]*" + pattern.pattern, "", text)``, with the indentation matched backwards.

    Performance: a pattern led by ``[ \\t]*`` is tried at every character of the page; led
    by ``<``, the regex engine skips from tag to tag.  Removing the spaces and tabs just
    before each match (back to the previous match's end) removes what the leading
    ``[ \\t]*`` matched: the rest of each pattern starts with ``<``, so neither pattern can
    match inside such a run.  For a one-row rebuild's 10 pages at 1x: 50 -> 2 ms.
    """
    kept: list[str] = []
    end = 0
    for match in pattern.finditer(text):
        start = match.start()
        while start > end and text[start - 1] in " \t":
            start -= 1
        kept.append(text[end:start])
        end = match.end()
    if not kept:
        return text
    kept.append(text[end:])
    return "".join(kept)


@functools.lru_cache(maxsize=1)
def _subset() -> dict:
    return json.loads(SUBSET.read_text(encoding="utf-8"))


def _svg(attrs: str, number: int) -> str | None:
    """The inline SVG for one ``<i>`` icon, or None if it is not a solid icon of the subset."""
    pairs = [(m[1], html.unescape(m[2] or m[3] or m[4] or "")) for m in _ATTR.finditer(attrs)]
    values = dict(pairs)
    classes = values.get("class", "").split()
    icons = _subset()["icons"]
    names = [c[3:] for c in classes if c.startswith("fa-") and c[3:] in icons]
    if len(names) != 1 or not _SOLID & set(classes):
        return None
    name = names[0]
    icon = icons[name]
    rest = [c for c in classes if c not in _SOLID and c != f"fa-{name}"]
    out = [f'class="{" ".join(["svg-inline--fa", f"fa-{name}", *rest])}"']
    out += [
        f'{k}="{html.escape(v)}"' for k, v in pairs if k not in ("class", "title", "aria-hidden")
    ]
    title = values.get("title", "").strip()
    if title:
        title_id = f"svg-inline--fa-title-{name}-{number}"
        out.append(f'aria-labelledby="{title_id}"')
        inner = f'<title id="{title_id}">{html.escape(title)}</title>'
    else:
        out.append('aria-hidden="true"')
        inner = ""
    out += [
        'data-prefix="fas"',
        f'data-icon="{name}"',
        'role="img"',
        'xmlns="http://www.w3.org/2000/svg"',
        f'viewBox="{icon["viewBox"]}"',
    ]
    credit = f"<!--! {_subset()['license']} -->"
    return f'<svg {" ".join(out)}>{credit}{inner}<path fill="currentColor" d="{icon["path"]}"></path></svg>'


def inline_icons(text: str) -> str:
    """*text* (a page) with its Font Awesome ``<i>`` icons as SVG and no Font Awesome script."""
    text = _remove_indented(_SCRIPT, text)
    count = 0

    def replace(match: re.Match) -> str:
        nonlocal count
        count += 1
        return _svg(match["attrs"], count) or match[0]

    return _ICON_TAG.sub(replace, text)


# pydata-sphinx-theme loads Sphinx's search scripts and the whole search index (118 kB raw at
# 1x, and growing with the book) in the head of every page, for its "search as you type"
# option.  With that option off (the theme's default and ours), only search.html uses them:
# the search box of every other page submits to search.html.
_SEARCH_SCRIPTS = re.compile(  # removed with their indentation (``_remove_indented``)
    r'<script src="[^"]*(?:_static/searchtools\.js|_static/language_data\.js|searchindex\.js)'
    r'(?:\?[^"]*)?"></script>\n?'
)


def drop_search_scripts(text: str) -> str:
    """*text* (a page other than search.html) without the search scripts it never runs."""
    return _remove_indented(_SEARCH_SCRIPTS, text)


def _code_key(search_as_you_type: bool) -> str:
    import hashlib

    h = hashlib.sha256(Path(__file__).read_bytes() + SUBSET.read_bytes())
    return f"{h.hexdigest()[:20]}:{search_as_you_type}"


def inline_icons_in_site(
    outdir: Path, search_as_you_type: bool = False, memo: Path | None = None
) -> int:
    """Rewrite every page of the built site that still has icons, the script or unused search.

    With *memo* (a JSON file), a page left exactly as this rewrote it (same size, times and
    inode, same code here) is not read again: a no-op build read and searched every page
    (0.5 s at 1x, 1.5 s at 1000x).  Any write to a page, by Sphinx or anyone, changes its
    ctime, so a page written since is rewritten; Sphinx writes pages only before this runs,
    never in the same build after it.
    """
    key = _code_key(search_as_you_type)
    done: dict = {}
    if memo is not None:
        try:
            kept = json.loads(memo.read_text(encoding="utf-8"))
            done = kept["pages"] if kept.get("code") == key else {}
        except (OSError, ValueError, KeyError, AttributeError):
            done = {}
    now: dict[str, list[int]] = {}
    changed = 0
    for page in outdir.rglob("*.html"):
        relative = page.relative_to(outdir)
        if "_static" in relative.parts:
            continue
        name = relative.as_posix()
        if memo is not None and done.get(name) == write_signature(page):
            now[name] = done[name]
            continue
        text = page.read_text(encoding="utf-8")
        new = text
        if "fa-" in text or "fontawesome.js" in text:
            new = inline_icons(new)
        if not search_as_you_type and name != "search.html":
            new = drop_search_scripts(new)
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed += 1
        now[name] = write_signature(page)
    for name in SCRIPT_FILES:
        (outdir / "_static" / "scripts" / name).unlink(missing_ok=True)
    if memo is not None:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_name(f"{memo.name}.tmp")
        tmp.write_text(json.dumps({"code": key, "pages": now}), encoding="utf-8")
        tmp.replace(memo)
    return changed
