"""Aggregates extended by appended rows are exactly the aggregates computed from all rows."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from neuroimmune_review import data, provenance
from neuroimmune_review.pages.synthesis import contested, strata

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def review(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "review"
    root.mkdir()
    for name in ("_toc.yml", "references.bib"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "data", root / "data")
    monkeypatch.setenv("REVIEW_ROOT", str(root))
    monkeypatch.setattr(provenance, "_page", None)
    return root


def _append(root: Path, **changes: str) -> None:
    """Append a copy of the first venlafaxine effect row with *changes* (a new id and sample)."""
    path = root / "data/evidence.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    template = next(
        r
        for r in rows
        if r["claim_type"] == "intervention_effect" and r["intervention"] == "venlafaxine"
    )
    number = len(rows) + 9000
    row = {**template, "id": f"EV{number:06d}", "sample": f"extension probe {number}", **changes}
    buffer = io.StringIO()
    csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n").writerow(row)
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(buffer.getvalue())


APPENDS = [
    {},  # a new finding of a known source, intervention and mediator
    {"direction": "increase", "mediator": "TNF-α"},  # may make a pair contested
    {"citation": "zz2099extension", "review_ref": ""},  # a source no row had before
    {"mediator": "a mediator no row names", "direction": "decrease"},
    {"intervention": "fluoxetine", "direction": "no_change", "mediator": "IL-1β"},
]


@pytest.mark.parametrize(
    ("table", "full", "compute", "filters"),
    [
        ("explorer strata", strata.explorer_strata, "_strata_of", {}),
        (
            "contested pairs",
            contested.contested_pairs,
            "_pairs_of",
            {"claim_type": "intervention_effect"},
        ),
    ],
)
def test_each_append_gives_the_table_of_all_rows(
    review, monkeypatch, table, full, compute, filters
):
    module = strata if table == "explorer strata" else contested
    computed = module.__dict__[compute]
    sizes: list[int] = []

    def counted(rows, labels):
        sizes.append(len(rows))
        return computed(rows, labels)

    monkeypatch.setattr(module, compute, counted)
    full.__wrapped__()  # computes every row, and keeps the table
    assert sizes == [len(data.evidence(**filters))]
    for changes in APPENDS:
        _append(review, **changes)
        sizes.clear()
        extended = full.__wrapped__()
        every = len(data.evidence(**filters))
        assert sizes and max(sizes) < every, f"{table}: computed again from every row"
        expected = full(data.evidence(**filters))
        pd.testing.assert_frame_equal(extended, expected)


def test_a_changed_label_or_an_edit_computes_everything_again(review, monkeypatch):
    sizes: list[int] = []
    computed = strata._strata_of
    monkeypatch.setattr(
        strata, "_strata_of", lambda rows, labels: sizes.append(len(rows)) or computed(rows, labels)
    )
    strata.explorer_strata.__wrapped__()
    # An earlier row edited: the kept rows are not the first rows any more.
    path = review / "data/evidence.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("extension", "x", 1).replace(",rat,", ",mouse,", 1), encoding="utf-8"
    )
    sizes.clear()
    got = strata.explorer_strata.__wrapped__()
    assert sizes == [len(data.evidence())]
    pd.testing.assert_frame_equal(got, strata.explorer_strata(data.evidence()))
    # A new source whose label is an existing source's: both labels change, everywhere.
    known = data.evidence()["citation"].value_counts().index[0]
    twin = known + "b"
    bib = review / "references.bib"
    entry = next(e for e in bib.read_text(encoding="utf-8").split("\n@") if f"{{{known}," in e)
    bib.write_text(
        bib.read_text(encoding="utf-8") + "\n@" + entry.replace(f"{{{known},", f"{{{twin},", 1),
        encoding="utf-8",
    )
    strata.explorer_strata.__wrapped__()  # the bibliography changed: computed again, and kept
    _append(review, citation=twin, review_ref="")
    sizes.clear()
    got = strata.explorer_strata.__wrapped__()
    assert sizes == [len(data.evidence())]
    pd.testing.assert_frame_equal(got, strata.explorer_strata(data.evidence()))
