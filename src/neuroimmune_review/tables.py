"""Evidence tables generated from the CSV for the chapters."""
from __future__ import annotations

import pandas as pd

from . import citations, data
from .render import Table

COLUMNS = {
    "id": "ID", "intervention": "Intervention", "mediator": "Mediator", "direction": "Direction",
    "evidence_type": "Evidence", "species": "Species", "sample": "Sample", "dose": "Dose",
    "source": "Source", "note": "Note",
}


def findings_table(rows: pd.DataFrame, caption: str) -> Table:
    """The findings in *rows*, sorted by intervention and mediator, with linked sources."""
    rows = rows.sort_values(["intervention", "mediator", "direction", "id"]).reset_index(drop=True)
    shown = rows.assign(
        source=citations.labels(rows["citation"]),
        direction=rows["direction"].map(data.DIRECTION_LABELS),
        evidence_type=rows["evidence_type"].map(data.EVIDENCE_TYPE_LABELS),
    )[list(COLUMNS)].rename(columns=COLUMNS)
    return Table(shown, f"{caption} ({len(rows)} findings)", links={"Source": citations.first_key_hrefs(rows["citation"])})


def class_evidence(drug_class: str) -> Table:
    return findings_table(data.evidence(drug_class=drug_class), f"Evidence table: {drug_class}")


def chapter_evidence(chapter: str, caption: str = "Evidence table") -> Table:
    return findings_table(data.evidence(chapter=chapter), caption)
