"""Site search that knows the domain's words (Sphinx's search language hook, English otherwise).

Sphinx splits text and queries on every non-word character, so "IL-6" became "IL" and "6" (and
"6", a number, is then dropped from the query): a search for IL-6 found pages about IL-2 and IL-4.
Here a hyphenated name stays one word, in the index and in the query ("IL-6", "TNF-α", "IFN-γ";
its parts are indexed too, so "IL" still finds it), and every alias in ``data/mediators.csv``
(TNF-alpha, IL6, IL-1beta …) is indexed and searched as the mediator's own name.  The Python
splitter (index) and the JavaScript one (``splitQuery``, the query) apply the same rules.

Sphinx ranks every page that contains a word alike (its index records presence, not counts),
so the top hits for "IL-6" were simply the first pages in alphabetical order.  After the build,
``write_term_counts`` counts how often each mediator is named in each page's article, and
``static/review-search.js`` adds a bonus growing with that count: pages that discuss a
mediator come before pages that mention it once.
"""

from __future__ import annotations

import functools
import json
import re

from sphinx.search.en import SearchEnglish

# A word, or words joined by hyphens (ASCII hyphen-minus, U+2010 hyphen, U+2011 non-breaking).
HYPHENS = "-\u2010\u2011"
TOKEN = re.compile(rf"\w+(?:[{HYPHENS}]\w+)*")
PART = re.compile(rf"[{HYPHENS}]")


def _mediator_words(root=None) -> dict[str, list[str]]:
    """The ``name`` and ``aliases`` columns of data/mediators.csv, kept under its digest.

    Every build that writes anything asks for them (the index and the term counts); read
    with ``data.read_table``, they imported pandas into a no-op build (0.4 s of it).
    """
    from .. import paths, provenance

    root = root or paths.find_root()

    def read() -> dict[str, list[str]]:
        from .. import data

        mediators = data.read_table("mediators", root)
        return {"name": list(mediators["name"]), "aliases": list(mediators["aliases"])}

    files = [paths.data_dir(root) / "mediators.csv"]
    return provenance.remembered("search.mediator-words.v1", root, files, read)


def alias_map(root=None) -> dict[str, str]:
    """lower-cased alias -> lower-cased mediator name, from data/mediators.csv."""
    from ..text import split_list

    mediators = _mediator_words(root)
    found: dict[str, str] = {}
    for name, aliases in zip(mediators["name"], mediators["aliases"], strict=True):
        canonical = name.lower()
        for alias in split_list(aliases):
            alias = alias.strip().lower()
            # Only single-token aliases can be matched word by word ("T-cell growth factor" cannot).
            if alias and alias != canonical and TOKEN.fullmatch(alias):
                found.setdefault(alias, canonical)
    return found


JS_SPLITTER = """
const REVIEW_SEARCH_ALIASES = %(aliases)s;
// Same rules as neuroimmune_review.build.search: hyphenated names stay one word; aliases of a
// mediator are searched as its name (TNF-alpha -> TNF-\u03b1).
function splitQuery(query) {
  const words = query.match(/[\\p{L}\\p{N}\\p{M}_]+(?:[-\\u2010\\u2011][\\p{L}\\p{N}\\p{M}_]+)*/gu) || [];
  return words.map((word) => REVIEW_SEARCH_ALIASES[word.toLowerCase()] || word);
}
"""


class ReviewSearch(SearchEnglish):
    """English search with the review's word rules (registered for ``en``)."""

    aliases: dict[str, str] = {}

    def init(self, options: dict[str, str]) -> None:
        super().init(options)
        type(self).aliases = alias_map()
        self.js_splitter_code = JS_SPLITTER % {
            "aliases": json.dumps(self.aliases, ensure_ascii=False, sort_keys=True)
        }

    def split(self, input: str) -> list[str]:
        words = []
        for token in TOKEN.findall(input):
            words.append(self.aliases.get(token.lower(), token))
            if PART.search(token):
                words.extend(part for part in PART.split(token) if part)
        return words


COUNTS_FILE = "review-search-counts.js"
ARTICLE = re.compile(r'<article class="bd-article"[^>]*>(.*?)</article>', re.S)


def article_text(html: str) -> str:
    """The text of a built page's article (tags become spaces, scripts and styles dropped)."""
    match = ARTICLE.search(html)
    body = match.group(1) if match else html
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S | re.I)
    import html as html_lib

    return html_lib.unescape(re.sub(r"<[^>]+>", " ", body))


def _spellings(aliases: dict[str, str]) -> dict[str, list[str]]:
    """mediator name (lower case) -> every lower-cased spelling that counts as naming it."""
    names: dict[str, list[str]] = {}
    for alias, canonical in aliases.items():
        names.setdefault(canonical, [canonical]).append(alias)
    for name in _mediator_words()["name"]:
        names.setdefault(name.lower(), [name.lower()])
    return names


# A mention is a spelling not preceded by a word character or hyphen, and not followed by a word
# character, a U+2010/U+2011 hyphen, or a hyphen starting another word ("IL-6" is not in "IL-6R").
NOT_AFTER = r"(?![\w\u2010\u2011]|-\w)"
NOT_BEFORE = re.compile(r"[\w\-\u2010\u2011]")


@functools.lru_cache(maxsize=1024)
def _pattern(spellings: tuple[str, ...]) -> re.Pattern[str]:
    # The spellings come first and the character before is checked by _mentions: a pattern that
    # starts with a look-behind is tried at every character of the text (at 1000x the pages' text
    # is megabytes, and counting took 1.1 of the 1.3 s this step cost), while one that starts
    # with the spellings lets the regex engine skip to the characters they can start with.
    return re.compile(
        "(?:" + "|".join(re.escape(s) for s in sorted(set(spellings), key=len, reverse=True)) + ")"
        f"{NOT_AFTER}"
    )


def _mentions(pattern: re.Pattern[str], text: str) -> int:
    """How many matches of *pattern* are not preceded by a word character or a hyphen.

    Exactly what ``findall`` with a look-behind in front of *pattern* counts: after a rejected
    match the next one may start at the next character, not only after the rejected one.
    """
    count = pos = 0
    while (match := pattern.search(text, pos)) is not None:
        start = match.start()
        if start and NOT_BEFORE.match(text, start - 1):
            pos = start + 1
        else:
            count += 1
            pos = match.end()
    return count


def _page_counts(text: str, names: dict[str, list[str]]) -> dict[str, int]:
    """canonical -> mentions in one page's (lower-cased) article text."""
    counts = {}
    for canonical, spellings in names.items():
        # Performance: a plain substring test first (exact: a match contains a spelling); most
        # mediators are absent from most pages.
        if not any(s in text for s in spellings):
            continue
        n = _mentions(_pattern(tuple(spellings)), text)
        if n:
            counts[canonical] = n
    return counts


def _invert(per_page: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for doc in sorted(per_page):
        for canonical, n in per_page[doc].items():
            counts.setdefault(canonical, {})[doc] = n
    return counts


def term_counts(texts: dict[str, str], aliases: dict[str, str]) -> dict[str, dict[str, int]]:
    """mediator name (lower case) -> {docname: times it or an alias is named in the text}."""
    names = _spellings(aliases)
    return _invert({doc: _page_counts(text.lower(), names) for doc, text in texts.items()})


COUNTS_MEMO = "term-counts.json"  # in provenance.MEMO_DIR: per page, keyed by its HTML's digest


def write_term_counts(app, exception) -> None:
    """``_static/review-search-counts.js``: how often each page names each mediator.

    A page's counts are kept with the digest of its HTML and of the spellings counted: an
    incremental build recounts only the pages Sphinx wrote again (at 1000x, counting every
    page took most of a no-op rebuild).  The digest is kept with the file's write signature
    (``files.write_signature``): a page not written since is not read and hashed again (the
    24 pages a one-row rebuild leaves alone, ~10 ms at 1x).
    """
    from pathlib import Path

    from .. import paths, provenance
    from ..files import write_signature

    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    names = _spellings(alias_map())
    names_key = provenance.digest(names)
    memo_path = paths.build_dir(Path(app.srcdir)) / provenance.MEMO_DIR / COUNTS_MEMO
    try:
        memo = json.loads(memo_path.read_text(encoding="utf-8"))
        if memo.get("names") != names_key:
            memo = {}
    except (OSError, ValueError):
        memo = {}
    known = memo.get("pages", {})
    pages: dict[str, dict] = {}
    for doc in sorted(app.env.found_docs):
        page = out / f"{doc}.html"
        try:
            signature = write_signature(page)
        except OSError:
            continue
        entry = known.get(doc)
        if isinstance(entry, dict) and entry.get("written") == signature and "counts" in entry:
            pages[doc] = entry
            continue
        page_key = provenance.file_digest(page)
        if page_key is None:
            continue
        if not isinstance(entry, dict) or entry.get("html") != page_key:
            text = article_text(page.read_text(encoding="utf-8")).lower()
            entry = {"html": page_key, "counts": _page_counts(text, names)}
        pages[doc] = {**entry, "written": signature}
    counts = _invert({doc: entry["counts"] for doc, entry in pages.items()})
    target = out / "_static" / COUNTS_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        "// Written by neuroimmune_review.build.search after the build: mediator -> page -> mentions.\n"
        f"const REVIEW_TERM_COUNTS = {json.dumps(counts, ensure_ascii=False, sort_keys=True)};\n",
        encoding="utf-8",
    )
    memo_path.parent.mkdir(parents=True, exist_ok=True)
    memo_path.write_text(json.dumps({"names": names_key, "pages": pages}), encoding="utf-8")
