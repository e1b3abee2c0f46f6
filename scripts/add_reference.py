#!/usr/bin/env python
"""Import works into references.bib from BibTeX, RIS or PubMed MEDLINE (.nbib) files.

    python scripts/add_reference.py pubmed-export.nbib
    python scripts/add_reference.py citation.ris other.bib
    python scripts/add_reference.py --format ris - < citation.ris
    python scripts/add_reference.py --seen-at https://doi.org/10.1155/2007/76396 citation.ris

Each record is normalised to the house style (author, title, journal, year, volume,
number, pages, bare lower-case doi, pmid) and gets a key firstauthorYEARfirstword.
Works already in references.bib (same DOI, PMID, or key with the same title) are
reported and not added. New entries are appended after the existing ones, and each new
DOI and PMID gets a row in data/reference_provenance.csv naming its canonical record
(doi.org, PubMed). A PubMed MEDLINE export (.nbib) counts as seen on a canonical record;
a RIS or BibTeX file counts as a secondary source unless --seen-at names the canonical
page it was exported from (PubMed, doi.org, PMC or the publisher's own page). The data
set is then validated and both files restored if the check fails.

Exit status: 0 done (duplicates are reported, not errors), 1 unreadable or invalid
input (nothing written), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neuroimmune_review import curation

DEFAULT_ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="BibTeX, RIS or MEDLINE file; '-' reads stdin"
    )
    parser.add_argument(
        "--format",
        choices=curation.FORMATS,
        help="input format (default: from the file extension or its content)",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=DEFAULT_ROOT,
        help="review root holding references.bib (default: this repository)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would be added, write nothing"
    )
    parser.add_argument(
        "--seen-at",
        metavar="URL",
        default="",
        help="the canonical record the files were exported from (marks their identifiers seen canonical)",
    )
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        parser.error(f"--root {args.root}: not a directory")
    if args.files.count("-") > 1:
        parser.error("stdin ('-') can be given only once")

    records = []
    try:
        for name in args.files:
            if name == "-":
                text = sys.stdin.read()
                records += curation.parse_references(
                    text, args.format or curation.detect_format(text), "stdin"
                )
                continue
            path = Path(name)
            if not path.is_file():
                parser.error(f"{name}: file not found")
            records += curation.read_reference_file(path, args.format)
        result = curation.add_references(
            records, args.root, dry_run=args.dry_run, seen_at=args.seen_at
        )
    except (curation.CurationError, OSError) as error:
        print(f"add_reference: error: {error}", file=sys.stderr)
        return 1

    for duplicate in result.duplicates:
        where = "earlier in this import" if duplicate.within_import else "references.bib"
        print(
            f"duplicate: {duplicate.record.origin} ({duplicate.record.describe()}) is already in {where} as "
            f"{duplicate.existing_key} (same {duplicate.reason}); not added"
        )
    verb = "would add" if args.dry_run else "added"
    for key, record in result.added:
        ids = ", ".join(f"{n} {record.fields[n]}" for n in ("doi", "pmid") if record.fields.get(n))
        seen = f" [{ids}: seen {record.seen}]" if ids else ""
        print(f"{verb} {key}: {record.describe()}{seen}")
    for line in result.warnings:
        print(line, file=sys.stderr)
    if result.existing_errors:
        print(
            f"add_reference: note: the data set already had {result.existing_errors} error(s) unrelated to this "
            "import; run `make validate`",
            file=sys.stderr,
        )
    print(
        f"add_reference: {len(result.added)} {verb.split()[-1]}, {len(result.duplicates)} duplicate(s) skipped",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
