"""The book's chapters from _toc.yml (validate/toc.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_review import (
    EVIDENCE,
    edit,
    errors,
    find,
    make_root,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_root(tmp_path)


def test_chapter_must_be_in_toc(root):
    edit(root, EVIDENCE, "20,book/antidepressants/tca", "20,book/antidepressants/tcas")
    find(
        errors(root),
        EVIDENCE,
        6,
        "chapter",
        "'book/antidepressants/tcas'",
        "_toc.yml",
        "did you mean 'book/antidepressants/tca'",
    )


def test_missing_toc(root):
    (root / "_toc.yml").unlink()
    find(errors(root), "_toc.yml", 0, "file", "file not found")


@pytest.mark.parametrize(
    "content", ["parts: [\n", "a: 2001-13-45\n", "[" * 5000, "a: &x [*x]\n", "just text\n", ""]
)
def test_broken_toc(root, content):
    (root / "_toc.yml").write_text(content, encoding="utf-8")
    problems = errors(root)
    assert [p.path for p in problems] == ["_toc.yml"], problems
