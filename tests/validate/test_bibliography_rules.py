"""Rules of references.bib (validate/bibliography.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_review import (
    BIB,
    edit,
    errors,
    find,
    line_containing,
    make_root,
    run_cli,
)

from neuroimmune_review.validate import (
    WARNING,
    validate_root,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_root(tmp_path)


def test_bib_parse_failure_has_line(root):
    with (root / BIB).open("a", encoding="utf-8") as handle:
        handle.write("\n@article{broken2020entry,\n  author = {Unclosed, Brace,\n  year = {2020}\n")
    line = (root / BIB).read_text(encoding="utf-8").splitlines().index(
        "@article{broken2020entry,"
    ) + 1
    find(errors(root), BIB, line, "entry", "'@article{broken2020entry,'", "could not be parsed")


def test_bib_duplicate_key(root):
    with (root / BIB).open("a", encoding="utf-8") as handle:
        handle.write(
            "\n@article{lee2001imipramine,\n  author = {Lee, M},\n  title = {Again},\n  year = {2001}\n}\n"
        )
    first = line_containing(root, BIB, "@article{lee2001imipramine")
    second = len((root / BIB).read_text(encoding="utf-8").splitlines()) - 4
    find(errors(root), BIB, second, "key", "duplicate key 'lee2001imipramine'", f"line {first}")


def test_bib_duplicate_doi(root):
    edit(root, BIB, "pmid = {123456}", "doi = {10.1000/FIXTURE.1}")
    find(
        errors(root),
        BIB,
        line_containing(root, BIB, "@article{doe2005tricyclic"),
        "doi",
        "'10.1000/FIXTURE.1'",
        "'smith2010fluoxetine'",
        f"line {line_containing(root, BIB, '@article{smith2010')}",
    )


@pytest.mark.parametrize(
    "doi", ["https://doi.org/10.1000/fixture.1", "10.10/x", "10.1000/with space"]
)
def test_bib_malformed_doi(root, doi):
    edit(root, BIB, "doi = {10.1000/fixture.1}", f"doi = {{{doi}}}")
    find(
        errors(root),
        BIB,
        line_containing(root, BIB, "@article{smith2010"),
        "doi",
        repr(doi),
        "malformed",
    )


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,<script>", "www.example.org/x"]
)
def test_bib_url_must_be_a_web_address(root, url):
    edit(root, BIB, "doi = {10.1000/fixture.1}", f"doi = {{10.1000/fixture.1}},\n  url = {{{url}}}")
    find(
        errors(root),
        BIB,
        line_containing(root, BIB, "@article{smith2010"),
        "url",
        repr(url),
        "https://",
    )


def test_bib_web_url_is_accepted(root):
    edit(
        root,
        BIB,
        "doi = {10.1000/fixture.1}",
        "doi = {10.1000/fixture.1},\n  url = {https://example.org/paper}",
    )
    assert not [p for p in errors(root) if p.field == "url"]


@pytest.mark.parametrize("field", ["author", "title", "year"])
def test_bib_missing_required_fields(root, field):
    text = (root / BIB).read_text(encoding="utf-8")
    start = text.index("@article{lee2001imipramine")
    block = text[start:]
    kept = "\n".join(
        line for line in block.splitlines() if not line.strip().startswith(f"{field} =")
    )
    (root / BIB).write_text(text[:start] + kept + "\n", encoding="utf-8")
    line = line_containing(root, BIB, "@article{lee2001imipramine")
    find(errors(root), BIB, line, field, "'lee2001imipramine'", f"has no {field}")


def test_bib_pmid_digits_only(root):
    edit(root, BIB, "pmid = {123456}", "pmid = {PMID:123456}")
    find(
        errors(root),
        BIB,
        line_containing(root, BIB, "@article{doe2005"),
        "pmid",
        "'PMID:123456'",
        "digits",
    )


def test_unused_bib_entry_is_a_warning_only(root):
    with (root / BIB).open("a", encoding="utf-8") as handle:
        handle.write(
            "\n@book{unused1999book,\n  author = {Nobody, N.},\n  title = {Never cited},\n  year = {1999}\n}\n"
        )
    problems = validate_root(root)
    line = line_containing(root, BIB, "@book{unused1999book")
    problem = find(problems, BIB, line, "key", "'unused1999book'", "not cited")
    assert problem.severity == WARNING
    assert errors(root) == []
    assert run_cli("--root", str(root)).returncode == 0


def test_book_citations_count_as_uses(root):
    with (root / BIB).open("a", encoding="utf-8") as handle:
        handle.write(
            "\n@book{book1999cited,\n  author = {Nobody, N.},\n  title = {Cited in a page},\n  year = {1999}\n}\n"
        )
    (root / "book").mkdir()
    (root / "book" / "page.md").write_text("As shown {cite:p}`book1999cited`.\n", encoding="utf-8")
    assert validate_root(root) == []


def test_missing_bib(root):
    (root / BIB).unlink()
    find(errors(root), BIB, 0, "file", "file not found")
