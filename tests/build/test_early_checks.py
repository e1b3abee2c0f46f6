"""The early checker's protocol: results reach the Sphinx process, and a checker that dies or
never starts leaves it to check alone, without waiting long."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from neuroimmune_review.build import early_checks


def _prefix(tmp_path: Path) -> str:
    return str(tmp_path / "check")


def test_the_results_reach_the_waiter_in_order(tmp_path, monkeypatch):
    def checker(root, prefix):  # runs in the forked checker
        early_checks._write(prefix, early_checks.VALIDATED, {"errors": 0})
        time.sleep(0.3)
        early_checks._write(prefix, early_checks.STALE, {"stale": ["a"], "check": {"x": 1}})

    monkeypatch.setattr(early_checks, "run_checker", checker)
    began = time.monotonic()
    early_checks.start_checker(tmp_path, _prefix(tmp_path))
    assert time.monotonic() - began < 0.25  # the server goes on at once
    assert early_checks.wait_for(_prefix(tmp_path), "validated", lambda: True) == {"errors": 0}
    stale = early_checks.wait_for(_prefix(tmp_path), "stale", lambda: True)
    assert stale == {"stale": ["a"], "check": {"x": 1}}
    assert time.monotonic() - began >= 0.3  # it waited for the checker


def test_a_checker_that_dies_leaves_no_result_and_no_wait(tmp_path, monkeypatch):
    def checker(root, prefix):
        early_checks._write(prefix, early_checks.VALIDATED, {"errors": 0})
        time.sleep(0.2)
        os._exit(3)  # killed before its stale check

    monkeypatch.setattr(early_checks, "run_checker", checker)
    early_checks.start_checker(tmp_path, _prefix(tmp_path))
    began = time.monotonic()
    assert early_checks.wait_for(_prefix(tmp_path), "stale", lambda: True) is None
    assert time.monotonic() - began < 5  # as soon as its lock is released


def test_no_checker_no_wait(tmp_path):
    began = time.monotonic()
    assert early_checks.wait_for(None, "stale", lambda: True) is None
    # A server that has ended before starting the checker: no lock file will ever appear.
    assert early_checks.wait_for(_prefix(tmp_path), "stale", lambda: False) is None
    assert time.monotonic() - began < 1


def test_the_checker_writes_nothing_to_the_build_output(tmp_path, monkeypatch, capfd):
    def checker(root, prefix):
        print("from the checker")
        os.write(2, b"to stderr\n")
        early_checks._write(prefix, early_checks.STALE, {"stale": [], "check": {}})

    monkeypatch.setattr(early_checks, "run_checker", checker)
    early_checks.start_checker(tmp_path, _prefix(tmp_path))
    assert early_checks.wait_for(_prefix(tmp_path), "stale", lambda: True) is not None
    out, err = capfd.readouterr()
    assert "from the checker" not in out and "to stderr" not in err


def test_each_build_starts_from_an_empty_results_folder(tmp_path):
    first = early_checks.new_prefix(tmp_path)
    Path(f"{first}.stale").write_text(json.dumps({"stale": ["old"]}), encoding="utf-8")
    second = early_checks.new_prefix(tmp_path)
    assert second != first
    assert not Path(f"{first}.stale").exists()


def test_a_checker_whose_build_has_ended_refreshes_no_record(tmp_path, monkeypatch):
    import subprocess
    import sys

    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    prefix = str(tmp_path / f"{int(ended.stdout)}-1")
    from neuroimmune_review import data

    monkeypatch.setattr(data, "_DEFERRED_JOINS", None)  # the checker defers joins: undone after
    calls = []
    monkeypatch.setattr(early_checks, "validation_errors", lambda root: [])
    monkeypatch.setattr(early_checks.provenance, "stale_pages", lambda *a: calls.append(a) or [])
    early_checks.run_checker(tmp_path, prefix)
    assert calls == []  # the stale check, which rewrites records, did not run
    assert early_checks._read(Path(f"{prefix}.{early_checks.VALIDATED}")) == {"errors": 0}
    assert not Path(f"{prefix}.{early_checks.STALE}").exists()
    alive = str(tmp_path / f"{os.getpid()}-2")
    early_checks.run_checker(tmp_path, alive)
    assert (
        len(calls) == 1 and early_checks._read(Path(f"{alive}.{early_checks.STALE}"))["stale"] == []
    )
