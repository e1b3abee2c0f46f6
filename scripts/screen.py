#!/usr/bin/env python
"""Log literature searches and screen what they found.

    python scripts/screen.py import EXPORT.ris --database PubMed --query "…" [--date 2026-12-01]
    python scripts/screen.py next [-n 10]              # unscreened records, most likely relevant first
    python scripts/screen.py decide R0005 include --curator AB
    python scripts/screen.py decide R0002 R0007 exclude --reason wrong_population --curator AB
    python scripts/screen.py status                    # progress and the flow-diagram counts
    python scripts/screen.py benchmark                 # how well the ranking works on the shipped fixture

`import` logs the search in data/searches.csv and puts every record of the export (PubMed
MEDLINE .nbib or RIS) in data/screening_queue.csv; records already in references.bib, in an
earlier search or earlier in the export (same DOI, PMID or normalised title) are marked as
duplicates and not screened. `decide` appends to data/screening.csv; an include also adds the
record to references.bib. Every write validates the whole data set first, under a lock, and
replaces files atomically: a failed command leaves every file as it was.

Exit status: 0 done, 1 invalid input or data (nothing written), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from neuroimmune_review import curation
from neuroimmune_review.curation.screening import core, rank
from neuroimmune_review.pages import prisma

DEFAULT_ROOT = Path(__file__).resolve().parents[1]
FIXTURE = DEFAULT_ROOT / "tests" / "fixtures" / "screening"
BENCHMARK_OUT = DEFAULT_ROOT / "benchmarks" / "screening-ranking"


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def cmd_import(args) -> int:
    if not Path(args.export).is_file():
        raise SystemExit(f"screen import: error: {args.export}: file not found")
    query = (
        Path(args.query_file).read_text(encoding="utf-8") if args.query_file else (args.query or "")
    )
    result = core.import_search(
        args.export,
        args.root,
        database=args.database,
        query=query,
        date=args.date,
        date_limits=args.date_limits or "",
        records_found=args.records_found,
        note=args.note or "",
        fmt=args.format,
        dry_run=args.dry_run,
    )
    for row in result.duplicates:
        print(
            f"duplicate: {row['record_id']} {_short(row['title'], 70)!r} is already known as {row['duplicate_of']}"
        )
    verb = "would log" if args.dry_run else "logged"
    print(
        f"{verb} search {result.search_id}: {len(result.records)} record(s), {len(result.new)} to screen, "
        f"{len(result.duplicates)} duplicate(s) removed",
        file=sys.stderr,
    )
    for line in result.warnings:
        print(line, file=sys.stderr)
    return 0


def cmd_next(args) -> int:
    ranked = rank.ranked_queue(args.root)
    if not ranked:
        print("nothing to screen: every record in the queue has a decision", file=sys.stderr)
        return 0
    for item in ranked[: args.n]:
        row = item.row
        ident = f"PMID {row['pmid']}" if row["pmid"] else f"doi {row['doi']}"
        print(f"{row['record_id']}  {item.score:.2f}  {_short(row['title'], 90)}")
        print(
            f"        {_short(row['authors'].split(';')[0] or 'no authors', 30)} {row['year'] or 'n.d.'} · "
            f"{_short(row['journal'], 40) or 'no journal'} · {ident}"
        )
        if args.abstracts and row["abstract"]:
            print(f"        {_short(row['abstract'], 300)}")
    print(
        f"{len(ranked)} record(s) to screen; showing {min(args.n, len(ranked))}, most likely relevant first",
        file=sys.stderr,
    )
    return 0


def cmd_decide(args) -> int:
    *ids, decision = args.items
    if decision not in ("include", "exclude"):
        raise SystemExit(
            f"screen decide: error: the last word must be include or exclude, not {decision!r}"
        )
    result = core.decide(
        ids,
        decision,
        args.root,
        curator=args.curator or "",
        reason=args.reason or "",
        note=args.note or "",
        date=args.date,
        revise=args.revise,
        dry_run=args.dry_run,
    )
    for row in result.rows:
        extra = (
            f" ({row['reason']})"
            if row["reason"]
            else (f" -> references.bib key {row['reference']}" if row["reference"] else "")
        )
        print(
            f"{'would record' if args.dry_run else 'recorded'} {row['record_id']}: {row['decision']}{extra}"
        )
    for key in result.existing_references:
        print(
            f"note: {key} was already in references.bib; the include points to it", file=sys.stderr
        )
    if decision == "include":
        print(
            "next: add its findings with scripts/add_evidence.py (citation = the key above); it counts as "
            "included in the synthesis once a finding cites it",
            file=sys.stderr,
        )
    for line in result.warnings:
        print(line, file=sys.stderr)
    return cmd_status(args, brief=True)


def cmd_status(args, brief: bool = False) -> int:
    counts = prisma.counts(args.root)
    print(
        f"screened {counts['screened']} of {counts['screenable']} record(s) "
        f"({counts['awaiting']} to go); {counts['included_screening']} included, {counts['excluded']} excluded; "
        f"{counts['included_synthesis']} included in the synthesis",
        file=sys.stderr if brief else sys.stdout,
    )
    if brief:
        return 0
    print(
        f"searches: {counts['searches']}; records identified: {counts['identified']}; duplicates removed: "
        f"{counts['duplicates']}"
    )
    for reason, number in counts["excluded_by_reason"].items():
        print(f"  excluded, {reason}: {number}")
    if counts["awaiting_extraction"]:
        print(f"included but no finding yet: {', '.join(counts['awaiting_extraction'])}")
    return 0


def cmd_benchmark(args) -> int:
    result = rank.benchmark(args.root, Path(args.export), Path(args.labels))
    BENCHMARK_OUT.parent.mkdir(exist_ok=True)
    BENCHMARK_OUT.with_suffix(".json").write_text(
        json.dumps(result, indent=1) + "\n", encoding="utf-8"
    )
    m, r = result["model"], result["random"]
    lines = [
        "# Ranking the screening queue: benchmark on the shipped fixture",
        "",
        "Written by `python scripts/screen.py benchmark`. Simulated screening of "
        f"`{result['export']}` after removing the records already in references.bib: "
        f"{result['records']} records, {result['relevant']} relevant (answer key: "
        "`tests/fixtures/screening/relevance.csv`). The curator always takes the top-ranked record and the "
        f"model (TF-IDF + naive Bayes, the {result['prior_relevant']} bibliography entries as relevant prior "
        "knowledge) is retrained after each decision. Random order: mean of "
        f"{result['random_runs']} shuffles.",
        "",
        "| measure | ranked | random |",
        "| --- | --- | --- |",
        *[f"| {k} | {m[k]} | {r[k]} |" for k in r],
        f"| records read to find every relevant one | {m['records read to find all relevant']} | "
        f"{result['records']} (expected about {round(result['records'] * result['relevant'] / (result['relevant'] + 1), 1)}) |",
        "",
        "Order in which the simulated curator met the records (R relevant, - not): `"
        + "".join(result["order"])
        + "`",
        "",
        "The fixture is small (16 records), so these figures show that the ranking works, not how much "
        "it saves on a real search of hundreds of records.",
    ]
    BENCHMARK_OUT.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root", type=Path, default=DEFAULT_ROOT, help="review root (default: this repository)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("import", help="log a search and queue the records of its export")
    p.add_argument("export", help="PubMed MEDLINE (.nbib) or RIS export of the search results")
    p.add_argument("--database", required=True, help="where the search was run, e.g. PubMed")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--query", help="the exact query string as run")
    group.add_argument("--query-file", help="file holding the exact query string")
    p.add_argument("--date", help="day the search was run, YYYY-MM-DD (default: today)")
    p.add_argument(
        "--date-limits", help="publication-date limits as entered, e.g. 2025/01/01:2026/12/01[dp]"
    )
    p.add_argument(
        "--records-found",
        type=int,
        help="number of hits the database reported (default: records in the export)",
    )
    p.add_argument("--note", help="free text for the search log")
    p.add_argument(
        "--format",
        choices=core.IMPORT_FORMATS,
        help="export format (default: from extension or content)",
    )
    p.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    p.set_defaults(run=cmd_import)

    p = sub.add_parser("next", help="list unscreened records, most likely relevant first")
    p.add_argument("-n", type=int, default=10, help="how many to show (default 10)")
    p.add_argument("--abstracts", action="store_true", help="show the abstracts too")
    p.set_defaults(run=cmd_next)

    p = sub.add_parser("decide", help="record a decision: RECORD... include|exclude")
    p.add_argument("items", nargs="+", metavar="RECORD... DECISION")
    p.add_argument("--curator", help="your name or initials (required)")
    p.add_argument(
        "--reason",
        help="why an excluded record is out of scope (required for exclude); one of: "
        "wrong_intervention, wrong_outcome, wrong_population, wrong_publication_type, duplicate_report, "
        "not_retrievable",
    )
    p.add_argument("--note", help="free text kept with the decision")
    p.add_argument("--date", help="day of the decision, YYYY-MM-DD (default: today)")
    p.add_argument(
        "--revise", action="store_true", help="record a new decision for a record already decided"
    )
    p.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    p.set_defaults(run=cmd_decide)

    p = sub.add_parser("status", help="progress and the counts of the flow diagram")
    p.set_defaults(run=cmd_status)

    p = sub.add_parser(
        "benchmark", help="evaluate the ranking on a labelled export (default: the shipped fixture)"
    )
    p.add_argument("--export", default=str(FIXTURE / "search-2026-12-01.ris"))
    p.add_argument("--labels", default=str(FIXTURE / "relevance.csv"))
    p.set_defaults(run=cmd_benchmark)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        parser.error(f"--root {args.root}: not a directory")
    try:
        return args.run(args)
    except (curation.CurationError, OSError) as error:
        print(f"screen {args.command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
