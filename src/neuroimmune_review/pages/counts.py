"""How counts are worded: distinct independent sources, with the row count beside them."""

from __future__ import annotations

import pandas as pd

from .. import data
from ..text import plural

__all__ = ["plural", "sources_and_rows", "sources_phrase", "excluded_claims_sentence"]


def sources_and_rows(n_sources: int, n_rows: int) -> str:
    """'5 sources (8 rows)', or '5 sources' when every row is its own source."""
    text = plural(n_sources, "source")
    return text if n_rows == n_sources else f"{text} ({plural(n_rows, 'row')})"


def sources_phrase(rows: pd.DataFrame) -> str:
    """The distinct sources of *rows*, with the row count beside it where it differs."""
    return sources_and_rows(data.n_sources(rows), len(rows))


def _claims(n: int, label: str) -> str:
    """'1 association', '5 associations', '2 conditions vs controls'."""
    label = label.lower()
    if n == 1:
        return f"1 {label}"
    head, sep, tail = label.partition(" vs ")
    return f"{n} {head}s{sep}{tail}" if sep else f"{n} {label}s"


def excluded_claims_sentence(rows: pd.DataFrame, counted: tuple[str, ...]) -> str:
    """The sentence a synthesis page prints to say which claim types its counts use.

    e.g. "Counts use intervention effects only; 4 associations and 12 proposed mechanisms
    are listed but not counted."  *rows* are all rows in the page's scope (any claim type),
    *counted* the claim types the page counts.  Numbers are of rows."""
    labels = data.claim_type_labels()
    used = " and ".join(_claims(2, labels[c])[2:] for c in counted)
    rest = rows["claim_type"][~rows["claim_type"].isin(counted)].value_counts()
    others = [_claims(int(rest[c]), labels[c]) for c in data.claim_types() if rest.get(c, 0)]
    sentence = f"Counts use {used} only"
    if others:
        joined = ", ".join(others[:-1]) + (" and " if len(others) > 1 else "") + others[-1]
        verb = "is" if len(others) == 1 and int(rest.sum()) == 1 else "are"
        sentence += (
            f"; {joined} in the same scope {verb} listed in the evidence tables but not counted"
        )
    return sentence + "."
