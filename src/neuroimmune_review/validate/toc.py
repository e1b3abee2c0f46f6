"""The book's chapters, read from ``_toc.yml``, and the rule that a ``chapter`` column names one."""

from __future__ import annotations

from pathlib import Path

import yaml
from sphinx_external_toc.parsing import MalformedError, parse_toc_data

from ..bib import decode_utf8
from ..problems import Problem, show
from .judge import _messages, judge_column
from .reader import CsvTable
from .report import Suggester

TOC_FILE = "_toc.yml"
CHAPTER_COLUMN = "chapter"


def load_chapters(root: Path) -> tuple[set[str] | None, list[Problem]]:
    """Chapter ids (``file:`` entries) of _toc.yml, or None with a problem if it cannot be read."""
    toc = root / TOC_FILE
    try:
        decoded = decode_utf8(toc.read_bytes())
        if decoded.error:
            return None, [Problem(TOC_FILE, decoded.error_line, "file", decoded.error)]
        chapters = _toc_docnames(yaml.safe_load(decoded.text))
    except FileNotFoundError:
        return None, [
            Problem(TOC_FILE, 0, "file", "file not found; expected the book's table of contents")
        ]
    except OSError as error:
        return None, [Problem(TOC_FILE, 0, "file", f"cannot read file ({error.strerror or error})")]
    except (
        yaml.YAMLError,
        ValueError,
        RecursionError,
    ) as error:  # PyYAML raises ValueError on bad dates
        mark = getattr(error, "problem_mark", None)
        reason = getattr(error, "problem", None) or f"{type(error).__name__}: {error}"
        return None, [
            Problem(TOC_FILE, mark.line + 1 if mark else 0, "file", f"not valid YAML ({reason})")
        ]
    except MalformedError as error:
        return None, [
            Problem(TOC_FILE, 0, "file", f"not a Jupyter Book table of contents ({error})")
        ]
    if not chapters:
        return None, [
            Problem(TOC_FILE, 0, "file", "no 'file:' entries; expected the book's chapters")
        ]
    return chapters, []


def _toc_docnames(content: object) -> set[str]:
    """Every document of the toc, read by sphinx-external-toc exactly as Jupyter Book reads it."""
    if not content:
        return set()
    if not isinstance(content, dict):
        raise MalformedError(
            f"expected a mapping with 'format' and 'root', got {type(content).__name__}"
        )
    return set(parse_toc_data(content).keys())


def check_chapters(table: CsvTable, chapters: set[str]) -> list[Problem]:
    suggest = Suggester(sorted(chapters))

    def judge(value: str) -> str | None:
        if not value.strip() or value in chapters:
            return None
        return f"{show(value)} is not a chapter in {TOC_FILE}{suggest.hint(value)}"

    return _messages(table.path, CHAPTER_COLUMN, judge_column(table, CHAPTER_COLUMN, judge))
