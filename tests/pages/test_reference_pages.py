"""The reference-number coverage on About the data and the identification table on References."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from neuroimmune_review.pages import about

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def review(tmp_path, monkeypatch) -> Path:
    """A copy of the repository's data, bibliography, table of contents and chapter pages."""
    root = tmp_path / "review"
    root.mkdir()
    for name in ("_toc.yml", "references.bib", "CITATION.cff"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "data", root / "data", ignore=shutil.ignore_patterns(".*"))
    shutil.copytree(REPO / "book", root / "book", ignore=shutil.ignore_patterns(".*", "_build"))
    monkeypatch.setenv("REVIEW_ROOT", str(root))
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    return root


def map_rows(root: Path) -> list[dict[str, str]]:
    with (root / "data" / "reference_map.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_map(root: Path, rows: list[dict[str, str]]) -> None:
    with (root / "data" / "reference_map.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_coverage_counts_match_the_map(review):
    rows = map_rows(review)
    table = about.coverage_table()
    assert table["total"].sum() == 224
    assert table["resolved"].sum() == sum(1 for r in rows if r["key"])
    for chapter in table.itertuples(index=False):
        in_map = [r for r in rows if r["chapter"] == chapter.chapter]
        assert chapter.total == len(in_map)
        assert chapter.resolved == sum(1 for r in in_map if r["key"])
        assert chapter.unresolved_numbers == sorted(int(r["ref"]) for r in in_map if not r["key"])
    # Book order, with the page titles of the chapters.
    assert table["title"].iloc[0] == "Introduction"
    assert "Selective serotonin reuptake inhibitors (SSRIs)" in set(table["title"])


def test_coverage_chart_follows_a_change_of_the_map(review):
    rows = map_rows(review)
    ssri = [r for r in rows if r["chapter"] == "book/antidepressants/ssri"]
    before = sum(1 for r in ssri if r["key"])
    target = next(r for r in ssri if not r["key"])
    target["key"], target["confidence"] = "sutcigil2007pro", "probable"
    write_map(review, rows)
    figure = about.reference_coverage()
    counts = {
        (row.title, row.status): row.n
        for row in figure.data.itertuples(index=False)
        if row.title.startswith("Selective serotonin")
    }
    assert counts[("Selective serotonin reuptake inhibitors (SSRIs)", "Resolved")] == before + 1
    assert (
        counts[("Selective serotonin reuptake inhibitors (SSRIs)", "Unresolved")]
        == len(ssri) - before - 1
    )
    assert (
        f"Selective serotonin reuptake inhibitors (SSRIs): {before + 1} of {len(ssri)}"
        in figure.description
    )
    spec = figure.spec()
    mark = spec["mark"]
    assert (mark["type"] if isinstance(mark, dict) else mark) == "bar"


def test_unresolved_numbers_link_to_the_prefilled_form(review):
    with (review / "CITATION.cff").open("a", encoding="utf-8") as handle:
        handle.write("repository-code: https://github.com/example-org/living-review\n")
    html_text = about.unresolved_references().data
    first = next(r for r in map_rows(review) if not r["key"])
    link = html_text.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://github.com/example-org/living-review/issues/new"
    )
    query = parse_qs(parts.query)
    assert query["template"] == ["suggest-a-study.yml"]
    assert query["review_ref"] == [first["ref"]]
    assert first["ref"] in query["title"][0]
    # The form has the field the link fills in.
    form = (REPO / ".github" / "ISSUE_TEMPLATE" / "suggest-a-study.yml").read_text(encoding="utf-8")
    assert "id: review_ref" in form
    # Every unresolved number is listed once, as a link.
    unresolved = [r for r in map_rows(review) if not r["key"]]
    assert html_text.count("review_ref=") == len(unresolved)


def test_without_a_known_repository_the_numbers_are_listed_without_links(review):
    html_text = about.unresolved_references().data
    assert "href=" not in html_text
    assert "Suggest a study" in html_text


def test_identification_table_shows_numbers_confidence_and_secondary_marks(review):
    rows = map_rows(review)
    table = about.identification_table().set_index("key")
    resolved = next(r for r in rows if r["key"] and r["confidence"] == "exact")
    cell = table.loc[resolved["key"], "Reference number(s) in the source article"]
    assert f"{resolved['ref']} (exact)" in cell
    with (review / "data" / "reference_provenance.csv").open(
        encoding="utf-8", newline=""
    ) as handle:
        provenance = list(csv.DictReader(handle))
    secondary = next(p for p in provenance if p["seen"] == "secondary")
    canonical = next(p for p in provenance if p["seen"] == "canonical")
    assert (
        f"{secondary['value']} (seen only in a secondary source)"
        in table.loc[secondary["key"], "Identifiers"]
    )
    assert canonical["value"] in table.loc[canonical["key"], "Identifiers"]
    assert f"{canonical['value']} (seen only" not in table.loc[canonical["key"], "Identifiers"]
    assert (
        table.loc["nava2025modulation", "Reference number(s) in the source article"]
        == "the source article itself"
    )
    html_text = about.reference_identifications()._repr_html_()
    assert 'references.html#ref-nava2025modulation">Nava et al. 2025</a>' in html_text


def test_the_pages_on_the_bibliography_parse_it_once_and_again_when_it_changes(review, monkeypatch):
    from neuroimmune_review import bib, data
    from neuroimmune_review.pages import findings

    parses = []
    real = bib.load_bibliography
    monkeypatch.setattr(bib, "load_bibliography", lambda path: parses.append(1) or real(path))
    data._cached_bibliography.cache_clear()
    quality = about.reference_quality().data
    caveat = findings.coverage_caveat()
    table = about.identification_table()
    assert len(parses) == 1  # each used to parse the file again (10-20 ms each)
    # A new entry is read again, and counted.
    bib_file = review / "references.bib"
    entries = len(real(bib_file).entries)
    bib_file.write_text(
        bib_file.read_text(encoding="utf-8")
        + "\n@article{zz2099probe,\n  author = {Probe, A.},\n  title = {Probe},\n"
        "  year = {2099}\n}\n",
        encoding="utf-8",
    )
    assert about.reference_quality().data != quality
    assert f"**{entries + 1} entries**" in about.reference_quality().data
    assert len(about.identification_table()) == len(table) + 1
    assert findings.coverage_caveat() == caveat  # the numbers it reports did not change
    assert len(parses) == 2
    data._cached_bibliography.cache_clear()


def test_the_chapters_follow_a_change_of_the_table_of_contents(review):
    chapters = about._toc_chapters()
    assert about._toc_chapters() == chapters and about._chapters_of_toc.cache_info().hits
    toc = review / "_toc.yml"
    toc.write_text(toc.read_text(encoding="utf-8") + "  - file: book/zz-probe\n", encoding="utf-8")
    assert about._toc_chapters() == [*chapters, "book/zz-probe"]
