#!/usr/bin/env python
"""Re-point evidence rows at the works their reference numbers now resolve to.

    python scripts/repoint_evidence.py --dry-run     # print the changes, write nothing
    python scripts/repoint_evidence.py               # apply them to data/evidence.csv

After data/reference_map.csv resolves more of the source article's reference numbers,
rows citing the source article (nava2025modulation) at those numbers cite the primary
work instead, keeping the number in review_ref. A row whose numbers resolve to different
works is split into one row per work (new rows get the next free ids); a row whose cited
work the map no longer places at its number goes back to the work (or the source
article) the map names. The data set is validated on a copy first; nothing is written if
the change would add an error.

Exit status: 0 done (or nothing to do), 1 unreadable input or invalid result, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neuroimmune_review.curation import CurationError
from neuroimmune_review.curation.repoint import repoint_evidence

DEFAULT_ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print the changes, write nothing")
    parser.add_argument(
        "--root",
        type=Path,
        default=DEFAULT_ROOT,
        help="review root holding data/ (default: this repository)",
    )
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        parser.error(f"--root {args.root}: not a directory")
    try:
        result = repoint_evidence(args.root, dry_run=args.dry_run)
    except (CurationError, OSError) as error:
        print(f"repoint_evidence: error: {error}", file=sys.stderr)
        return 1
    for line in result.plan.lines():
        print(line)
    changes = result.plan.changes
    new_rows = sum(max(len(c.after) - 1, 0) for c in changes)
    verb = "would change" if args.dry_run else "changed"
    print(
        f"repoint_evidence: {verb} {len(changes)} row(s), {new_rows} new row(s) from splits",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
