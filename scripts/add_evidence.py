#!/usr/bin/env python
"""Add findings to data/evidence.csv.

    python scripts/add_evidence.py new-rows.csv                   # or --from-csv new-rows.csv, or - (stdin)
    python scripts/add_evidence.py --claim-type intervention_effect --intervention fluoxetine \\
        --comparator "before treatment" --mediator IL-6 --direction decrease --reported-as reduced \\
        --evidence-type clinical --species human --sample "serum, MDD patients" \\
        --citation sutcigil2007pro --review-ref 99 --chapter book/antidepressants/ssri

The input CSV has a header with evidence columns; the id column may be left out (or
left empty), and ids are then assigned. The new rows are validated together with the
whole data set and references.bib before anything is written; they are appended
atomically, under a lock, without touching the existing bytes. Prints the ids assigned.

Exit status: 0 added (or --dry-run passed), 1 invalid rows (nothing written), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neuroimmune_review import curation
from neuroimmune_review.schema import load_root_package

DEFAULT_ROOT = Path(__file__).resolve().parents[1]
# The flags follow the evidence columns of this repository's data/datapackage.json.
EVIDENCE_COLUMNS = load_root_package(DEFAULT_ROOT).table("evidence").columns


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Column help: see data/datapackage.json or the 'About the data' page.",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=DEFAULT_ROOT,
        help="review root holding data/, references.bib and _toc.yml (default: this repository)",
    )
    parser.add_argument(
        "csv_file",
        nargs="?",
        metavar="FILE",
        help="CSV file with a header of evidence columns; '-' reads stdin (same as --from-csv)",
    )
    parser.add_argument(
        "--from-csv",
        metavar="FILE",
        help="CSV file with a header of evidence columns; '-' reads stdin",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="validate and show the ids, but write nothing"
    )
    single = parser.add_argument_group("one finding from flags (instead of --from-csv)")
    for column in EVIDENCE_COLUMNS:
        single.add_argument(f"--{column.replace('_', '-')}", dest=column, metavar="TEXT")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        parser.error(f"--root {args.root}: not a directory")
    flags = {
        column: getattr(args, column)
        for column in EVIDENCE_COLUMNS
        if getattr(args, column) is not None
    }
    if args.csv_file and args.from_csv and args.csv_file != args.from_csv:
        parser.error("give the CSV file once: either as FILE or as --from-csv FILE")
    args.from_csv = args.from_csv or args.csv_file
    if args.from_csv and flags:
        parser.error("give either --from-csv or the column flags, not both")
    if not args.from_csv and not flags:
        parser.error("nothing to add: give a CSV FILE (or -) or the column flags (--claim-type …)")

    try:
        if args.from_csv:
            if args.from_csv == "-":
                text, source = sys.stdin.read(), "stdin"
            else:
                try:
                    text = Path(args.from_csv).read_bytes().decode("utf-8-sig")
                except FileNotFoundError:
                    parser.error(f"{args.from_csv}: file not found")
                except OSError as error:
                    parser.error(f"{args.from_csv}: cannot read ({error.strerror or error})")
                except UnicodeDecodeError as error:
                    raise curation.CurationError(
                        f"{args.from_csv}: not UTF-8 text ({error})"
                    ) from None
                source = args.from_csv
            rows = curation.read_rows(text, source)
        else:
            rows = [flags]
        result = curation.add_evidence(rows, args.root, dry_run=args.dry_run)
    except (curation.CurationError, OSError) as error:
        print(f"add_evidence: error: {error}", file=sys.stderr)
        return 1

    for line in result.warnings:
        print(line, file=sys.stderr)
    if result.existing_errors:
        print(
            f"add_evidence: note: the data set already had {result.existing_errors} error(s) unrelated to these "
            "rows; run `make validate`",
            file=sys.stderr,
        )
    verb = "would add" if args.dry_run else "added"
    print(f"{verb} {len(result.ids)} row(s): {', '.join(result.ids)}", file=sys.stderr)
    for ident in result.ids:
        print(ident)
    return 0


if __name__ == "__main__":
    sys.exit(main())
