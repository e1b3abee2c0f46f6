"""PRISMA 2020 flow counts of the searches and the screening, and the flow diagram."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
from collections import Counter
from pathlib import Path
from typing import Any

from .. import paths
from ..curation.screening.core import (
    DECISIONS,
    QUEUE,
    SEARCHES,
    latest_decisions,
    read_table,
    reasons,
)
from ..text import split_list


def _cited_keys(root: Path) -> list[str]:
    evidence = paths.data_dir(root) / "evidence.csv"
    if not evidence.is_file():
        return []
    # Performance: every page's stamp and banner need this on every build (357k rows at 1000x).
    from ..provenance import remembered

    return remembered("prisma.cited-keys.v1", root, [evidence], lambda: _read_cited_keys(evidence))


# In provenance.MEMO_DIR: the evidence file these keys were last read from (its size and
# content digest) and the keys, so that after rows were appended only the new lines are read.
CITED_KEYS_BASE = "prisma-cited-keys.json"


def _read_cited_keys(evidence: Path) -> list[str]:
    from .. import data, provenance
    from ..files import atomic_write, write_signature

    base = paths.build_dir(evidence.parent.parent) / provenance.MEMO_DIR / CITED_KEYS_BASE
    appended = _cited_keys_after_append(evidence, base)
    if appended is not None:
        keys, digest, size = appended
    else:
        before = write_signature(evidence)
        digest = provenance.file_digest(evidence)
        # The evidence as every page reads it (one parse per process, shared with the pages),
        # and each distinct cell split once: a csv.DictReader over 357k rows took seconds at 1000x.
        table = data.read_table("evidence", evidence.parent.parent)
        keys = _keys_of(table)
        size = evidence.stat().st_size
        if write_signature(evidence) != before:
            return keys  # changed while read: nothing kept
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
        kept = {"size": size, "digest": digest, "keys": keys}
        atomic_write(base, json.dumps(kept).encode("utf-8"), durable=False)
    except OSError:
        pass  # only a shortcut: the next build reads the whole file
    return keys


def _cited_keys_after_append(evidence: Path, base: Path) -> tuple[list[str], str, int] | None:
    """(the keys, the file's digest and size now) when the file is the one of *base* plus
    appended lines: the kept keys and those of the new lines.  Only for a kept file that the
    validator read as one record per line (``data.PLAIN_PREFIX``): then the new lines are whole
    records of their own, as a read of the whole file would find them.  None: read it all.

    Performance: at 1000x, reading the whole file again after one appended row was 0.5-0.75 s
    of every one-row build, in the Sphinx process before any page ran.
    """
    from .. import data
    from ..plain_csv import appended_lines

    try:
        kept = json.loads(base.read_text(encoding="utf-8"))
        size, digest, keys = int(kept["size"]), str(kept["digest"]), list(kept["keys"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (base.parent / f"{data.PLAIN_PREFIX}{digest}").exists():
        return None
    appended = appended_lines(evidence, size, digest)
    if appended is None:
        return None
    header, frame, now_digest, now_size = appended
    frame.columns = header
    if "citation" not in header or not all(isinstance(key, str) for key in keys):
        return None
    return sorted(set(keys) | set(_keys_of(frame))), now_digest, now_size


def _keys_of(table) -> list[str]:
    if "citation" not in table:
        return []
    return sorted({key for cell in table["citation"].unique() for key in split_list(cell)})


def state(root: Path | None = None) -> dict[str, Any]:
    """Everything the screening pages depend on (JSON-serialisable, so a page can track it)."""
    root = Path(root or paths.find_root()).resolve()
    return {
        "searches": read_table(root, SEARCHES),
        "queue": [
            {k: v for k, v in row.items() if k != "abstract"} for row in read_table(root, QUEUE)
        ],
        "decisions": read_table(root, DECISIONS),
        "cited": _cited_keys(root),
        "reasons": list(reasons(root)),
    }


def counts_from(s: dict[str, Any], search_id: str | None = None) -> dict[str, Any]:
    """Flow counts for one search, or for all of them (*search_id* None)."""
    queue = [r for r in s["queue"] if search_id is None or r["search_id"] == search_id]
    screenable = {r["record_id"] for r in queue if not r["duplicate_of"]}
    decided = {k: v for k, v in latest_decisions(s["decisions"]).items() if k in screenable}
    excluded = Counter(d["reason"] for d in decided.values() if d["decision"] == "exclude")
    included = {k: d for k, d in decided.items() if d["decision"] == "include"}
    cited = set(s["cited"])
    searches = [x for x in s["searches"] if search_id is None or x["id"] == search_id]
    return {
        "searches": len(searches),
        "records_found": sum(int(x["records_found"] or 0) for x in searches),
        "identified": len(queue),
        "duplicates": len(queue) - len(screenable),
        "screenable": len(screenable),
        "screened": len(decided),
        "awaiting": len(screenable) - len(decided),
        "excluded": sum(excluded.values()),
        "excluded_by_reason": {r: excluded[r] for r in s["reasons"] if excluded[r]},
        "included_screening": len(included),
        "included_synthesis": sum(d["reference"] in cited for d in included.values()),
        "awaiting_extraction": sorted(
            k for k, d in included.items() if d["reference"] not in cited
        ),
    }


def counts(root: Path | None = None, search_id: str | None = None) -> dict[str, Any]:
    return counts_from(state(root), search_id)


def last_search(s: dict[str, Any]) -> dict[str, str] | None:
    return max(s["searches"], key=lambda x: (x["date"], x["id"]), default=None)


def overdue(s: dict[str, Any], months: int, today: dt.date | None = None) -> bool:
    """Whether the last search is older than the schedule (no search at all is overdue too)."""
    last = last_search(s)
    if last is None:
        return True
    today = today or dt.date.today()
    date = dt.date.fromisoformat(last["date"])
    due_month = date.month - 1 + months
    year, month = date.year + due_month // 12, due_month % 12 + 1
    day = min(
        date.day,
        [
            31,
            29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ][month - 1],
    )
    return today > dt.date(year, month, day)


def status_line(s: dict[str, Any]) -> str:
    """'Last search: 2026-12-01 (PubMed), 16 records screened, 1 included'."""
    last = last_search(s)
    if last is None:
        return "No literature search recorded yet"
    c = counts_from(s)
    databases = sorted({x["database"] for x in s["searches"] if x["date"] == last["date"]})
    return (
        f"Last search: {last['date']} ({', '.join(databases)}), {c['screened']} record"
        f"{'' if c['screened'] == 1 else 's'} screened, {c['included_synthesis']} included"
    )


# ---------------------------------------------------------------------------
# The flow diagram


def reason_labels() -> dict[str, str]:
    """Short meaning of each exclusion reason, from the field's categories in datapackage.json."""
    from .. import data

    return data.labels("screening", "reason")


def flow_dot(c: dict[str, Any], label: str) -> str:
    """DOT source of the PRISMA 2020 flow: identification, screening, inclusion."""
    from .figures import FONT, dot_string

    def box(text: str, n: int, extra: list[str] = ()) -> str:
        body = dot_string(text, 32)[1:-1] + f"\\n(n = {n})"
        body += "".join(f"\\n{dot_string(line)[1:-1]}" for line in extra)
        return f'"{body}"'

    meaning = reason_labels()
    reasons_text = [f"{meaning.get(r, r)}: {n}" for r, n in c["excluded_by_reason"].items()]
    boxes = {
        "found": box(f"Records identified from {label}", c["identified"]),
        "dup": box("Duplicate records removed before screening", c["duplicates"]),
        "screened": box("Records screened", c["screened"]),
        "waiting": box("Records awaiting screening", c["awaiting"]),
        "excluded": box("Records excluded", c["excluded"], reasons_text),
        "included": box("Records included at screening", c["included_screening"]),
        "synthesis": box(
            "Studies included in the synthesis (at least one finding)", c["included_synthesis"]
        ),
    }
    lines = [
        "digraph PRISMA {",
        f'  graph [rankdir=TB, bgcolor="#FFFFFF", fontname="{FONT}", nodesep=0.4, ranksep=0.35, pad=0.1];',
        f'  node [fontname="{FONT}", fontsize=10, shape=box, style=rounded, color="#333333", margin="0.12,0.06"];',
        '  edge [color="#333333", arrowsize=0.8];',
        *(f"  {name} [label={text}];" for name, text in boxes.items()),
        "  found -> dup; found -> screened; screened -> excluded; found -> waiting [style=dashed];",
        "  screened -> included; included -> synthesis;",
        "  { rank=same; found; dup; } { rank=same; screened; excluded; waiting; }",
        "}",
    ]
    return "\n".join(lines) + "\n"


class FlowDiagram:
    def __init__(self, counts: dict[str, Any], label: str, title: str):
        self.counts, self.label, self.title = counts, label, title
        self.dot = flow_dot(counts, label)

    def text_version(self) -> list[str]:
        c = self.counts
        out = [
            f"Records identified: {c['identified']}",
            f"Duplicates removed: {c['duplicates']}",
            f"Records screened: {c['screened']}",
            f"Records awaiting screening: {c['awaiting']}",
            f"Records excluded: {c['excluded']}",
        ]
        out += [
            f"Excluded, {reason_labels().get(r, r)}: {n}"
            for r, n in c["excluded_by_reason"].items()
        ]
        out += [
            f"Included at screening: {c['included_screening']}",
            f"Included in the synthesis (at least one finding): {c['included_synthesis']}",
        ]
        return out

    def _repr_html_(self) -> str:
        from .figures import inline_svg, run_dot

        ident = "prisma-" + hashlib.sha256(self.dot.encode()).hexdigest()[:12]
        svg = inline_svg(
            run_dot(self.dot),
            ident=ident,
            title=self.title,
            description="PRISMA 2020 flow diagram. " + "; ".join(self.text_version()) + ".",
        )
        steps = "".join(f"<li>{html.escape(line)}</li>" for line in self.text_version())
        return (
            f'<figure class="review-chart review-diagram review-prisma" id="{ident}" aria-labelledby="{ident}-caption">'
            f'<div class="review-diagram__canvas" style="overflow-x:auto">{svg}</div>'
            f'<figcaption id="{ident}-caption"><strong>{html.escape(self.title)}.</strong> PRISMA 2020 flow of '
            f"records, generated from data/searches.csv, data/screening_queue.csv, data/screening.csv and "
            f"data/evidence.csv.<details><summary>The diagram as text</summary><ul>{steps}</ul></details>"
            f"</figcaption></figure>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {
            "text/html": self._repr_html_(),
            "text/plain": f"{self.title}\n" + "\n".join(self.text_version()),
        }


# The footer's stamp and the banner are computed in the Sphinx process on every build: here, not
# in ``screening``, whose import pulls in the charts (render, Altair: 0.3 s of every no-op build).
def stamp_suffix(root=None) -> str:
    """The footer's screening part, computed at build time (not a page: no tracking)."""
    return status_line(state(root))


def banner_html(root, months: int) -> str:
    """The overdue-search banner, or '' when the last search is within the schedule."""
    s = state(root)
    if not overdue(s, months):
        return ""
    last = last_search(s)
    when = f"was on {last['date']}" if last else "has not been recorded"
    return (
        f'<span class="review-overdue">The literature search is overdue: the last search {html.escape(when)}, '
        f"and this review plans one every {months} month{'s' if months != 1 else ''}. Newer studies may be "
        "missing.</span>"
    )
