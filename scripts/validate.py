#!/usr/bin/env python
"""Validate the review's data and bibliography.

    python scripts/validate.py [--root DIR]

Checks DIR/data/ (against DIR/data/datapackage.json), DIR/references.bib and
DIR/_toc.yml, and writes nothing. Prints one line per problem as
``path:line: field: message``, a summary, then the reference quality report.
Exit status: 0 when there are no errors (warnings allowed), 1 on errors,
2 on usage errors.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from neuroimmune_review import validate as validation
from neuroimmune_review.bib import format_reference_report
from neuroimmune_review.text import plural

DEFAULT_ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root",
        type=Path,
        default=DEFAULT_ROOT,
        help="review root holding data/, references.bib and _toc.yml (default: this repository)",
    )
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        parser.error(f"--root {args.root}: not a directory")

    # Messages quote values verbatim (Greek letters, stray bytes): never fail on printing them.
    sys.stdout.reconfigure(errors="backslashreplace")
    result = validation.validate(args.root)
    for problem in result.problems:
        print(validation.format_problem(problem))
    errors, warnings = len(result.errors), len(result.warnings)
    verdict = "FAILED" if errors else "OK"
    print(f"validate: {verdict}: {plural(errors, 'error')}, {plural(warnings, 'warning')}")
    report = result.reference_report()
    if report is not None:
        print("\n".join(format_reference_report(report)))
    return 1 if errors else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
