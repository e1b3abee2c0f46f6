"""No module grows past ~500 lines without saying, in its docstring, why it is long."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LIMIT = 500
MARKER = "Long by design:"


def long_modules_without_reason(folders=("src", "benchmarks", "scripts")) -> list[str]:
    missing = []
    for folder in folders:
        for file in sorted((REPO / folder).rglob("*.py")):
            text = file.read_text(encoding="utf-8")
            lines = text.count("\n")
            if lines > LIMIT and MARKER not in (ast.get_docstring(ast.parse(text)) or ""):
                missing.append(f"{file.relative_to(REPO)} ({lines} lines)")
    return missing


def test_long_modules_state_why():
    missing = long_modules_without_reason()
    assert not missing, (
        f"modules over {LIMIT} lines whose docstring has no '{MARKER} <reason>': "
        + ", ".join(missing)
    )
