"""Generated prose: counts and lists computed from the data, never typed into a chapter."""

from __future__ import annotations

import pandas as pd

from .. import data
from ..render import Table, escape_markdown, markdown


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _sources(rows: pd.DataFrame) -> int:
    return len({key for cell in rows["citation"] for key in data.split_list(cell)})


def _top(rows: pd.DataFrame, direction: str, limit: int = 4) -> str:
    counts = rows[rows["direction"] == direction]["mediator"].value_counts()
    return escape_markdown([f"{m} ({n})" for m, n in counts.head(limit).items()]) or "none"


def findings_summary(rows: pd.DataFrame, subject: str) -> str:
    """One paragraph of counts for a set of findings."""
    if rows.empty:
        return f"The evidence data set holds no findings on {subject} yet."
    by_direction = rows["direction"].value_counts()
    by_type = rows["evidence_type"].map(data.EVIDENCE_TYPE_LABELS).value_counts()
    contested = rows.groupby(["intervention", "mediator"])["direction"].nunique()
    contested = contested[contested > 1]
    drugs = sorted(rows.loc[rows["intervention_kind"] == "drug", "intervention"].unique())
    parts = [
        f"The data set holds **{_plural(len(rows), 'finding')}** on {subject} from "
        f"{_plural(_sources(rows), 'cited source')}"
        + (f", covering {escape_markdown(drugs)}" if drugs else "")
        + ".",
        f"They report {by_direction.get('decrease', 0)} decreases, {by_direction.get('increase', 0)} increases, "
        f"{by_direction.get('no_change', 0)} findings of no change and {by_direction.get('mixed', 0)} mixed results.",
        "By evidence type: "
        + escape_markdown([f"{t.lower()} {n}" for t, n in by_type.items()])
        + ".",
        f"Most often reduced: {_top(rows, 'decrease')}. Most often raised: {_top(rows, 'increase')}.",
    ]
    if len(contested):
        pairs = [f"{i} and {m}" for i, m in contested.index]
        parts.append(
            f"Sources disagree on direction for {_plural(len(contested), 'pair')}: {escape_markdown(pairs)}."
        )
    return " ".join(parts)


def class_summary(drug_class: str):
    return markdown(
        findings_summary(data.evidence(drug_class=drug_class), f"the {drug_class} class")
    )


def chapter_summary(chapter: str, subject: str):
    return markdown(findings_summary(data.evidence(chapter=chapter), subject))


def at_a_glance() -> Table:
    """Headline counts for the home page (an HTML table: cell Markdown output has no tables)."""
    rows = data.evidence()
    classes = sorted(set(rows["drug_class"]) & set(data.DRUG_CLASSES))
    counts = pd.DataFrame(
        [
            {
                "Findings": len(rows),
                "Cited sources": _sources(rows),
                "Antidepressant classes": len(classes),
                "Mediators": rows["mediator"].nunique(),
                "Interventions and conditions": rows["intervention"].nunique(),
            }
        ]
    )
    return Table(counts, "The evidence data set in numbers")
