"""What every build runs in the Sphinx process imports neither pandas nor the validator.

A no-op or prose build needs only the git-state queries, the validation memo's inputs and the
search's mediator words; importing pandas for them was 0.4 s of every such build.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from neuroimmune_review.build import search

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "numpy", "neuroimmune_review.validate", "neuroimmune_review.data")

EVERY_BUILD = """
import json, sys
from pathlib import Path
root, repo = Path(sys.argv[1]), Path(sys.argv[2])
from neuroimmune_review import history, provenance, version
from neuroimmune_review.build import early_checks, search, sphinx_ext
names = search._spellings(search.alias_map(root))  # the index and the term counts
provenance.digest(names)
early_checks.validation_inputs(root)  # the validation memo's key
provenance.digest(history.state(repo))  # the git-state queries the stale check runs
provenance.digest(version.stamp(repo))
print(json.dumps(sorted(m for m in sys.argv[3:] if m in sys.modules)))
"""


def test_the_fixed_work_of_every_build_imports_no_pandas(tmp_path):
    root = tmp_path / "review"
    shutil.copytree(REPO / "data", root / "data")
    shutil.copytree(REPO / "book", root / "book")
    before = search.alias_map(root)  # the first build reads mediators.csv (with pandas)
    env = {k: v for k, v in os.environ.items() if k != "REVIEW_ROOT"}
    env["REVIEW_ROOT"] = str(root)
    result = subprocess.run(
        [sys.executable, "-c", EVERY_BUILD, str(root), str(REPO), *HEAVY],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
    assert search.alias_map(root) == before


def test_the_mediator_words_follow_mediators_csv(tmp_path):
    root = tmp_path / "review"
    shutil.copytree(REPO / "data", root / "data")
    before = search.alias_map(root)
    mediators = root / "data/mediators.csv"
    lines = mediators.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\r\n").split(",")
    row = dict.fromkeys(header, "")
    row.update(name="IL-99", aliases="interleukin-99; IL99")
    mediators.write_text("".join(lines) + ",".join(row[c] for c in header) + "\n", encoding="utf-8")
    after = search.alias_map(root)
    assert after["il99"] == "il-99" and "il99" not in before  # not the remembered words
