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
