"""The shared-kernel executor on its own: notebooks in, executed notebooks out."""

from __future__ import annotations

import copy
import json
import os
import shutil
import sys
import time
from pathlib import Path

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


def test_a_page_that_raises_is_left_to_myst_nb_even_when_errors_are_allowed():
    # The worker does not rebuild error outputs: myst-nb runs such a page in a real kernel,
    # which records (allow_errors) or reports the error exactly as always.
    for allow in (False, True):
        [result] = execute_notebooks(
            [Job("x", _notebook("1 / 0", "print(2)"))], workers=1, timeout=60, allow_errors=allow
        )
        assert not result.ok and result.notebook is None
        assert "ZeroDivisionError" in result.error


def test_a_worker_that_dies_is_an_error_naming_the_page_and_the_cause():
    broken = (sys.executable, "-c", "import neuroimmune_review.build.no_such_module")
    with pytest.raises(WorkerDied) as caught:
        execute_notebooks([Job("book/p", _notebook("1"))], workers=1, worker_command=broken)
    message = str(caught.value)
    assert "exited with code 1 before answering 'book/p'" in message
    assert "ModuleNotFoundError" in message and "no_such_module" in message


def test_a_worker_that_cannot_start_is_an_error_not_a_wait_for_ever(tmp_path):
    missing = (str(tmp_path / "no-such-python"),)
    with pytest.raises(WorkerDied) as caught:
        execute_notebooks([Job("book/p", _notebook("1"))], workers=1, worker_command=missing)
    assert "FileNotFoundError" in str(caught.value)


def test_results_can_be_claimed_one_by_one_while_later_jobs_run(tmp_path):
    """An Execution takes jobs as they come and gives each result when asked for it."""
    execution = shared_kernels.Execution(workers=1, timeout=60)
    try:
        execution.submit(Job("first", _notebook("print('one')")))
        first = execution.result("first")  # before any later job exists
        execution.submit(Job("second", _notebook("print('two')")))
        execution.seal()
        with pytest.raises(RuntimeError):
            execution.submit(Job("third", _notebook("1")))
        assert _outputs(first.notebook) == ["one\n"]
        assert _outputs(execution.result("second").notebook) == ["two\n"]
        assert execution.workers == 1  # the same worker ran both
        with pytest.raises(KeyError):
            execution.result("never submitted")
    finally:
        execution.close()


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


# Cells whose outputs cover what pages produce: streams, display_data with several mimetypes
# and metadata, an execute_result with a mimebundle and metadata, output history, a magic,
# get_ipython(), and a print between two displays.
KERNEL_CELLS = (
    "print('out'); print('more')",
    "from IPython.display import HTML, Markdown, display\n"
    "display(HTML('<b>bold</b>'), metadata={'tag': 1})\ndisplay(Markdown('*m*'))",
    "class Both:\n"
    "    def _repr_mimebundle_(self, include=None, exclude=None):\n"
    "        return {'text/plain': 'both', 'text/html': '<i>both</i>'}, {'text/html': {'k': 2}}\n"
    "Both()",
    "display('first'); print('between'); display('second')",
    "21",
    "_ * 2",
    "%pwd",
    "x = get_ipython() is not None\nprint(x, __name__)",
    "",
    "print('last')",
)


def test_outputs_are_those_of_a_jupyter_kernel(tmp_path):
    from nbclient import NotebookClient

    notebook = _notebook(*KERNEL_CELLS)
    reference = copy.deepcopy(notebook)
    NotebookClient(
        reference,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    [result] = execute_notebooks([Job("k", notebook, str(tmp_path))], workers=1, timeout=60)
    assert result.ok
    assert nbformat.writes(result.notebook) == nbformat.writes(reference)
    # and the notebook holds what the cells made, so the comparison compared something
    outputs = [cell.outputs for cell in result.notebook.cells]
    assert outputs[0][0]["name"] == "stdout" and outputs[0][0]["text"] == "out\nmore\n"
    assert outputs[1][0]["metadata"] == {"tag": 1} and "text/html" in outputs[1][0]["data"]
    assert outputs[2][0]["output_type"] == "execute_result"
    assert outputs[2][0]["metadata"] == {"text/html": {"k": 2}}
    assert [o["output_type"] for o in outputs[3]] == ["display_data", "stream", "display_data"]
    assert outputs[5][0]["data"]["text/plain"] == "42"
    assert outputs[6][0]["data"]["text/plain"] == repr(str(tmp_path))
    assert outputs[7][0]["text"] == "True __main__\n"
    assert result.notebook.metadata["language_info"]["name"] == "python"
    counts = [cell.execution_count for cell in result.notebook.cells]
    assert counts == [1, 2, 3, 4, 5, 6, 7, 8, None, 9]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("import sys; print('warned', file=sys.stderr)", "wrote to stderr"),
        ("import warnings; warnings.warn('careful')", "wrote to stderr"),
        ("h = display('first', display_id='d'); h.update('second')", "display id"),
        ("from IPython.display import clear_output; clear_output()", "clear_output"),
        ("raise ValueError('bad')", "ValueError"),
    ],
)
def test_outputs_the_worker_does_not_rebuild_send_the_page_to_myst_nb(cell, reason):
    [result] = execute_notebooks([Job("p", _notebook("1", cell))], workers=1, timeout=60)
    assert not result.ok and result.notebook is None
    assert reason in result.error


def test_the_input_history_stays_in_memory(tmp_path, monkeypatch):
    # A history file made each cell a SQLite commit on a thread the next cell waited for.
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path))
    cells = ("1 + 1", "print(In[1], _i1, len(In))")
    [result] = execute_notebooks([Job("h", _notebook(*cells))], workers=1, timeout=60)
    assert result.ok and _outputs(result.notebook) == ["2", "1 + 1 1 + 1 3\n"]
    assert not list(tmp_path.rglob("history.sqlite"))


def test_a_page_worker_leaves_each_page_with_its_whole_record(tmp_path, monkeypatch):
    # provenance writes a worker's page record when the worker says the page is done.
    from neuroimmune_review import provenance

    repo = Path(__file__).resolve().parents[2]
    for name in ("_toc.yml", "references.bib"):
        shutil.copy(repo / name, tmp_path / name)
    shutil.copytree(repo / "data", tmp_path / "data")
    monkeypatch.setenv("REVIEW_ROOT", str(tmp_path))
    cells = (
        "from neuroimmune_review import data, provenance\nprovenance.begin_page('book/p')",
        "data.vocabulary(name='mediators')\ndata.evidence(drug_class='SSRI')\nNone",
    )
    command = shared_kernels.worker_command([provenance.__name__])
    [result] = execute_notebooks(
        [Job("p", _notebook(*cells))], workers=1, timeout=60, worker_command=command
    )
    assert result.ok
    record = provenance.record_path("book/p", tmp_path)
    in_worker = record.read_bytes()
    record.unlink()
    try:  # the same page here, where every change is written at once
        exec(cells[0] + "\n" + cells[1])
    finally:
        provenance._page = None
    assert json.loads(in_worker)["inputs"] and record.read_bytes() == in_worker


def test_a_failed_page_leaves_no_state_to_the_next():
    jobs = [
        Job("a", _notebook("import json\njson.left_behind = 1\n1 / 0")),
        Job("b", _notebook("import json\nprint(hasattr(json, 'left_behind'))")),
    ]
    a, b = execute_notebooks(jobs, workers=1, timeout=60)
    assert not a.ok and b.ok
    assert _outputs(b.notebook) == ["False\n"]  # a fresh worker, as a fresh kernel was


def test_a_cell_over_its_timeout_fails_the_page():
    started = time.perf_counter()
    [result] = execute_notebooks(
        [Job("slow", _notebook("import time\ntime.sleep(30)"))], workers=1, timeout=1
    )
    assert not result.ok
    assert "ran longer than 1 s" in result.error
    assert time.perf_counter() - started < 25


def test_workers_started_early_are_used_then_closed():
    early = shared_kernels.start_workers(2)
    results = execute_notebooks(
        [Job("a", _notebook("print(1)"))], workers=1, timeout=60, started=early
    )
    assert results[0].ok and _outputs(results[0].notebook) == ["1\n"]
    # the one used and the one not needed have both exited
    assert all(worker._process.poll() is not None for worker in early)


def test_the_worker_imports_what_it_is_told_before_the_first_page():
    command = shared_kernels.worker_command(["neuroimmune_review.paths", "no_such_module_here"])
    [result] = execute_notebooks(
        [Job("a", _notebook("import sys\nprint('neuroimmune_review.paths' in sys.modules)"))],
        workers=1,
        timeout=60,
        worker_command=command,
    )
    # imported before the page asked for it; a module that cannot load is no worker failure
    assert result.ok and _outputs(result.notebook) == ["True\n"]


def test_default_workers_are_forked_from_a_server_that_has_no_thread(monkeypatch):
    """The page modules are imported once, by multiprocessing's fork server, which forks each
    worker while it has one thread; the workers get the caller's environment, not the server's."""
    from multiprocessing import forkserver

    monkeypatch.setenv("REVIEW_TEST_MARK", "from the caller")
    command = shared_kernels.worker_command(["neuroimmune_review.paths"])
    workers = shared_kernels.start_workers(2, command)
    assert all(isinstance(w._process, shared_kernels._ForkedProcess) for w in workers)
    page = _notebook(
        "import os, sys",
        "print(os.environ.get('REVIEW_TEST_MARK'), os.environ.get('OPENBLAS_NUM_THREADS'))",
        f"print('neuroimmune_review.paths' in sys.modules, os.getppid() != {os.getpid()})",
        "print(sys.path[0] == '')  # a page's own folder first, as in a kernel",
    )
    results = execute_notebooks(
        [Job("a", page), Job("b", copy.deepcopy(page))], workers=2, timeout=60, started=workers
    )
    assert [_outputs(r.notebook) for r in results] == [
        ["from the caller None\n", "True True\n", "True\n"]
    ] * 2
    server = forkserver._forkserver._forkserver_pid  # multiprocessing's own record of it
    assert len(os.listdir(f"/proc/{server}/task")) == 1
    assert all(w._process.poll() is not None for w in workers)


def test_any_other_worker_command_runs_as_a_process_of_its_own():
    worker = shared_kernels.Worker((sys.executable, "-c", "import sys; sys.exit(3)"))
    assert isinstance(worker._process, shared_kernels._CommandProcess)
    assert worker.ask({"notebook": ""}) is None
    assert worker.close()[0] == 3


PRELOAD_CHECK = """
from neuroimmune_review.build import page_execution, shared_kernels
from nbformat.v4 import new_code_cell, new_notebook

command = shared_kernels.worker_command([page_execution.PRELOAD_MODULE])
workers = shared_kernels.start_workers(1, command, {page_execution.PRELOAD_ROOT_ENV: %r})
page = new_notebook(cells=[new_code_cell(
    "import os\\nfrom neuroimmune_review import data\\n"
    "print(data._cached_join.cache_info().currsize, len(data._ROW_HASHES),"
    " os.environ.get('REVIEW_PRELOAD_ROOT'))"
)])
page.metadata["kernelspec"] = {"name": "python3"}
[result] = shared_kernels.execute_notebooks(
    [shared_kernels.Job("a", page)], workers=1, timeout=60, started=workers
)
print(result.notebook.cells[0].outputs[0]["text"] if result.ok else result.error)
"""


def test_the_fork_server_loads_the_evidence_once_for_every_worker():
    """Forked workers inherit the joined evidence and its row hashes, loaded by the server for the
    review it was told (its own fork server: a process has one, started once)."""
    import subprocess
    from pathlib import Path

    from neuroimmune_review.build import fork_preload, page_execution

    assert page_execution.PRELOAD_ROOT_ENV == fork_preload.ROOT_ENV
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, "-c", PRELOAD_CHECK % str(root / "book")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd="/",
    )
    # joined once, hashed once, before the page asked; the page sees the caller's environment
    assert run.stdout.strip().splitlines()[-1] == "1 1 None", run.stdout + run.stderr


COLLECTOR_CHECK = """
import gc, os
os.environ["REVIEW_FORK_MAIN_NAME"] = "x"  # what the fork server alone is started with
import neuroimmune_review.build.fork_main
print(gc.isenabled())
import neuroimmune_review.build.fork_preload
print(gc.isenabled(), gc.get_freeze_count() > 0)
"""


def test_the_fork_server_imports_with_the_collector_off_and_turns_it_back_on():
    """``fork_main`` (the server's first import) turns the collector off for the server's
    imports; ``fork_preload`` (its last) freezes what they loaded and turns it back on."""
    import subprocess

    environment = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_")}
    run = subprocess.run(
        [sys.executable, "-c", COLLECTOR_CHECK],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        cwd="/",
    )
    assert run.stdout.split() == ["False", "True", "True"], run.stdout + run.stderr


def test_a_forked_worker_runs_pages_with_the_collector_on():
    page = new_notebook(cells=[new_code_cell("import gc\nprint(gc.isenabled())")])
    workers = shared_kernels.start_workers(1, shared_kernels.worker_command([]))
    [result] = execute_notebooks([Job("a", page)], workers=1, timeout=60, started=workers)
    assert result.ok, result.error
    assert result.notebook.cells[0].outputs[0]["text"].strip() == "True"


UNNEEDED_CHECK = """
import time
from neuroimmune_review.build import shared_kernels

workers = shared_kernels.start_workers(1, shared_kernels.worker_command(["slow_import"]))
began = time.perf_counter()
shared_kernels.close_workers(workers)  # while the fork server still imports slow_import
print(round(time.perf_counter() - began), workers[0]._process.poll())
workers[0]._process._starting.join()  # then the worker is started, and ended at once
print(workers[0]._process._process.exitcode is not None)
"""


def test_ending_an_unneeded_worker_does_not_wait_for_the_fork_server(tmp_path):
    import subprocess

    (tmp_path / "slow_import.py").write_text("import time\ntime.sleep(4)\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-c", UNNEEDED_CHECK],
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        },
    )
    assert run.stdout.split() == ["0", "-9", "True"], run.stdout + run.stderr


UNGUARDED_SCRIPT = """
from pathlib import Path
from nbformat.v4 import new_code_cell, new_notebook
from neuroimmune_review.build import shared_kernels

with open(Path(__file__).with_suffix(".runs"), "a") as runs:
    runs.write("ran\\n")  # at the top level, as a script without a main guard does its work
page = new_notebook(cells=[new_code_cell("print(6 * 7)")])
page.metadata["kernelspec"] = {"name": "python3"}
workers = shared_kernels.start_workers(2)
results = shared_kernels.execute_notebooks(
    [shared_kernels.Job("a", page), shared_kernels.Job("b", page)], workers=2, timeout=60,
    started=workers,
)
print([r.notebook.cells[0].outputs[0]["text"] if r.ok else r.error for r in results])
"""


def test_a_forked_worker_does_not_run_the_callers_script_again(tmp_path):
    """multiprocessing recreates the caller's main module in each process it starts; the
    workers find it already there (fork_main), so a script without a main guard runs once."""
    import subprocess

    script = tmp_path / "build_it.py"
    script.write_text(UNGUARDED_SCRIPT, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert run.stdout.strip() == "['42\\n', '42\\n']", run.stdout + run.stderr
    assert script.with_suffix(".runs").read_text(encoding="utf-8") == "ran\n"


TEARDOWN_CHECK = """
from nbformat.v4 import new_code_cell, new_notebook
from neuroimmune_review.build import shared_kernels

page = new_notebook(cells=[new_code_cell("print(6 * 7)")])
page.metadata["kernelspec"] = {"name": "python3"}
workers = shared_kernels.start_workers(1, shared_kernels.worker_command(["slow_teardown"]))
[result] = shared_kernels.execute_notebooks(
    [shared_kernels.Job("a", page)], workers=1, timeout=60, started=workers
)
print(result.notebook.cells[0].outputs[0]["text"] if result.ok else result.error)
"""

SLOW_TEARDOWN = """
import os, sys, time

class TornDown:
    def __init__(self):  # what __del__ needs, kept: module globals may be gone by then
        self.path, self.open, self.sleep = os.environ["REVIEW_TEST_TORN"], open, time.sleep

    def __del__(self):  # runs when the interpreter tears its modules down
        self.sleep(2)
        with self.open(self.path, "a") as file:
            file.write("torn down\\n")

KEPT = TornDown()
"""


def test_the_fork_server_leaves_without_tearing_down_its_heap(tmp_path):
    """When the build's process exits, the fork server (which holds the build's stdout and
    stderr) exits at once instead of tearing down pandas, Altair and the evidence: a reader of
    the build's output no longer waits for it."""
    import subprocess

    (tmp_path / "slow_teardown.py").write_text(SLOW_TEARDOWN, encoding="utf-8")
    torn = tmp_path / "torn.txt"
    run = subprocess.run(
        [sys.executable, "-c", TEARDOWN_CHECK],
        capture_output=True,  # waits for every holder of the pipes, the server included
        text=True,
        timeout=300,
        env={
            **os.environ,
            "REVIEW_TEST_TORN": str(torn),
            "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        },
    )
    assert run.stdout.strip() == "42", run.stdout + run.stderr
    assert not torn.exists(), torn.read_text(encoding="utf-8")


def test_the_language_info_written_out_is_ipykernels():
    """The fork server no longer imports ipykernel (ZMQ, Tornado) for this one dict."""
    from ipykernel.ipkernel import IPythonKernel

    from neuroimmune_review.build import shell_worker

    assert shell_worker.language_info() == IPythonKernel.language_info
    assert "ipykernel.ipkernel" not in shell_worker.SHELL_MODULES
