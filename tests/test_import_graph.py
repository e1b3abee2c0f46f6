"""The package's import graph has no cycle: each layer imports only the layers below it.

Every ``import`` statement counts, including the ones inside functions (a lazy import
hides a cycle from Python at import time, not from the reader).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "neuroimmune_review"


def _module_name(file: Path, package: Path) -> str:
    parts = ["neuroimmune_review", *file.relative_to(package).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package modules it imports (``from x import y`` counts x.y if it is one)."""
    files = {_module_name(f, package): f for f in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, file in files.items():
        is_package = file.name == "__init__.py"
        edges: set[str] = set()
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"), str(file))):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:
                    target = f"{source}.{alias.name}"
                    edges.add(target if target in files else source)
        graph[name] = {e for e in edges if e in files and e != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of *graph* as a path that returns to its start, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_package_import_graph_has_no_cycle():
    graph = import_graph()
    assert "neuroimmune_review.build.shared_kernels" in graph  # the graph was really read
    assert "neuroimmune_review.provenance" in graph["neuroimmune_review.build.sphinx_ext"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_executor_knows_nothing_of_sphinx():
    graph = import_graph()
    # The executor and its worker process import nothing else of the package.
    assert graph["neuroimmune_review.build.shared_kernels"] == {
        "neuroimmune_review.build.shell_worker",
        "neuroimmune_review.build.worker_processes",
    }
    assert graph["neuroimmune_review.build.worker_processes"] == {
        "neuroimmune_review.build.shell_worker"
    }
    assert graph["neuroimmune_review.build.shell_worker"] == set()


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
        ({"a": {"b"}, "b": {"b2"}, "b2": {"b"}}, ["b", "b2", "b"]),
    ],
)
def test_find_cycle_finds_cycles(graph, expected):
    assert find_cycle(graph) == expected


def test_import_graph_reads_lazy_and_relative_imports(tmp_path):
    package = tmp_path / "neuroimmune_review"
    (package / "build").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "paths.py").write_text("")
    (package / "build" / "__init__.py").write_text("")
    (package / "build" / "ext.py").write_text("from .. import paths\n")
    (package / "build" / "run.py").write_text("def f():\n    from .ext import x\n")
    graph = import_graph(package)
    assert graph["neuroimmune_review.build.ext"] == {"neuroimmune_review.paths"}
    assert graph["neuroimmune_review.build.run"] == {"neuroimmune_review.build.ext"}
