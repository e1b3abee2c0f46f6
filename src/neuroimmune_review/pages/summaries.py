"""Generated prose: counts and lists computed from the data, never typed into a chapter."""

from __future__ import annotations

import pandas as pd

from .. import data
from ..render import Table, markdown
from ..text import escape_markdown
from . import counts, current
from .counts import sources_phrase


def _sources(rows: pd.DataFrame) -> int:
    return data.n_sources(rows)


def _top(rows: pd.DataFrame, direction: str, limit: int = 4) -> str:
    """Mediators most often moved in *direction*, by distinct sources."""
    counts = (
        rows[rows["direction"] == direction]
        .groupby("mediator")["source_id"]
        .nunique()
        .sort_values(ascending=False, kind="stable")
    )
    return escape_markdown([f"{m} ({n})" for m, n in counts.head(limit).items()]) or "none"


COUNTED = ("intervention_effect",)


def findings_summary(rows: pd.DataFrame, subject: str) -> str:
    """One paragraph of counts for a set of rows: distinct sources, rows beside them."""
    if rows.empty:
        return f"The evidence data set holds no results on {subject} yet."
    claim_labels = data.claim_type_labels()
    by_claim = rows.groupby("claim_type")["source_id"].nunique()
    claims = [
        f"{claim_labels[c].lower()} {sources_phrase(rows[rows['claim_type'] == c])}"
        for c in data.claim_types()
        if c in by_claim.index
    ]
    effects = rows[rows["claim_type"].isin(COUNTED)]
    by_direction = effects.groupby("direction")["source_id"].nunique()
    by_type = effects.groupby(effects["evidence_type"].map(data.evidence_type_labels()))[
        "source_id"
    ].nunique()
    contested = (
        effects[effects["direction"] != "changed_unspecified"]
        .groupby(["intervention", "mediator"])["direction"]
        .nunique()
    )
    contested = contested[contested > 1]
    drugs = sorted(rows.loc[rows["intervention_kind"] == "drug", "intervention"].unique())
    labels = data.direction_labels()
    parts = [
        f"The data set holds **{sources_phrase(rows)}** on {subject}"
        + (f", covering {escape_markdown(drugs)}" if drugs else "")
        + ".",
        "By claim type: " + escape_markdown(claims) + ".",
    ]
    if len(effects):
        parts += [
            counts.excluded_claims_sentence(rows, COUNTED)
            + " Intervention effects by direction (distinct sources): "
            + ", ".join(
                f"{labels[d].lower()} {int(by_direction.get(d, 0))}" for d in data.directions()
            )
            + ".",
            "By evidence type: "
            + escape_markdown([f"{t.lower()} {n}" for t, n in by_type.items()])
            + ".",
            f"Most often reduced: {_top(effects, 'decrease')}. Most often raised: {_top(effects, 'increase')}.",
        ]
    if len(contested):
        pairs = [f"{i} and {m}" for i, m in contested.index]
        parts.append(
            f"Sources disagree on direction for {counts.plural(len(contested), 'pair')}: {escape_markdown(pairs)}."
        )
    return " ".join(parts)


def class_summary(drug_class: str):
    return markdown(
        findings_summary(data.evidence(drug_class=drug_class), f"the {drug_class} class")
    )


def chapter_summary(subject: str, *, chapter: str | None = None):
    """What this chapter's findings say about *subject* (the chapter: the page being built)."""
    return markdown(findings_summary(data.evidence(chapter=current.page(chapter)), subject))


def at_a_glance() -> Table:
    """Headline counts for the home page (an HTML table: cell Markdown output has no tables)."""
    rows = data.evidence()
    # unique() first: set() of a pandas string column iterates it row by row (2 s at 1000x).
    classes = sorted(set(rows["drug_class"].unique()) & set(data.drug_classes()))
    headline = pd.DataFrame(
        [
            {
                "Independent sources": _sources(rows),
                "Rows": len(rows),
                "Antidepressant classes": len(classes),
                "Mediators and outcomes": rows["mediator"].nunique(),
                "Interventions and conditions": rows["intervention"].nunique(),
            }
        ]
    )
    return Table(headline, "The evidence data set in numbers")
