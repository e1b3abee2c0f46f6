"""Small text helpers shared by the pages, the validator, the history and curation.

One home each, so every page words a plural, a capped list or an escaped value the
same way:

- :func:`plural` — "1 finding", "3 findings", "2 classes";
- :func:`and_more` and :func:`first_n` — "a; b; … and 3 more", the one wording for a
  list cut short;
- :func:`split_list` — the items of a ``;``-separated cell (``citation``,
  ``review_ref``, aliases): split on ``;``, each item stripped, empty items dropped.
  The validator, which must report ``a;;b``, asks :func:`has_empty_item`;
- :func:`parse_numbers` — reference numbers ("12; 15") in one pass;
- :func:`escape_markdown` — text from the data made inert in generated Markdown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

LIST_SEPARATOR = ";"
_MARKDOWN_SPECIAL = {ord(c): f"\\{c}" for c in "\\`*_{}[]()#+!|<>~"}


def plural(n: int, word: str, plural_form: str | None = None) -> str:
    """'1 finding', '3 findings'; *plural_form* for irregular words ('classes')."""
    return f"{n} {word}" if n == 1 else f"{n} {plural_form or word + 's'}"


def and_more(hidden: int) -> str:
    """'… and 3 more': what stands for the items a capped list leaves out."""
    return f"… and {hidden} more"


def first_n(items: Iterable[str], limit: int, separator: str = "; ") -> str:
    """The first *limit* items joined by *separator*, then 'and_more' for the rest."""
    items = list(items)
    if len(items) <= limit:
        return separator.join(items)
    return separator.join([*items[:limit], and_more(len(items) - limit)])


def split_list(value: object, separator: str | re.Pattern[str] = LIST_SEPARATOR) -> list[str]:
    """Items of a ';'-separated cell: stripped, empty items dropped ('a; ;b' -> ['a', 'b'])."""
    parts = (
        separator.split(str(value))
        if isinstance(separator, re.Pattern)
        else str(value).split(separator)
    )
    return [part.strip() for part in parts if part.strip()]


def has_empty_item(value: str) -> bool:
    """Whether a non-blank ';'-separated cell holds an empty item ('a;;b', 'a;')."""
    return bool(value.strip()) and any(not p.strip() for p in value.split(LIST_SEPARATOR))


def parse_numbers(
    text: str, separator: str | re.Pattern[str] = LIST_SEPARATOR
) -> tuple[list[int], list[str]]:
    """'12; 15' -> ([12, 15], []); items that are not whole numbers come back second."""
    numbers, invalid = [], []
    for item in split_list(text, separator):
        if item.isascii() and item.isdigit():
            numbers.append(int(item))
        else:
            invalid.append(item)
    return numbers, invalid


def escape_markdown(text: Iterable[str] | str) -> str:
    """Text from the data made inert in Markdown: HTML-escaped, then Markdown punctuation escaped.

    Quotes are left alone: an entity such as ``&#x27;`` would be broken by escaping its ``#``.
    An iterable is escaped item by item and joined with ', '.
    """
    if not isinstance(text, str):
        return ", ".join(escape_markdown(t) for t in text)
    return html.escape(text, quote=False).translate(_MARKDOWN_SPECIAL)
