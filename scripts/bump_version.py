#!/usr/bin/env python
"""Bump the review's version (YEAR.MINOR.PATCH) in every place that states it.

    python scripts/bump_version.py minor     # the evidence or the bibliography changed
    python scripts/bump_version.py patch     # fixes only; the data are as they were

Rewrites ``__version__`` in src/neuroimmune_review/__init__.py (the one source of the
version), ``version`` and ``date-released`` in CITATION.cff, and the ``version`` of
data/datapackage.json, changing nothing else in those files. Prints the new version.
A minor bump in a new year starts again at YEAR.1.0.

Exit status: 0 done, 1 a file could not be read or rewritten (nothing written), 2 usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

from neuroimmune_review import version
from neuroimmune_review.files import atomic_write

DEFAULT_ROOT = Path(__file__).resolve().parents[1]
CFF_VERSION = re.compile(r"^(version:[ \t]*)(\S+)", re.MULTILINE)
CFF_DATE = re.compile(r"^(date-released:[ \t]*)(\S+)", re.MULTILINE)
# The package's own version: the first "version" key of the descriptor (before "resources").
PACKAGE_VERSION = re.compile(r'^(\s{0,4}"version"\s*:\s*")([^"]*)(")', re.MULTILINE)


def rewrite(text: str, pattern: re.Pattern[str], value: str, what: str) -> str:
    new, count = pattern.subn(
        lambda m: m.group(1) + value + (m.group(3) if m.lastindex == 3 else ""), text, count=1
    )
    if count != 1:
        raise ValueError(f"no {what} line found")
    return new


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "part", choices=("minor", "patch"), help="minor: data changed; patch: fixes only"
    )
    parser.add_argument(
        "--root", type=Path, default=DEFAULT_ROOT, help="repository root (default: this one)"
    )
    parser.add_argument(
        "--date",
        type=dt.date.fromisoformat,
        default=dt.date.today(),
        help="release date, YYYY-MM-DD (default: today)",
    )
    args = parser.parse_args(argv)
    init = args.root / "src" / "neuroimmune_review" / "__init__.py"
    cff = args.root / "CITATION.cff"
    package = args.root / "data" / "datapackage.json"
    if not init.is_file():
        parser.error(f"{init}: not found; is --root the repository root?")

    try:
        old = version.read_version(args.root)
        new = version.bumped(old, args.part, args.date)
        init_text = init.read_text(encoding="utf-8")
        updates = {
            init: version.VERSION_LINE.sub(
                lambda m: f"{m.group(1)}{m.group(2)}{new}{m.group(2)}", init_text, 1
            )
        }
        if cff.is_file():
            text = cff.read_text(encoding="utf-8")
            text = rewrite(text, CFF_VERSION, new, "CITATION.cff version")
            updates[cff] = rewrite(
                text, CFF_DATE, args.date.isoformat(), "CITATION.cff date-released"
            )
        if package.is_file():
            text = package.read_text(encoding="utf-8")
            if PACKAGE_VERSION.search(text):
                updates[package] = rewrite(text, PACKAGE_VERSION, new, "datapackage.json version")
    except (OSError, ValueError) as error:
        print(f"bump_version: error: {error}; nothing was changed", file=sys.stderr)
        return 1
    for path, text in updates.items():
        atomic_write(path, text.encode("utf-8"))
    print(f"{old} -> {new}", file=sys.stderr)
    print(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
