"""The reference map and provenance tables (data/reference_map.csv, data/reference_provenance.csv):
their validator rules, loading, and the per-chapter coverage counts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fixture_review import BIB, edit, errors, find, line_containing, make_root

from neuroimmune_review import reference_map
from neuroimmune_review.validate import validate, validate_root

MAP = "data/reference_map.csv"
PROVENANCE = "data/reference_provenance.csv"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_root(tmp_path)


def replace_map_row(root: Path, number: int, row: str) -> int:
    """Replace the row of *number* by *row*; returns its line."""
    path = root / MAP
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith(f"{number},"))
    lines[index] = row + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    return index + 1


# ---------------------------------------------------------------------------
# The BibTeX stays clean


@pytest.mark.parametrize(
    ("field", "where"), [("reviewref", "reference_map.csv"), ("source", "reference_provenance.csv")]
)
def test_bib_field_that_moved_to_a_data_file_is_an_error(root, field, where):
    edit(root, BIB, "pmid = {123456}", f"pmid = {{123456}},\n  {field} = {{15; 16}}")
    line = line_containing(root, BIB, "@article{doe2005tricyclic")
    find(errors(root), BIB, line, field, "'doe2005tricyclic'", where, "expected none")


def test_bib_malformed_pmcid(root):
    edit(root, BIB, "pmid = {123456}", "pmid = {123456},\n  pmcid = {123}")
    line = line_containing(root, BIB, "@article{doe2005tricyclic")
    find(errors(root), BIB, line, "pmcid", "'123'", "PMC followed by digits")


# ---------------------------------------------------------------------------
# reference_map.csv


def test_every_number_needs_a_row(root):
    path = root / MAP
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(("3,", "4,", "5,", "200,"))]
    path.write_text("".join(kept), encoding="utf-8")
    find(errors(root), MAP, 0, "ref", "3-5, 200", "1 to 224")


def test_numbers_are_unique(root):
    line = replace_map_row(root, 30, "29,,unresolved,,book/neuroimmunology/introduction,again")
    find(errors(root), MAP, line, "ref", "'29'", "repeats line")
    find(errors(root), MAP, 0, "ref", "30", "have no row")


def test_number_outside_the_article(root):
    with (root / MAP).open("a", encoding="utf-8") as handle:
        handle.write("225,,unresolved,,book/neuroimmunology/introduction,too far\n")
    line = len((root / MAP).read_text(encoding="utf-8").splitlines())
    find(errors(root), MAP, line, "ref", "'225'", "maximum 224")


def test_key_must_be_in_the_bibliography(root):
    line = replace_map_row(
        root, 12, "12,smith2010fluoxetin,exact,,book/antidepressants/ssri,typo in the key"
    )
    find(
        errors(root),
        MAP,
        line,
        "key",
        "'smith2010fluoxetin'",
        "references.bib",
        "did you mean 'smith2010fluoxetine'",
    )


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        (
            "12,smith2010fluoxetine,unresolved,,book/antidepressants/ssri,x",
            "expected exact or probable",
        ),
        ("13,,exact,,book/neuroimmunology/introduction,x", "expected 'unresolved'"),
    ],
)
def test_confidence_agrees_with_the_key(root, row, fragment):
    number = int(row.split(",", 1)[0])
    line = replace_map_row(root, number, row)
    find(errors(root), MAP, line, "confidence", fragment)


def test_confidence_enum(root):
    line = replace_map_row(root, 12, "12,smith2010fluoxetine,certain,,book/antidepressants/ssri,x")
    find(errors(root), MAP, line, "confidence", "'certain'", "exact, probable, unresolved")


def test_group_must_hold_its_own_number(root):
    line = replace_map_row(
        root, 15, '15,doe2005tricyclic,probable,"16,17",book/antidepressants/tca,x'
    )
    find(errors(root), MAP, line, "group", "'16,17'", "own number 15")


def test_group_printed_as_a_range_is_accepted(root):
    replace_map_row(root, 15, "15,doe2005tricyclic,probable,14-16,book/antidepressants/tca,x")
    assert errors(root) == []


def test_malformed_group(root):
    line = replace_map_row(
        root, 15, "15,doe2005tricyclic,probable,15 and 16,book/antidepressants/tca,x"
    )
    find(errors(root), MAP, line, "group", "'15 and 16'", "pattern")


def test_map_chapter_must_be_in_the_toc(root):
    line = replace_map_row(root, 12, "12,smith2010fluoxetine,exact,,book/antidepressants/snri,x")
    find(errors(root), MAP, line, "chapter", "'book/antidepressants/snri'", "_toc.yml")


def test_map_resolves_numbers_for_the_report_and_the_citation_check(root):
    result = validate(root)
    report = result.reference_report()
    assert report["resolved"] == [12, 15, 16, 20]
    assert report["keys_by_number"][16] == ["doe2005tricyclic"]
    # EV0006 cites only the source article at number 9; once 9 resolves, the row is warned.
    replace_map_row(root, 9, "9,lee2001imipramine,probable,,book/neuroimmunology/introduction,x")
    warned = [p for p in validate_root(root) if p.field == "citation" and p.severity == "warning"]
    assert [p.line for p in warned] == [8]
    assert "9 -> lee2001imipramine" in warned[0].message


def test_a_key_cited_only_by_the_map_counts_as_used(root):
    with (root / BIB).open("a", encoding="utf-8") as handle:
        handle.write(
            "\n@article{new2020work,\n  author = {New, A.},\n  title = {Only in the map},\n  year = {2020}\n}\n"
        )
    assert any("new2020work" in p.message for p in validate_root(root))
    replace_map_row(root, 30, "30,new2020work,exact,,book/neuroimmunology/introduction,x")
    assert validate_root(root) == []


# ---------------------------------------------------------------------------
# reference_provenance.csv


def provenance_line(root: Path, text: str) -> int:
    return line_containing(root, PROVENANCE, text)


@pytest.mark.parametrize(
    ("record", "fragment"),
    [
        ("http://47.251.13.51:8081/123456", "expected 'https://pubmed.ncbi.nlm.nih.gov/123456/'"),
        ("https://pubmed.example-mirror.org/123456/", "not a canonical host"),
        ("https://pubmed.ncbi.nlm.nih.gov/654321/", "not the canonical record of pmid '123456'"),
    ],
)
def test_identifier_record_must_be_its_canonical_record(root, record, fragment):
    edit(root, PROVENANCE, "https://pubmed.ncbi.nlm.nih.gov/123456/", record)
    line = provenance_line(root, "doe2005tricyclic")
    find(errors(root), PROVENANCE, line, "record", repr(record), fragment)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("https://www.scribd.com/document/1", "www.scribd.com, which is not a canonical host"),
        ("https://93.184.216.34/paper", "raw IP address"),
        ("http://www.nature.com/articles/fixture", "https://"),
        ("https://www.nature.com:8443/articles/fixture", "port 8443"),
    ],
)
def test_url_record_must_be_on_a_canonical_host(root, url, fragment):
    edit(
        root,
        PROVENANCE,
        "https://www.nature.com/articles/fixture,https://www.nature.com/articles/fixture",
        f"{url},{url}",
    )
    line = provenance_line(root, "lee2001imipramine")
    find(errors(root), PROVENANCE, line, "record", fragment)


def test_value_must_match_the_bibliography(root):
    edit(root, PROVENANCE, "doe2005tricyclic,pmid,123456,", "doe2005tricyclic,pmid,123457,")
    line = provenance_line(root, "doe2005tricyclic")
    find(errors(root), PROVENANCE, line, "value", "'123457'", "'123456'")


def test_identifier_the_entry_lacks(root):
    with (root / PROVENANCE).open("a", encoding="utf-8") as handle:
        handle.write("doe2005tricyclic,doi,10.1000/x,https://doi.org/10.1000/x,canonical\n")
    line = provenance_line(root, "doe2005tricyclic,doi")
    find(errors(root), PROVENANCE, line, "value", "'10.1000/x'", "not in entry 'doe2005tricyclic'")


def test_provenance_key_must_be_in_the_bibliography(root):
    edit(root, PROVENANCE, "doe2005tricyclic,pmid", "doe2005tricyclik,pmid")
    line = provenance_line(root, "doe2005tricyclik")
    find(
        errors(root),
        PROVENANCE,
        line,
        "key",
        "'doe2005tricyclik'",
        "did you mean 'doe2005tricyclic'",
    )


def test_seen_enum(root):
    edit(root, PROVENANCE, "123456/,secondary", "123456/,mirror")
    line = provenance_line(root, "doe2005tricyclic")
    find(errors(root), PROVENANCE, line, "seen", "'mirror'", "canonical, secondary")


@pytest.mark.parametrize("field", ["doi", "pmid"])
def test_every_bib_identifier_needs_a_provenance_row(root, field):
    owner = {"doi": "smith2010fluoxetine", "pmid": "doe2005tricyclic"}[field]
    path = root / PROVENANCE
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(
        "".join(row for row in lines if not row.startswith(f"{owner},{field},")), encoding="utf-8"
    )
    line = line_containing(root, BIB, f"@article{{{owner}")
    find(errors(root), BIB, line, field, f"'{owner}'", "reference_provenance.csv")


def test_pmcid_needs_a_provenance_row_and_a_pmc_record(root):
    edit(root, BIB, "pmid = {123456}", "pmid = {123456},\n  pmcid = {PMC42}")
    line = line_containing(root, BIB, "@article{doe2005tricyclic")
    find(errors(root), BIB, line, "pmcid", "'PMC42'", "no row")
    with (root / PROVENANCE).open("a", encoding="utf-8") as handle:
        handle.write(
            "doe2005tricyclic,pmcid,PMC42,https://www.ncbi.nlm.nih.gov/pmc/articles/PMC42/,canonical\n"
        )
    assert errors(root) == []


# ---------------------------------------------------------------------------
# The host allowlist and loading


@pytest.mark.parametrize(
    "url",
    [
        "https://doi.org/10.1/x",
        "https://pubmed.ncbi.nlm.nih.gov/1/",
        "https://www.nature.com/articles/x",
        "https://link.springer.com/article/x",
    ],
)
def test_canonical_hosts_accepted(url):
    assert reference_map.host_problem(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://nature.com.evil.example/x",
        "https://ouci.dntb.gov.ua/en/works/1",
        "ftp://doi.org/10.1/x",
        "https://[2001:db8::1]/x",
    ],
)
def test_other_hosts_rejected(url):
    assert reference_map.host_problem(url)


def test_canonical_record_urls():
    assert reference_map.canonical_record("pmid", "123") == "https://pubmed.ncbi.nlm.nih.gov/123/"
    assert reference_map.canonical_record("doi", "10.1/x") == "https://doi.org/10.1/x"
    assert (
        reference_map.canonical_record("pmcid", "PMC9")
        == "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC9/"
    )


def test_expand_group():
    assert reference_map.expand_group("156-158") == [156, 157, 158]
    assert reference_map.expand_group("7,8") == [7, 8]
    assert reference_map.expand_group("") == []
    with pytest.raises(ValueError):
        reference_map.expand_group("7;8")


def test_load_map_and_provenance(root):
    frame = reference_map.load_map(root)
    assert len(frame) == 224 and frame["number"].tolist() == list(range(1, 225))
    assert reference_map.keys_by_number(frame) == {
        12: ["smith2010fluoxetine"],
        15: ["doe2005tricyclic"],
        16: ["doe2005tricyclic"],
        20: ["lee2001imipramine"],
    }
    assert reference_map.numbers_by_key(frame)["doe2005tricyclic"] == [15, 16]
    provenance = reference_map.load_provenance(root)
    assert provenance.loc[provenance["key"] == "doe2005tricyclic", "seen"].tolist() == ["secondary"]


def test_coverage_by_chapter_counts(root):
    frame = reference_map.load_map(root)
    chapters = [
        "book/neuroimmunology/introduction",
        "book/antidepressants/ssri",
        "book/antidepressants/tca",
    ]
    table = reference_map.coverage_by_chapter(frame, chapters)
    assert table["chapter"].tolist() == chapters
    assert table["resolved"].tolist() == [0, 1, 3]
    assert table["unresolved"].tolist() == [220, 0, 0]
    assert table["total"].sum() == 224
    assert table.loc[0, "unresolved_numbers"][:3] == [1, 2, 3]


def test_coverage_of_the_repository_map_adds_up():
    repo = Path(__file__).resolve().parents[1]
    frame = reference_map.load_map(repo)
    table = reference_map.coverage_by_chapter(frame, sorted(set(frame["chapter"])))
    assert table["resolved"].sum() == int((frame["key"] != "").sum())
    assert table["total"].sum() == 224
    assert isinstance(table, pd.DataFrame)
