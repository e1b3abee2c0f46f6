"""What a check reports: a problem at a file, line and field, and how values are quoted.

Its own module so that rule modules outside the validator (screening's checks) can report
problems without importing the validator, which imports them.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"
# Longest value quoted in a message.
MAX_SHOWN_CHARS = 80


@dataclass(frozen=True, order=True)
class Problem:
    path: str  # relative to the validated root
    line: int  # 1-based physical line; 0 when the problem concerns the whole file
    field: str
    message: str
    severity: str = ERROR


def format_problem(problem: Problem) -> str:
    prefix = "warning: " if problem.severity == WARNING else ""
    return f"{problem.path}:{problem.line}: {problem.field}: {prefix}{problem.message}"


def show(value: object, limit: int | None = MAX_SHOWN_CHARS) -> str:
    """A value quoted for a message: escaped, and shortened if longer than *limit*."""
    text = str(value)
    if limit is not None and len(text) > limit:
        text = f"{text[:limit]}… ({len(text)} characters)"
    return repr(text)
