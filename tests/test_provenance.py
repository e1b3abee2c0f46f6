"""Provenance records what a page read and detects exactly which answers changed."""

import shutil
from pathlib import Path

import pytest

from neuroimmune_review import data, provenance

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo_copy(tmp_path, monkeypatch):
    for name in ("_toc.yml", "references.bib"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "data", tmp_path / "data")
    monkeypatch.setenv("REVIEW_ROOT", str(tmp_path))
    yield tmp_path
    provenance._page = None


def _execute_page(docname, **query):
    provenance.begin_page(docname)
    data.evidence(**query)
    provenance._page = None


def test_stale_pages_follow_the_data_they_read(repo_copy):
    _execute_page("book/antidepressants/ssri", drug_class="SSRI")
    _execute_page("book/antidepressants/tca", drug_class="TCA")
    pages = ["book/antidepressants/ssri", "book/antidepressants/tca", "book/never-executed"]
    assert provenance.stale_pages(repo_copy, pages) == []
    with (repo_copy / "data/evidence.csv").open("a", encoding="utf-8") as handle:
        handle.write(
            "EV9999,intervention_effect,amitriptyline,vehicle or untreated,IL-6,decrease,reduced,"
            "in_vitro,rat,probe,,nava2025modulation,124,book/antidepressants/tca,probe\n"
        )
    assert provenance.stale_pages(repo_copy, pages) == ["book/antidepressants/tca"]


def test_vocabulary_change_reaches_pages_through_the_join(repo_copy):
    _execute_page("book/antidepressants/ssri", drug_class="SSRI")
    vocab = repo_copy / "data/interventions.csv"
    text = vocab.read_text(encoding="utf-8")
    assert "\nfluvoxamine,drug,SSRI," in text  # a drug with SSRI rows in the evidence
    vocab.write_text(
        text.replace("\nfluvoxamine,drug,SSRI,", "\nfluvoxamine,drug,SNRI,"), encoding="utf-8"
    )
    assert provenance.stale_pages(repo_copy, ["book/antidepressants/ssri"]) == [
        "book/antidepressants/ssri"
    ]


def test_corrupt_record_counts_as_stale(repo_copy):
    _execute_page("book/antidepressants/ssri", drug_class="SSRI")
    provenance.record_path("book/antidepressants/ssri", repo_copy).write_text(
        "{not json", encoding="utf-8"
    )
    assert provenance.stale_pages(repo_copy, ["book/antidepressants/ssri"]) == [
        "book/antidepressants/ssri"
    ]
