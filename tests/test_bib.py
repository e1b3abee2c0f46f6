"""Tests of the bibtexparser 2 adapter (src/neuroimmune_review/bib.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroimmune_review.bib import (
    SOURCE_ARTICLE_KEY,
    SOURCE_REFERENCE_COUNT,
    author_surnames,
    format_number_ranges,
    format_reference_report,
    load_bibliography,
    parse_bibliography,
    parse_number_list,
    reference_report,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bib"
REPO_BIB = Path(__file__).resolve().parents[1] / "references.bib"


@pytest.fixture(scope="module")
def labels():
    return load_bibliography(FIXTURES / "labels.bib")


def test_entries_have_lower_case_fields_without_outer_braces(labels):
    entry = labels.entries["sutcigil2007pro"]
    assert entry["author"].startswith("Sutcigil, Levent")
    assert entry["title"] == "Pro- and Anti-Inflammatory Cytokine Balance in Major Depression"
    assert (
        labels.entries["fornaro2011increase"]["title"] == "Increase in {IL-6} levels"
    )  # inner braces kept
    assert labels.entries["lee2001single"]["title"] == "A single author"  # quoted value
    assert labels.entries["fornaro2011increase"]["year"] == "2011"  # bare number
    assert labels.entry_types["who2020report"] == "misc"
    assert labels.failed == [] and labels.read_error == ""


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("sutcigil2007pro", "Sutcigil et al. 2007"),
        ("fornaro2011increase", "Fornaro & Martino 2011"),
        ("lee2001single", "Lee 2001"),
        ("who2020report", "World Health Organization 2020"),
        ("smith2010others", "Smith et al. 2010"),
        ("anon", "anon n.d."),
        ("not-in-the-file", "not-in-the-file"),
    ],
)
def test_short_label(labels, key, label):
    assert labels.short_label(key) == label


def test_an_author_list_is_split_once_and_each_caller_gets_its_own_list(monkeypatch):
    from neuroimmune_review import bib

    splits = []
    real = bib.person_names
    monkeypatch.setattr(bib, "person_names", lambda text: splits.append(text) or real(text))
    bib._author_surnames.cache_clear()
    field = "Roe, Richard and Moe, M and Poe, P"
    first = author_surnames(field)
    first[0].append("changed by a caller")
    assert author_surnames(field) == (["Roe", "Moe", "Poe"], False)
    assert splits == [field]
    bib._author_surnames.cache_clear()


def test_line_of(labels):
    assert labels.line_of("sutcigil2007pro") == 2
    assert labels.line_of("fornaro2011increase") == 11
    assert labels.line_of("missing") == 0


def test_author_surnames_respects_braces():
    assert author_surnames("{Smith and Sons} and Doe, J") == (["Smith and Sons", "Doe"], False)
    # bibtexparser's reading: the von part belongs to the surname, whichever way it is written.
    assert author_surnames("Jane van Doe AND Roe, R and others") == (["van Doe", "Roe"], True)
    assert author_surnames("van Doe, Jane and Smith, Jr., John") == (["van Doe", "Smith"], False)
    assert author_surnames("") == ([], False)


def test_failures_have_line_numbers():
    bibliography = load_bibliography(FIXTURES / "broken.bib")
    assert list(bibliography.entries) == ["good2001first", "after2003brace"]
    assert bibliography.entries["good2001first"]["author"] == "Good, A"  # the first definition wins
    kinds = {(failure.kind, failure.line, failure.key) for failure in bibliography.failed}
    assert kinds == {
        ("duplicate_key", 7, "good2001first"),
        ("parse_error", 13, "broken2002unclosed"),
    }
    unclosed = next(f for f in bibliography.failed if f.kind == "parse_error")
    assert "broken2002unclosed" in unclosed.message and "line 18" in unclosed.message
    assert bibliography.line_of("after2003brace") == 18


def test_unclosed_brace_at_end_of_file():
    bibliography = parse_bibliography("@article{x2000open,\n  title = {never closed\n")
    assert bibliography.entries == {}
    assert [(f.kind, f.line, f.key) for f in bibliography.failed] == [
        ("parse_error", 1, "x2000open")
    ]


def test_missing_and_undecodable_files_do_not_raise(tmp_path):
    missing = load_bibliography(tmp_path / "nope.bib")
    assert missing.entries == {} and "cannot read" in missing.read_error
    latin1 = tmp_path / "latin1.bib"
    latin1.write_bytes(
        b"@article{a2000b,\n  author = {M\xfcller, A},\n  title = {T},\n  year = {2000}\n}\n"
    )
    bibliography = load_bibliography(latin1)
    assert "0xfc" in bibliography.read_error and bibliography.read_error_line == 2
    assert "a2000b" in bibliography.entries  # still parsed, with a replacement character


def test_parse_number_list():
    assert parse_number_list("12; 15") == ([12, 15], [])
    assert parse_number_list("12,15;x") == ([12, 15], ["x"])
    assert parse_number_list("") == ([], [])


def test_format_number_ranges():
    assert format_number_ranges([8, 1, 2, 3, 5, 7]) == "1-3, 5, 7-8"
    assert format_number_ranges([]) == ""


# Numbers as data/reference_map.csv would resolve them (a work may stand behind two numbers).
KEYS_BY_NUMBER = {
    12: ["smith2010others"],
    20: ["lee2001single"],
    101: ["sutcigil2007pro"],
    117: ["fornaro2011increase"],
    118: ["fornaro2011increase"],
    300: ["smith2010others"],  # outside the article's 1-224: ignored
}


def test_reference_report_counts(labels):
    report = reference_report(labels, keys_by_number=KEYS_BY_NUMBER)
    assert report["reference_count"] == SOURCE_REFERENCE_COUNT == 224
    assert report["resolved"] == [12, 20, 101, 117, 118]
    assert report["resolved_count"] == 5 and report["unresolved_count"] == 219
    assert 1 in report["unresolved"] and 12 not in report["unresolved"]
    assert report["keys_by_number"][117] == ["fornaro2011increase"]
    assert "source_only_count" not in report


def test_reference_report_without_a_map_resolves_nothing(labels):
    report = reference_report(labels)
    assert report["resolved"] == [] and report["unresolved_count"] == 224


def test_reference_report_with_evidence(labels):
    evidence = pd.DataFrame(
        {
            "id": ["EV0001", "EV0002", "EV0003", "EV0004"],
            "citation": [
                SOURCE_ARTICLE_KEY,
                "sutcigil2007pro",
                f" {SOURCE_ARTICLE_KEY} ",
                f"lee2001single;{SOURCE_ARTICLE_KEY}",
            ],
            "review_ref": ["7;8", "101", "20", "20;21"],
        }
    )
    report = reference_report(labels, evidence, keys_by_number=KEYS_BY_NUMBER)
    assert report["source_only_ids"] == ["EV0001", "EV0003"]
    assert report["source_only_count"] == 2
    assert report["source_only_review_refs"] == [7, 8, 20]
    assert report["source_only_but_resolved"] == [20]
    lines = format_reference_report(report)
    assert lines[0].startswith("References: 5 of 224 source-article reference numbers resolved")
    assert any("2 of 4" in line for line in lines)


def test_repository_bibliography_parses_cleanly():
    bibliography = load_bibliography(REPO_BIB)
    assert bibliography.read_error == ""
    assert bibliography.failed == []
    assert SOURCE_ARTICLE_KEY in bibliography.entries


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('@article{}=,"# \n%andAB0123\\')), max_size=300))
def test_parse_never_raises(text):
    bibliography = parse_bibliography(text)
    for key in bibliography.entries:
        bibliography.short_label(key)
        assert bibliography.line_of(key) >= 1
    reference_report(bibliography)
