"""The benchmark keeps working: a smoke run (1×, one executed page) writes well-formed results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from benchmarks import harness as benchmark

REPO = Path(__file__).resolve().parents[1]


def test_synthetic_data_scale_and_stay_valid(tmp_path):
    before = (REPO / "data/evidence.csv").read_bytes()
    root = benchmark.make_copy(REPO, tmp_path / "copy", pages=benchmark.SMOKE_PAGES)
    real = pd.read_csv(REPO / "data/evidence.csv", dtype=str, keep_default_na=False)
    info = benchmark.synthesize(root, 3)
    rows = pd.read_csv(root / "data/evidence.csv", dtype=str, keep_default_na=False)
    assert info["rows"] == len(rows) == 3 * len(real)
    assert rows["id"].is_unique and rows["id"].str.fullmatch(r"EV\d{6}").all()
    from neuroimmune_review.validate import FINDING_COLUMNS

    key = [*FINDING_COLUMNS, "review_ref"]
    assert not rows.duplicated(key).any()
    assert set(rows["intervention"]) <= set(real["intervention"]) and set(rows["mediator"]) <= set(
        real["mediator"]
    )
    assert (REPO / "data/evidence.csv").read_bytes() == before  # the real data are never touched
    assert benchmark.time_validation(root)["errors"] == 0


def test_smoke_run_writes_results_with_targets(tmp_path):
    out = tmp_path / "bench"
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts/benchmark.py"),
            "--smoke",
            "--no-browser",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert {"date", "machine", "commit", "scales", "targets"} <= set(report)
    assert report["machine"]["cores"] >= 1 and report["machine"]["memory_gb"]
    one = report["scales"]["1"]
    assert one["data"]["rows"] > 0 and one["validation"]["errors"] == 0
    assert one["build_cold"]["seconds"] > 0 and one["rebuild_noop"]["pages_executed"] == []
    assert (
        one["sizes"]["heaviest_page"]["total_bytes"]
        > one["sizes"]["heaviest_page"]["html_bytes"]
        > 0
    )
    assert report["machine"]["load_at_start"] is not None and report["repeats"] == 1
    for key in ("validation", "build_cold", "rebuild_noop"):
        timing = one[key]
        assert timing["min"] <= timing["median"] == timing["seconds"] <= timing["max"]
        assert [run["seconds"] for run in timing["runs"]] and "load_at_start" in timing["runs"][0]
    page = one["sizes"]["heaviest_page"]
    # gzip shrinks the text; every page needs at least itself and one stylesheet.
    assert 0 < page["gzip_bytes"] < page["total_bytes"] and page["requests"] >= 2
    assert one["sizes"]["heaviest_text_page"]["gzip_bytes"] > 0
    assert {"page", "total_bytes", "gzip_bytes", "requests"} <= set(one["sizes"]["per_page"][0])
    names = [t["name"] for t in report["targets"]]
    assert names == [name for name, _, _ in benchmark.TARGETS]
    for target in report["targets"]:
        assert set(target) >= {"name", "value", "limit", "met"}
        assert isinstance(target["met"], bool) and isinstance(target["limit"], (int, float))
        assert target["value"] is None or isinstance(target["value"], (int, float))
    markdown = (out / "results.md").read_text(encoding="utf-8")
    assert "| target | value | limit | met | gap |" in markdown
    assert "| scale | timing | runs | min s | median s | max s |" in markdown


def test_repeated_timing_reports_the_median_and_every_run():
    runs = iter([3.0, 1.0, 2.0])
    timing = benchmark.repeated(3, lambda: {"seconds": next(runs), "pages_executed": []})
    assert (timing["min"], timing["seconds"], timing["max"]) == (1.0, 2.0, 3.0)
    assert [r["seconds"] for r in timing["runs"]] == [3.0, 1.0, 2.0]


def test_gzip_weight_counts_text_compressed_and_fonts_as_they_are(tmp_path):
    site = tmp_path / "site"
    (site / "_static").mkdir(parents=True)
    (site / "_static/a.css").write_text("body { color: red; }\n" * 500, encoding="utf-8")
    (site / "_static/f.woff2").write_bytes(bytes(range(256)) * 4)
    page = site / "p.html"
    page.write_text(
        '<link rel="stylesheet" href="_static/a.css"><img src="_static/f.woff2">' + "x" * 5000,
        encoding="utf-8",
    )
    weight = benchmark.page_weight(site, page)
    assert weight["requests"] == 3
    assert weight["total_bytes"] == page.stat().st_size + 10500 + 1024
    assert 1024 < weight["gzip_bytes"] < 1024 + 500


def test_each_added_row_is_a_new_finding_that_validates(tmp_path):
    from neuroimmune_review.validate import validate_root

    root = benchmark.make_copy(Path(__file__).resolve().parents[1], tmp_path / "copy")
    first, second = benchmark.add_one_row(root), benchmark.add_one_row(root)
    assert first != second
    errors = [p for p in validate_root(root) if p.severity == "error"]
    assert errors == []  # the second run's row repeated the first's finding: a validation error


def test_cold_and_execution_off_builds_each_start_without_the_builds_memos(tmp_path, monkeypatch):
    """Both timings the cold ÷ execution-off target divides are of builds from nothing: the
    memos (validation verdict, evidence join) live in ROOT/_build whatever the output path."""
    seen: list[tuple[str, bool]] = []
    roots: dict[str, set[Path]] = {}

    def fake_build(root, label, logs, *, config=None, output=None, jupyter_book=None):
        seen.append((label, (root / "_build").exists()))
        roots.setdefault(label.rsplit("-", 1)[0], set()).add(root)
        (root / "_build" / ".memo").mkdir(parents=True, exist_ok=True)  # as a real build leaves it
        site = root / "_build" / "html"
        site.mkdir(parents=True, exist_ok=True)
        return {"seconds": 1.0, "exit_code": 0, "pages_read": 0, "pages_executed": []}

    monkeypatch.setattr(benchmark, "build", fake_build)
    monkeypatch.setattr(benchmark, "synthesize", lambda root, scale: {"rows": 1})
    monkeypatch.setattr(benchmark, "time_validation", lambda root: {"seconds": 0.1, "errors": 0})
    monkeypatch.setattr(benchmark, "add_one_row", lambda root: "EV999999")
    monkeypatch.setattr(benchmark, "edit_prose", lambda root: None)
    monkeypatch.setattr(benchmark, "site_sizes", lambda site: {"heaviest_chart_page": None})
    benchmark.run_scale(REPO, tmp_path, 1, logs=tmp_path / "logs", browser=False, repeats=3)
    starts = {label.rsplit("-", 1)[0]: [] for label, _ in seen}
    for label, had_build_dir in seen:
        starts[label.rsplit("-", 1)[0]].append(had_build_dir)
    assert starts["1x-execution-off"] == [False, False, False]
    assert starts["1x-cold"] == [False, False, False]
    assert starts["1x-noop"] == [True, True, True]  # rebuilds do reuse them
    assert starts["1x-one-row"] == starts["1x-prose"] == [True, True, True]
    # Every build a target divides is taken in turn with the others: the rebuilds on a second
    # copy, built once first, so that the cold builds of the first still start from nothing.
    kinds = [label.rsplit("-", 1)[0] for label, _ in seen]
    assert kinds[:4] == ["1x-rebuilt", "1x-noop", "1x-noop", "1x-noop"]
    assert kinds[4:] == ["1x-execution-off", "1x-cold", "1x-one-row", "1x-prose"] * 3
    assert roots["1x-one-row"] == roots["1x-prose"] == roots["1x-rebuilt"] == roots["1x-noop"]
    assert roots["1x-one-row"] != roots["1x-cold"] == roots["1x-execution-off"]


def test_interleaved_timings_take_their_measures_in_turn(monkeypatch):
    calls: list[str] = []
    clock = iter([3.0, 10.0, 1.0, 12.0, 2.0, 11.0])

    def measure(name):
        def run():
            calls.append(name)
            return {"seconds": next(clock)}

        return run

    monkeypatch.setattr(benchmark, "load_average", lambda: 0.5)
    off, cold = benchmark.interleaved(3, measure("off"), measure("cold"))
    assert calls == ["off", "cold"] * 3
    assert (off["min"], off["median"], off["max"]) == (1.0, 2.0, 3.0)
    assert (cold["seconds"], [r["seconds"] for r in cold["runs"]]) == (11.0, [10.0, 12.0, 11.0])
    assert cold["runs"][0]["load_at_start"] == 0.5


def test_a_run_from_a_clean_tree_is_recorded_clean(tmp_path, monkeypatch):
    """The commit and its status are the ones the run measured, taken before it writes anything."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for args in (["init", "-q"], ["add", "-A"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    (repo / "README.md").write_text("x\n", encoding="utf-8")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "add", "README.md"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "x"], cwd=repo, check=True)
    monkeypatch.setattr(benchmark, "snapshot_package", lambda repo, work: work)
    monkeypatch.setattr(benchmark, "run_scale", lambda *a, **k: {"sizes": {}, "data": {"rows": 1}})
    monkeypatch.setattr(benchmark, "markdown_report", lambda report, out: "")
    report = benchmark.run(repo, repo / "benchmarks", [1, 10], repeats=1)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert report["commit"] == head and report["dirty"] is False
    (repo / "README.md").write_text("changed\n", encoding="utf-8")
    assert benchmark.run(repo, repo / "benchmarks", [1], repeats=1)["dirty"] is True


def test_the_package_snapshot_carries_its_bytecode(tmp_path, monkeypatch):
    import importlib.util

    monkeypatch.setattr(benchmark, "_SNAPSHOT", None)
    target = benchmark.snapshot_package(REPO, tmp_path)
    modules = sorted((target / "neuroimmune_review").rglob("*.py"))
    assert modules
    missing = [m for m in modules if not Path(importlib.util.cache_from_source(str(m))).is_file()]
    assert missing == []  # builds load bytecode, even with PYTHONDONTWRITEBYTECODE set
