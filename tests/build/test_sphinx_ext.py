"""The Sphinx side of shared-kernel execution: a dying worker is a build error, not a fallback."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from nbformat.v4 import new_code_cell, new_notebook
from sphinx.errors import ExtensionError

from neuroimmune_review.build import shared_kernels, sphinx_ext

# What a bad import string in the worker command did: the worker exits before answering.
BROKEN_WORKER = (sys.executable, "-c", "from neuroimmune_review.build.moved_away import run_worker")


def test_a_dying_worker_stops_the_build_with_a_clear_message(monkeypatch):
    notebook = new_notebook(cells=[new_code_cell("1 + 1")])
    job = shared_kernels.Job("book/antidepressants/ssri", notebook)
    monkeypatch.setenv(shared_kernels.WORKERS_ENV, "1")
    monkeypatch.setattr(
        sphinx_ext, "_pages_to_execute", lambda app, env, docnames: [(job, Path("ssri.md"))]
    )
    real = shared_kernels.execute_notebooks
    monkeypatch.setattr(
        shared_kernels,
        "execute_notebooks",
        lambda jobs, **options: real(jobs, **options, worker_command=BROKEN_WORKER),
    )
    config = SimpleNamespace(
        execution_mode="cache", execution_timeout=30, execution_allow_errors=False
    )
    with pytest.raises(ExtensionError) as caught:
        sphinx_ext.execute_in_shared_kernels(None, SimpleNamespace(mystnb_config=config), [])
    message = str(caught.value)
    assert "shared-kernel execution failed" in message
    assert "before answering 'book/antidepressants/ssri'" in message
    assert "ModuleNotFoundError: No module named 'neuroimmune_review.build.moved_away'" in message
    assert f"{shared_kernels.WORKERS_ENV}=0" in message  # and how to build without it


def test_execution_off_or_nothing_to_run_starts_no_worker(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("no worker expected")

    monkeypatch.setattr(shared_kernels, "execute_notebooks", fail)
    off = SimpleNamespace(mystnb_config=SimpleNamespace(execution_mode="off"))
    sphinx_ext.execute_in_shared_kernels(None, off, ["book/index"])
    monkeypatch.setattr(sphinx_ext, "_pages_to_execute", lambda app, env, docnames: [])
    cache = SimpleNamespace(mystnb_config=SimpleNamespace(execution_mode="cache"))
    sphinx_ext.execute_in_shared_kernels(None, cache, ["book/index"])


def test_validation_runs_again_only_when_what_it_reads_changes(tmp_path, monkeypatch):
    repo = Path(__file__).resolve().parents[2]
    import shutil

    from neuroimmune_review import validate

    for name in ("_toc.yml", "_config.yml", "references.bib"):
        shutil.copy(repo / name, tmp_path / name)
    shutil.copytree(repo / "data", tmp_path / "data")
    shutil.copytree(repo / "book", tmp_path / "book")
    runs = []
    real = validate.validate_root
    monkeypatch.setattr(validate, "validate_root", lambda root: runs.append(1) or real(root))
    sphinx_ext._validate_first(tmp_path)
    sphinx_ext._validate_first(tmp_path)
    assert len(runs) == 1  # nothing changed: the kept verdict
    page = tmp_path / "book/neuroimmunology/introduction.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    sphinx_ext._validate_first(tmp_path)
    assert len(runs) == 1  # prose without a new citation: validation reads nothing of it
    evidence = tmp_path / "data/evidence.csv"
    rows = evidence.read_text(encoding="utf-8").splitlines(keepends=True)
    evidence.write_text("".join(rows[:-1]), encoding="utf-8")  # one row fewer
    sphinx_ext._validate_first(tmp_path)
    assert len(runs) == 2
    # A data error found once is found from the kept verdict too, with the same message.
    evidence.write_text("".join(rows) + "EV_BAD,not a row\n", encoding="utf-8")
    messages = []
    for _ in range(2):
        with pytest.raises(ExtensionError) as caught:
            sphinx_ext._validate_first(tmp_path)
        messages.append(str(caught.value))
    assert len(runs) == 3 and messages[0] == messages[1]
    assert "data validation failed" in messages[0] and "evidence.csv" in messages[0]
