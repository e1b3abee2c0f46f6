"""The shared-kernel executor on its own: notebooks in, executed notebooks out."""

from __future__ import annotations

import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from neuroimmune_review.build import shared_kernels
from neuroimmune_review.build.shared_kernels import Job, WorkerDied, execute_notebooks


def _notebook(*sources: str) -> nbformat.NotebookNode:
    notebook = new_notebook(cells=[new_code_cell(s) for s in sources])
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python"}
    return notebook


def _outputs(notebook) -> list[str]:
    return [
        "".join(o.get("text", "") or o.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells
        for o in cell.outputs
    ]


@pytest.fixture(scope="module")
def two_pages_one_kernel(tmp_path_factory):
    """Three notebooks through one kernel: isolation, order, working directory, a failure."""
    first = tmp_path_factory.mktemp("first")
    second = tmp_path_factory.mktemp("second")
    jobs = [
        Job("a", _notebook("import os\nleft_behind = 41", "print(os.getcwd())"), str(first)),
        Job("b", _notebook("1 / 0", "print('never')")),
        Job(
            "c",
            _notebook("print('left_behind' in dir())", "import os; print(os.getcwd())"),
            str(second),
        ),
    ]
    results = execute_notebooks(jobs, workers=1, timeout=60)
    return results, first, second


def test_every_job_gets_one_result_sorted_by_name(two_pages_one_kernel):
    results, _, _ = two_pages_one_kernel
    assert [r.name for r in results] == ["a", "b", "c"]


def test_each_notebook_runs_in_its_own_folder_from_an_empty_namespace(two_pages_one_kernel):
    results, first, second = two_pages_one_kernel
    a, _, c = results
    assert a.ok and c.ok
    assert _outputs(a.notebook) == [f"{first}\n"]
    # Nothing the earlier page defined is left; the kernel (and its imports) was reused.
    assert _outputs(c.notebook)[0] == "False\n"
    assert _outputs(c.notebook)[1] == f"{second}\n"
    assert [cell.execution_count for cell in c.notebook.cells] == [1, 2]


def test_a_failing_notebook_fails_alone(two_pages_one_kernel):
    results, _, _ = two_pages_one_kernel
    failed = results[1]
    assert not failed.ok and failed.notebook is None
    assert "ZeroDivisionError" in failed.error
    assert results[2].ok  # the next page, in a fresh kernel, still ran


def test_allow_errors_keeps_the_error_in_the_output():
    [result] = execute_notebooks([Job("x", _notebook("1 / 0", "print(2)"))], workers=1, timeout=60)
    assert not result.ok
    [result] = execute_notebooks(
        [Job("x", _notebook("1 / 0", "print(2)"))], workers=1, timeout=60, allow_errors=True
    )
    assert result.ok
    assert result.notebook.cells[0].outputs[0]["ename"] == "ZeroDivisionError"
    assert _outputs(result.notebook)[-1] == "2\n"


def test_a_worker_that_dies_is_an_error_naming_the_page_and_the_cause():
    broken = (sys.executable, "-c", "import neuroimmune_review.build.no_such_module")
    with pytest.raises(WorkerDied) as caught:
        execute_notebooks([Job("book/p", _notebook("1"))], workers=1, worker_command=broken)
    message = str(caught.value)
    assert "exited with code 1 before answering 'book/p'" in message
    assert "ModuleNotFoundError" in message and "no_such_module" in message


def test_the_default_worker_command_names_this_module():
    assert shared_kernels.WORKER_COMMAND[-1] == (
        "from neuroimmune_review.build.shared_kernels import run_worker; run_worker()"
    )


def test_nothing_to_do_starts_no_worker():
    assert execute_notebooks([], workers=2) == []
    assert execute_notebooks([Job("x", _notebook("1"))], workers=0) == []


@pytest.mark.parametrize(("wanted", "jobs", "expected"), [("0", 5, 0), ("3", 2, 2), ("2", 9, 2)])
def test_worker_count_follows_the_environment(monkeypatch, wanted, jobs, expected):
    monkeypatch.setenv(shared_kernels.WORKERS_ENV, wanted)
    assert shared_kernels.worker_count(jobs) == expected
