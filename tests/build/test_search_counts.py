"""The search's mention counts: the fast scan counts exactly what the look-behind pattern did."""

import re

import pytest

from neuroimmune_review.build import search


# The pattern the counts were first made with (a look-behind in front of the spellings).
def _reference_count(spellings: list[str], text: str) -> int:
    pattern = re.compile(
        r"(?<![\w\-\u2010\u2011])(?:"
        + "|".join(re.escape(s) for s in sorted(set(spellings), key=len, reverse=True))
        + r")(?![\w\u2010\u2011]|-\w)"
    )
    return len(pattern.findall(text))


CASES = [
    (
        ["il-6", "il6"],
        "il-6 and il6, not il-6r, xil-6, il-6-like or -il-6; (il-6) il-6\u2010 il-6.",
    ),
    (["tnf-\u03b1", "tnf"], "tnf-\u03b1 tnf tnf-\u03b1\u2011x tnf-alpha tnfs \u2010tnf tnf"),
    (["no"], "no, not now; know no-one no\u2011 no- no"),
    # A rejected match can hide a mention that starts inside it (a spelling with a space).
    (["a b", "b c"], "xa b c a b c"),
    (["p38 mapk", "p38"], "p38 mapk p38mapk p38-mapk p38 p38 mapkinase"),
    (["il-12 p40", "il-12p40", "il12b"], "il-12 p40 il-12p40 il12b il-12 p401"),
]


@pytest.mark.parametrize(("spellings", "text"), CASES)
def test_the_scan_counts_what_the_look_behind_pattern_counted(spellings, text):
    expected = _reference_count(spellings, text)
    assert search._mentions(search._pattern(tuple(spellings)), text) == expected
    counts = search._page_counts(text, {"name": spellings})
    assert counts == ({"name": expected} if expected else {})


def test_known_counts():
    # Written out, so the reference above cannot drift with the code it checks.
    assert search._mentions(search._pattern(("il-6", "il6")), CASES[0][1]) == 4
    assert search._mentions(search._pattern(("a b", "b c")), "xa b c a b c") == 2
