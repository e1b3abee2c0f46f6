"""The built site's signals of trust and its reader's answer (issue #14).

* no page shows unrendered Markdown table syntax;
* every page opens with the same evidence stamp, whose version is the package's and CITATION.cff's;
* How to cite gives plain text, BibTeX and RIS with one version and one commit, the stamp's;
* every class chapter opens with its summary of findings, linked to the synthesis pages; the home
  page shows every class's verdict with the reference-coverage caveat, and names the editors;
* What's new is a table with the four Cochrane columns; the forest plot has its numbers.
"""

from __future__ import annotations

import re

import yaml
from conftest import REPO, toc_documents

import neuroimmune_review

# A Markdown table that was not rendered: a row of pipes around dashes (the builder's smart quotes
# turn "---" into an em dash and "--" into an en dash, so all three are matched).
RAW_TABLE = re.compile(r"\|\s*:?[-—–]{1,}:?\s*\|")
STAMP = re.compile(r'<p class="review-stamp review-stamp--top">([^<]*)</p>')
CLASS_PAGES = [
    d
    for d in toc_documents(REPO)
    if d.startswith("book/antidepressants/") and not d.endswith("overview")
]


def visible_text(page: str) -> str:
    page = re.sub(r"(?s)<!--.*?-->", " ", page)
    page = re.sub(r"(?s)<(script|style|pre)\b.*?</\1>", " ", page)
    return re.sub(r"<[^>]+>", "\n", page)


def read(site, docname: str) -> str:
    return (site / f"{docname}.html").read_text(encoding="utf-8")


def article(page: str) -> str:
    """The page's own content (the theme's sidebars come before it)."""
    return page[page.index('<article class="bd-article"') :]


def test_no_unrendered_markdown_tables(built_site, site_pages):
    found = []
    for name in site_pages:
        text = visible_text((built_site / name).read_text(encoding="utf-8"))
        found += [f"{name}: {m.group(0)!r}" for m in RAW_TABLE.finditer(text)]
    assert not found, "unrendered Markdown table syntax:\n" + "\n".join(found[:20])


def test_raw_table_pattern_catches_what_the_home_page_once_showed():
    assert RAW_TABLE.search("| Findings | Cited sources |\n|—:|—:|")
    assert RAW_TABLE.search("| a | b |\n|---|---|")
    assert not RAW_TABLE.search("IL-6 | TNF-α and a pipe | here")


def test_every_page_opens_with_one_stamp(built_site, toc_docnames):
    version = neuroimmune_review.__version__
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    assert str(cff["version"]) == version
    stamps = {}
    for docname in toc_docnames:
        full = read(built_site, docname)
        page = article(full)
        match = STAMP.search(page)
        assert match, f"{docname}: no stamp at the top"
        assert match.start() < page.index("<h1"), f"{docname}: the stamp is not above the title"
        stamps[docname] = match.group(1)
        assert full.count(match.group(1)) >= 2, f"{docname}: footer stamp differs from the top one"
    assert len(set(stamps.values())) == 1, set(stamps.values())
    stamp = next(iter(stamps.values()))
    assert f"· version {version} ·" in stamp and stamp.startswith("Evidence as of 20")


def test_how_to_cite_has_three_formats_one_version_one_commit(built_site):
    page = read(built_site, "book/about/how-to-cite")
    cited = article(page)
    cited = cited[cited.index("You are reading") : cited.index('id="version-numbers"')]
    text = re.sub(r"<[^>]+>", "", cited)  # code blocks are split into highlight spans
    for label in ("Plain text", "BibTeX", "RIS"):
        assert label in text, label
    assert "@misc{" in text and "TY  - ELEC" in text and "ER  -" in text
    versions = set(re.findall(r"\b(20\d\d\.\d+\.\d+)\b", text))
    assert versions == {neuroimmune_review.__version__}, versions
    commits = set(re.findall(r"commit ([0-9a-f]{7})\b", text))
    assert len(commits) == 1, commits
    stamp = STAMP.search(page).group(1)
    assert f"evidence commit {commits.pop()}" in stamp


def test_class_chapters_open_with_their_summary_of_findings(built_site):
    assert len(CLASS_PAGES) == 9
    for docname in CLASS_PAGES:
        page = article(read(built_site, docname))
        sof = page.find('class="review-sof"')
        assert sof != -1, f"{docname}: no summary of findings"
        assert page.index("<h1") < sof < page.index("<h2"), f"{docname}: not at the top"
        block = page[sof : page.index("</section>", sof)]
        assert "Bottom line." in block and "Certainty" in block
        for target in ("th-balance.html", "contested.html", "meta-analyses.html"):
            assert f"../synthesis/{target}" in block, f"{docname}: no link to {target}"


def test_home_page_verdicts_caveat_and_editors(built_site):
    page = read(built_site, "book/index")
    table = page[page.index("Summary of findings by antidepressant class") :]
    table = table[: table.index("</table>")]
    assert table.count('<th scope="row">') == 9
    assert "only on the studies the source review cites" in page
    assert "reference numbers" in page and "Editors:" in page
    assert "How the certainty label is set" in page


def test_whats_new_is_a_table_with_conclusions(built_site):
    page = read(built_site, "book/about/whats-new")
    assert re.search(
        r"<th[^>]*>Date</th><th[^>]*>Event</th><th[^>]*>What changed</th><th[^>]*>Conclusions changed</th>",
        page,
    )
    assert "<details><summary>" in page and "more</li>" not in page
    assert not re.search(r"\((nava2025modulation|[a-z]+\d{4}[a-z]+)\)", visible_text(page))


def test_forest_plot_numbers(built_site):
    page = read(built_site, "book/synthesis/meta-analyses")
    for header in (
        "Effect [95% CI]",
        "k (studies)",
        "n (participants)",
        "Review&#x27;s own direction",
    ):
        assert header in page, header
    assert "Pooled result (as reported)" in page and "Subgroup (as reported)" in page
