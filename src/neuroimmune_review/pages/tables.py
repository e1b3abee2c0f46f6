"""Evidence tables generated from the CSV for the chapters."""

from __future__ import annotations

import pandas as pd

from .. import data
from ..render import Table
from . import citations, current
from .counts import sources_phrase
from .downloads import download_href

COLUMNS = {
    "id": "ID",
    "claim_type": "Claim type",
    "intervention": "Intervention",
    "comparator": "Compared with",
    "mediator": "Mediator",
    "direction": "Direction",
    "reported_as": "Reported as",
    "evidence_type": "Evidence",
    "species": "Species",
    "sample": "Sample",
    "dose": "Dose",
    "source": "Source",
    "note": "Note",
}

# What a phone shows of each finding (1), what a tablet adds (2); the rest (3) joins at desktop
# width and is always one tap away in the row's details.
PRIORITY = {
    "Intervention": 1,
    "Mediator": 1,
    "Direction": 1,
    "Source": 1,
    "Claim type": 2,
    "Evidence": 2,
    "Species": 2,
    "Compared with": 3,
    "Reported as": 3,
    "Sample": 2,
    "Dose": 3,
    "Note": 3,
    "ID": 3,
}

# A page lists at most this many findings inline (every page of the review holds fewer
# today: 35 at most); beyond it the table shows the first ones and links to the full data
# download, so a page stays light however large the evidence grows (200 rows were 190 kB).
MAX_INLINE_ROWS = 60


def findings_table(rows: pd.DataFrame, caption: str) -> Table:
    """The rows in *rows*, sorted by intervention and mediator, with linked sources."""
    total = len(rows)
    counted = sources_phrase(rows)
    rows = rows.sort_values(["intervention", "mediator", "direction", "id"]).reset_index(drop=True)
    more = None
    if total > MAX_INLINE_ROWS:
        rows = rows.iloc[:MAX_INLINE_ROWS]
        more = (
            f"The first {MAX_INLINE_ROWS} of {total} rows are listed here; "
            f"download every row as evidence.csv.",
            download_href("evidence.csv"),
        )
    shown = rows.assign(
        source=citations.link_lists(rows["citation"]),
        claim_type=rows["claim_type"].map(data.claim_type_labels()),
        direction=rows["direction"].map(data.direction_labels()),
        evidence_type=rows["evidence_type"].map(data.evidence_type_labels()),
    )[list(COLUMNS)].rename(columns=COLUMNS)
    return Table(
        shown,
        f"{caption} ({counted})",
        more=more,
        priority=PRIORITY,
        noun="findings",
    )


def class_evidence(drug_class: str) -> Table:
    return findings_table(data.evidence(drug_class=drug_class), f"Evidence table: {drug_class}")


def chapter_evidence(caption: str = "Evidence table", *, chapter: str | None = None) -> Table:
    """The findings this chapter discusses (the chapter: the page being built)."""
    return findings_table(data.evidence(chapter=current.page(chapter)), caption)
