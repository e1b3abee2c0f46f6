"""Site search that knows the domain's words (Sphinx's search language hook, English otherwise).

Sphinx splits text and queries on every non-word character, so "IL-6" became "IL" and "6" (and
"6", a number, is then dropped from the query): a search for IL-6 found pages about IL-2 and IL-4.
Here a hyphenated name stays one word, in the index and in the query ("IL-6", "TNF-α", "IFN-γ";
its parts are indexed too, so "IL" still finds it), and every alias in ``data/mediators.csv``
(TNF-alpha, IL6, IL-1beta …) is indexed and searched as the mediator's own name.  The Python
splitter (index) and the JavaScript one (``splitQuery``, the query) apply the same rules.
"""

from __future__ import annotations

import json
import re

from sphinx.search.en import SearchEnglish

# A word, or words joined by hyphens (ASCII hyphen-minus, U+2010 hyphen, U+2011 non-breaking).
HYPHENS = "-\u2010\u2011"
TOKEN = re.compile(rf"\w+(?:[{HYPHENS}]\w+)*")
PART = re.compile(rf"[{HYPHENS}]")


def alias_map(root=None) -> dict[str, str]:
    """lower-cased alias -> lower-cased mediator name, from data/mediators.csv."""
    from .. import data

    mediators = data.read_table("mediators", root)
    found: dict[str, str] = {}
    for name, aliases in zip(mediators["name"], mediators["aliases"], strict=True):
        canonical = name.lower()
        for alias in data.split_list(aliases):
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
