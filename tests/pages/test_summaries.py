"""Generated prose states counts computed from the data."""

import re

from neuroimmune_review import data, summaries


def test_class_summary_counts_match_data():
    rows = data.evidence(drug_class="NDRI")
    text = summaries.findings_summary(rows, "the NDRI class")
    n_sources = rows["source_id"].nunique()
    expected = (
        f"**{n_sources} sources ({len(rows)} rows)**"
        if n_sources != len(rows)
        else f"**{n_sources} sources**"
    )
    assert expected in text
    effects = rows[rows["claim_type"] == "intervention_effect"]
    decreases = effects.loc[effects["direction"] == "decrease", "source_id"].nunique()
    assert f"decrease {decreases}" in text
    assert "Counts use intervention effects only" in text
    assert "IL-1β" in text  # bupropion's IL-1β is reported both up and down


def test_at_a_glance_counts_match_data():
    rows = data.evidence()
    table = summaries.at_a_glance()
    row = table.frame.iloc[0]
    assert row["Independent sources"] == rows["source_id"].nunique()
    assert row["Rows"] == len(rows)
    assert row["Mediators and outcomes"] == rows["mediator"].nunique()
    # An HTML table: cell Markdown output is CommonMark, which would show a pipe table raw.
    html = table._repr_html_()
    assert "<table" in html and not re.search(r"\|\s*:?-+:?\s*\|", html)


def test_summary_of_nothing_says_so():
    assert "no results" in summaries.findings_summary(data.evidence().iloc[0:0], "x")


def test_each_class_links_to_its_most_frequent_class_chapter():
    import pandas as pd

    from neuroimmune_review.pages import findings

    rows = pd.DataFrame(
        {
            "drug_class": ["SSRI", "SSRI", "SSRI", "TCA", "TCA", "TCA", "MAOI", ""],
            "chapter": [
                "book/antidepressants/ssri",
                "book/synthesis/contested",  # not a class chapter: never chosen
                "book/synthesis/contested",
                "book/antidepressants/tca",
                "book/antidepressants/b-tie",  # a tie: the first in sorted order, as mode() picks
                "book/challenges/other",
                "book/challenges/other",
                "book/antidepressants/ssri",
            ],
        }
    )
    assert findings._class_chapters(rows) == {
        "SSRI": "book/antidepressants/ssri",
        "TCA": "book/antidepressants/b-tie",
        "": "book/antidepressants/ssri",
    }
    # The home page's links, from the real data: every class with findings has its chapter.
    chapters = findings._class_chapters(data.evidence())
    assert chapters["SSRI"] == "book/antidepressants/ssri"
