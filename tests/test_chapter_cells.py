"""Chapters stay prose plus short calls: every code cell is at most 3 lines of package calls.

Numbers, tables and charts come from the package, so a cell may only import page modules
from ``neuroimmune_review`` and call their functions with literal arguments; it never
types its own page name (the page comes from the build's tracker).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
MAX_LINES = 3


def cell_code(body: str) -> str:
    """The code of a MyST code cell, without its ``:option:`` lines or ``---`` YAML header."""
    lines = body.splitlines()
    if lines and lines[0].strip() == "---":
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---")
        lines = lines[end + 1 :]
    while lines and re.match(r"^:[\w-]+:", lines[0]):
        lines = lines[1:]
    return "\n".join(lines).strip()


def cell_problems(code: str, modules: set[str] | None = None) -> list[str]:
    """Why *code* is not a short chapter cell (empty when it is one).

    *modules* holds the page modules earlier cells of the same page imported; this cell's
    imports are added to it.
    """
    lines = [
        line for line in code.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    problems = [f"{len(lines)} lines (at most {MAX_LINES})"] if len(lines) > MAX_LINES else []
    try:
        tree = ast.parse(code)
    except SyntaxError as error:
        return [*problems, f"not Python: {error.msg}"]
    modules = set() if modules is None else modules
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and (statement.module or "").startswith(
            "neuroimmune_review"
        ):
            modules.update(alias.asname or alias.name for alias in statement.names)
            continue
        call = statement.value if isinstance(statement, ast.Expr) else None
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id in modules
        ):
            problems.append(f"line {statement.lineno} is not a call of an imported page module")
            continue
        for argument in [*call.args, *(k.value for k in call.keywords)]:
            try:
                value = ast.literal_eval(argument)
            except ValueError:
                problems.append(f"line {statement.lineno}: argument is not a literal")
                continue
            if isinstance(value, str) and value.startswith("book/"):
                problems.append(f"line {statement.lineno} types a page name ({value!r})")
    return problems


def chapter_cells() -> dict[str, list[tuple[int, str]]]:
    """Page -> its code cells (line, code), in order."""
    pages = {}
    for page in sorted((REPO / "book").rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        pages[page.relative_to(REPO).as_posix()] = [
            (text.count("\n", 0, match.start()) + 1, cell_code(match.group(1)))
            for match in CELL.finditer(text)
        ]
    return pages


def test_every_chapter_cell_is_at_most_three_lines_of_package_calls():
    pages = chapter_cells()
    assert sum(map(len, pages.values())) > 80  # the chapters were really read
    bad = []
    for page, cells in pages.items():
        modules: set[str] = set()  # a page's kernel keeps what its earlier cells imported
        for line, code in cells:
            if problems := cell_problems(code, modules):
                bad.append(f"{page}:{line}: {'; '.join(problems)}")
    assert not bad, "chapter cells that are not short package calls:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ('from neuroimmune_review import charts\ncharts.class_effects("SSRI")', []),
        ("from neuroimmune_review import tables\ntables.chapter_evidence()", []),
        ("import pandas as pd\npd.read_csv('data/evidence.csv')", ["not a call", "not a call"]),
        ("from neuroimmune_review import data\nrows = data.evidence()", ["not a call"]),
        ("from neuroimmune_review import charts\ncharts.x(n=len([1]))", ["not a literal"]),
        (
            'from neuroimmune_review import summaries\nsummaries.chapter_summary("book/a/b", "x")',
            ["types a page name"],
        ),
        ("from neuroimmune_review import c\nc.a()\nc.b()\nc.d()", ["4 lines"]),
    ],
)
def test_cell_rule_tells_short_calls_from_code(code, expected):
    problems = cell_problems(code)
    assert len(problems) == len(expected), problems
    for problem, fragment in zip(problems, expected, strict=True):
        assert fragment in problem


def test_cell_options_are_not_code():
    assert cell_code(":tags: [remove-input]\n\nfrom neuroimmune_review import a\na.b()") == (
        "from neuroimmune_review import a\na.b()"
    )
    assert cell_code("---\ntags: [x]\n---\na.b()") == "a.b()"
