"""What readers see of the searches and the screening: flow diagrams, counters, strategy, log.

Every builder reads :func:`screening_state`, a tracked query, so a page is re-executed exactly
when a search is logged, a decision is recorded or an included record gets its first finding.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..provenance import tracked
from ..render import Table, markdown
from ..text import escape_markdown
from . import prisma
from .prisma import banner_html, stamp_suffix  # noqa: F401 - their home is prisma (light to import)

SCREENING_PAGE = "book/about/screening"


# The files prisma.state reads: the three screening tables, the reasons (datapackage.json)
# and the keys the evidence cites.
@tracked(
    reads=(
        "data/searches.csv",
        "data/screening_queue.csv",
        "data/screening.csv",
        "data/datapackage.json",
        "data/evidence.csv",
    )
)
def screening_state() -> dict[str, Any]:
    return prisma.state()


def status():
    """'Last search: DATE (PubMed), N records screened, M included.' with a link to the flow diagram."""
    s = screening_state()
    c = prisma.counts_from(s)
    line = escape_markdown(prisma.status_line(s))
    if prisma.last_search(s) is None:
        return markdown(f"**{line}.**")
    return markdown(
        f"**{line}.** Of the records found, {c['awaiting']} still await screening, and "
        f"{len(c['awaiting_extraction'])} included at screening still await data extraction (a study counts as "
        "included once at least one finding cites it)."
    )


def flow(search: str | None = None) -> prisma.FlowDiagram:
    """The PRISMA 2020 flow diagram of one search, or of all searches together."""
    s = screening_state()
    if search is None:
        databases = ", ".join(sorted({x["database"] for x in s["searches"]})) or "database searches"
        title = f"Flow of records, all {len(s['searches'])} search{'es' if len(s['searches']) != 1 else ''}"
        return prisma.FlowDiagram(prisma.counts_from(s), databases, title)
    row = next((x for x in s["searches"] if x["id"] == search), None)
    if row is None:
        raise ValueError(f"no search {search!r} in data/searches.csv")
    return prisma.FlowDiagram(
        prisma.counts_from(s, search),
        row["database"],
        f"Flow of records, search {search} ({row['database']}, {row['date']})",
    )


def flows():
    """The cumulative flow diagram, then one per search (newest first)."""
    from IPython.display import HTML

    s = screening_state()
    if not s["searches"]:
        return markdown("No search has been logged yet, so there is no flow of records to show.")
    parts = [flow()._repr_html_()]
    if len(s["searches"]) > 1:
        parts += [
            flow(x["id"])._repr_html_()
            for x in sorted(s["searches"], key=lambda x: x["date"], reverse=True)
        ]
    return HTML("".join(parts))


def search_strategy() -> Table | Any:
    """Every search with its exact query, as run."""
    s = screening_state()
    if not s["searches"]:
        return markdown("No search has been logged yet.")
    rows = sorted(s["searches"], key=lambda x: (x["date"], x["id"]), reverse=True)
    frame = pd.DataFrame(
        {
            "Search": [x["id"] for x in rows],
            "Date": [x["date"] for x in rows],
            "Database": [x["database"] for x in rows],
            "Query, exactly as run": [x["query"] for x in rows],
            "Date limits": [x["date_limits"] or "none" for x in rows],
            "Records found": [x["records_found"] for x in rows],
            "Records imported": [x["records_exported"] for x in rows],
        }
    )
    return Table(frame, "Search strategy: every search, newest first (data/searches.csv)")


def exclusion_reasons() -> Table:
    """The fixed list of exclusion reasons and how often each was used."""
    s = screening_state()
    c = prisma.counts_from(s)
    frame = pd.DataFrame(
        {
            "Reason": s["reasons"],
            "Meaning": [prisma.reason_labels().get(r, "") for r in s["reasons"]],
            "Records excluded": [c["excluded_by_reason"].get(r, 0) for r in s["reasons"]],
        }
    )
    return Table(frame, "Exclusion reasons (data/screening.csv)")


def searches_whats_new():
    """The searches for the "What's new" page: what each found and where its screening stands."""
    s = screening_state()
    if not s["searches"]:
        return markdown("No literature search has been logged yet.")
    items = []
    for x in sorted(s["searches"], key=lambda x: (x["date"], x["id"]), reverse=True):
        c = prisma.counts_from(s, x["id"])
        items.append(
            f"- **{escape_markdown(x['date'])}**, search {escape_markdown(x['id'])} in {escape_markdown(x['database'])}: "
            f"{c['identified']} records identified, {c['duplicates']} duplicates removed, {c['screened']} screened "
            f"({c['excluded']} excluded, {c['included_screening']} included at screening, {c['included_synthesis']} "
            f"included in the synthesis), {c['awaiting']} awaiting screening."
        )
    return markdown("\n".join(items))
