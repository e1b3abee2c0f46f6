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


def _page(name: str) -> str:
    return f'<html><article class="bd-article" role="main"><p>{name} {name}.</p></article></html>'


def test_term_counts_read_only_the_pages_written_since(tmp_path, monkeypatch):
    import json
    import shutil
    from pathlib import Path
    from types import SimpleNamespace

    from neuroimmune_review import provenance

    root = tmp_path / "review"
    shutil.copytree(Path(__file__).resolve().parents[2] / "data", root / "data")
    out = root / "_build" / "html"
    out.mkdir(parents=True)
    docs = ["a", "b", "c"]
    for doc in docs:
        (out / f"{doc}.html").write_text(_page("IL-6"), encoding="utf-8")
    monkeypatch.setenv("REVIEW_ROOT", str(root))
    app = SimpleNamespace(
        outdir=str(out), srcdir=str(root), env=SimpleNamespace(found_docs=set(docs))
    )
    app.builder = SimpleNamespace(format="html")
    read = []
    real = search.article_text
    monkeypatch.setattr(search, "article_text", lambda html: read.append(html) or real(html))
    digests = []
    real_digest = provenance.file_digest

    def digest(path):
        if path.suffix == ".html":
            digests.append(path.name)
        return real_digest(path)

    monkeypatch.setattr(provenance, "file_digest", digest)

    def counts():
        text = (out / "_static" / search.COUNTS_FILE).read_text(encoding="utf-8")
        return json.loads(text.split("=", 1)[1].strip().rstrip(";"))

    search.write_term_counts(app, None)
    assert len(read) == 3 and counts()["il-6"] == {"a": 2, "b": 2, "c": 2}
    read.clear(), digests.clear()
    search.write_term_counts(app, None)  # nothing written since: nothing read or hashed
    assert read == [] and digests == [] and counts()["il-6"] == {"a": 2, "b": 2, "c": 2}
    (out / "b.html").write_text(_page("IL-1β"), encoding="utf-8")
    (out / "c.html").write_text(_page("IL-6"), encoding="utf-8")  # written again, same bytes
    search.write_term_counts(app, None)
    assert digests == ["b.html", "c.html"]
    assert len(read) == 1  # only b changed: c's digest matched its kept counts
    assert counts()["il-6"] == {"a": 2, "c": 2} and counts()["il-1β"] == {"b": 2}
