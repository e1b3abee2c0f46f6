#!/usr/bin/env python
"""Convert an evidence CSV of the v1 model to the v2 header, for re-coding by hand.

    python scripts/convert_evidence_v1.py OLD.csv > NEW.csv

Adds the v2 columns claim_type, comparator and reported_as EMPTY, in the column order of
data/datapackage.json, and copies every other cell unchanged. It never guesses a claim type,
a comparator or the source's wording: `make validate` (or scripts/validate.py) then names
every row and field still to be filled, and each needs a human reading of the source.
Rows citing several works keep their citation cell; the validator asks for one row per work.

Exit status: 0 converted (written to stdout), 1 the input is not a v1 evidence file, 2 usage error.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from neuroimmune_review.schema import SchemaError, load_package

DEFAULT_PACKAGE = Path(__file__).resolve().parents[1] / "data" / "datapackage.json"
NEW_COLUMNS = ("claim_type", "comparator", "reported_as")


def convert(text: str, columns: list[str], source: str) -> str:
    """The v2 CSV text for a v1 CSV *text*; ValueError with a clear message if it is not v1."""
    records = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True))
    if not records:
        raise ValueError(f"{source}: empty file; expected a v1 evidence CSV with a header row")
    header = records[0]
    v1_columns = [c for c in columns if c not in NEW_COLUMNS]
    present = [c for c in NEW_COLUMNS if c in header]
    if present:
        raise ValueError(
            f"{source}:1: header already has {', '.join(present)}; this is not a v1 evidence file, "
            "nothing to convert"
        )
    if sorted(header) != sorted(v1_columns):
        missing = [c for c in v1_columns if c not in header]
        extra = [c for c in header if c not in v1_columns]
        raise ValueError(
            f"{source}:1: header is not the v1 evidence header"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unexpected {', '.join(extra)}" if extra else "")
            + f"; expected the columns {','.join(v1_columns)}"
        )
    position = {name: i for i, name in enumerate(header)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for line, record in enumerate(records[1:], start=2):
        if len(record) != len(header):
            raise ValueError(
                f"{source}:{line}: record has {len(record)} fields; expected {len(header)} as in the header"
            )
        writer.writerow(["" if c in NEW_COLUMNS else record[position[c]] for c in columns])
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", metavar="OLD.csv", help="evidence CSV written under the v1 model")
    parser.add_argument(
        "--datapackage",
        type=Path,
        default=DEFAULT_PACKAGE,
        help="data package whose evidence columns give the v2 order (default: this repository's)",
    )
    args = parser.parse_args(argv)
    try:
        columns = load_package(args.datapackage).table("evidence").columns
    except SchemaError as error:
        print(f"convert_evidence_v1: error: {error}", file=sys.stderr)
        return 2
    try:
        text = Path(args.old).read_bytes().decode("utf-8")
    except FileNotFoundError:
        print(f"convert_evidence_v1: error: {args.old}: file not found", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as error:
        print(
            f"convert_evidence_v1: error: {args.old}: cannot read as UTF-8 ({error})",
            file=sys.stderr,
        )
        return 1
    try:
        converted = convert(text, columns, args.old)
    except (ValueError, csv.Error) as error:
        print(f"convert_evidence_v1: error: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(converted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
