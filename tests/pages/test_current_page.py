"""Chapter builders take the page from the build's tracker, not from a typed name."""

from __future__ import annotations

import pytest

from neuroimmune_review import charts, data, provenance, summaries, tables
from neuroimmune_review.pages import counts, current

PAGE = "book/challenges/psychedelics"


@pytest.fixture
def executing(tmp_path, monkeypatch):
    """A page 'being executed', its provenance record kept out of the repository."""
    monkeypatch.setattr(provenance, "record_path", lambda d, root=None: tmp_path / f"{d}.json")
    provenance.begin_page(PAGE)
    yield PAGE
    provenance._page = None


def test_chapter_builders_use_the_page_being_executed(executing):
    rows = data.evidence(chapter=PAGE)
    assert len(rows) > 0
    assert summaries.chapter_summary("psychedelics").data == (
        summaries.chapter_summary("psychedelics", chapter=PAGE).data
    )
    assert f"**{counts.sources_phrase(rows)}**" in summaries.chapter_summary("psychedelics").data
    assert len(tables.chapter_evidence("Evidence").frame) == len(rows)
    other = summaries.chapter_summary("x", chapter="book/challenges/vagus-nerve").data
    assert other != summaries.chapter_summary("x").data
    assert charts.chapter_effects("Effects").data.equals(
        charts.chapter_effects("Effects", chapter=PAGE).data
    )


def test_outside_a_build_the_page_must_be_named():
    provenance._page = None
    with pytest.raises(LookupError, match="no page is being executed.*chapter="):
        summaries.chapter_summary("psychedelics")
    assert current.page("book/a/b") == "book/a/b"


def test_links_are_relative_to_the_page_being_executed(executing):
    assert current.href_to("downloads") == "../../downloads"
    provenance._page = None
    assert current.href_to("downloads") == "../downloads"
