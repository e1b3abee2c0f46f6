"""The CONTRIBUTING.md walkthrough, end to end: import the shipped export, screen three records
(one include, two excludes with reasons), add a finding for the include, rebuild, and see the
flow diagram, the home-page counters, the footer stamp and "What's new" show it."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from test_screening import EXPORT, FIXTURES, HEADERS

REPO = Path(__file__).resolve().parents[2]
TODAY = dt.date.today().isoformat()
PAGES = [
    "book/index",
    "book/about/screening",
    "book/about/whats-new",
    "book/about/about-data",
    "book/about/references",
]


def sh(root: Path, script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / script), "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def reduced_review(root: Path) -> None:
    for name in ("_config.yml", "references.bib", "_toc.yml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "data", root / "data")
    for name, header in HEADERS.items():  # the state before the first search
        (root / "data" / name).write_text(header, encoding="utf-8")
    for page in PAGES:
        (root / page).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / f"{page}.md", root / f"{page}.md")
    for page in re.findall(
        r"file: (book/[\w/-]+)", (REPO / "_toc.yml").read_text(encoding="utf-8")
    ):
        target = root / f"{page}.md"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                f"# {page.rsplit('/', 1)[-1]}\n\nNot part of this test.\n", encoding="utf-8"
            )


def test_contributing_walkthrough_import_screen_extract_rebuild(tmp_path):
    guide = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for command in (
        "screen.py import",
        "screen.py next",
        "decide R0001 include --curator AB",
        "decide R0002 exclude --reason wrong_intervention --curator AB",
        "decide R0007 exclude --reason wrong_population --curator AB",
        "add_evidence.py",
    ):
        assert command in guide, command
    root = tmp_path / "review"
    root.mkdir()
    reduced_review(root)

    out = sh(
        root,
        "screen.py",
        "import",
        str(EXPORT),
        "--database",
        "PubMed",
        "--query-file",
        str(FIXTURES / "query-S001.txt"),
        "--date",
        TODAY,
    )
    assert "logged search S001: 20 record(s), 16 to screen, 4 duplicate(s) removed" in out
    assert "R0001" in sh(root, "screen.py", "next", "-n", "16")
    assert "references.bib key hou2018effects" in sh(
        root, "screen.py", "decide", "R0001", "include", "--curator", "AB"
    )
    sh(
        root,
        "screen.py",
        "decide",
        "R0002",
        "exclude",
        "--reason",
        "wrong_intervention",
        "--curator",
        "AB",
    )
    out = sh(
        root,
        "screen.py",
        "decide",
        "R0007",
        "exclude",
        "--reason",
        "wrong_population",
        "--curator",
        "AB",
    )
    assert (
        "screened 3 of 16 record(s) (13 to go); 1 included, 2 excluded; 0 included in the synthesis"
        in out
    )
    finding = tmp_path / "finding.csv"
    finding.write_text(
        "claim_type,intervention,comparator,mediator,direction,reported_as,evidence_type,species,sample,"
        "dose,citation,chapter,note\n"
        "intervention_effect,SSRIs,before treatment,IL-6,decrease,fell,clinical,human,"
        '"PBMC mRNA, MDD patients before and after treatment",,hou2018effects,'
        "book/antidepressants/ssri,IL-6 mRNA fell after SSRI treatment.\n",
        encoding="utf-8",
    )
    sh(root, "add_evidence.py", "--from-csv", str(finding))
    assert "1 included in the synthesis" in sh(root, "screen.py", "status")

    env = {k: v for k, v in os.environ.items() if k != "REVIEW_ROOT"}
    build = subprocess.run(
        [
            str(Path(sys.executable).with_name("jupyter-book")),
            "build",
            str(root),
            "-W",
            "-n",
            "--keep-going",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    site = root / "_build" / "html"
    home = (site / "book/index.html").read_text(encoding="utf-8")
    line = f"Last search: {TODAY} (PubMed), 3 records screened, 1 included"
    assert line in home
    assert re.search(r'class="review-stamp">[^<]*' + re.escape(line), home)  # the footer stamp
    flow = (site / "book/about/screening.html").read_text(encoding="utf-8")
    assert "<svg" in flow and "Records identified from PubMed" in flow
    for text in (
        "Records identified: 20",
        "Duplicates removed: 4",
        "Records screened: 3",
        "Records awaiting screening: 13",
        "Records excluded: 2",
        "Excluded, not depression or a model of it: 1",
        "Excluded, no antidepressant or related treatment: 1",
        "Included at screening: 1",
        "Included in the synthesis (at least one finding): 1",
    ):
        assert text in flow, text  # the diagram's text version, which the SVG draws
    news = (site / "book/about/whats-new.html").read_text(encoding="utf-8")
    assert (
        "search S001 in PubMed: 20 records identified, 4 duplicates removed, 3 screened (2 excluded, "
        "1 included at screening, 1 included in the synthesis), 13 awaiting screening" in news
    )
    assert "Antidepressive Agents" in (site / "book/about/about-data.html").read_text(
        encoding="utf-8"
    )
    assert (site / "downloads/screening.csv").read_text(encoding="utf-8").count("\n") == 4
    assert "review-overdue" not in home  # searched today: within the schedule
