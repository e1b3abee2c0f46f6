#!/usr/bin/env python
"""Benchmark the build and the pages from 1× to 1000× the evidence (``make bench``).

    python scripts/benchmark.py [--scales 1,10,100,1000] [--smoke] [--out DIR]

Works in temporary copies of the review; writes DIR/results.json and DIR/results.md
(default DIR: benchmarks/). See benchmarks/harness.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The harness lives beside its results in benchmarks/, outside the package the build imports.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import harness as benchmark  # noqa: E402

if __name__ == "__main__":
    sys.exit(benchmark.main(["--repo", str(Path(__file__).resolve().parents[1]), *sys.argv[1:]]))
