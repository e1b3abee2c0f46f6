"""How a rule words and caps its problems: "did you mean …", capped lists, relative paths.

Every rule module reports through these, so a curator reads one style of message.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from ..problems import ERROR, Problem, show

# Beyond this many problems of one kind in one file, the rest are summarised in one line.
MAX_PROBLEMS_PER_RULE = 50

# ---------------------------------------------------------------------------
# "Did you mean …"

_GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "kappa": "κ"}
_GREEK_WORD = re.compile("|".join(_GREEK), re.IGNORECASE)


def _fold(text: str) -> str:
    """Case-, space- and Greek-spelling-insensitive form: 'TNF alpha' and 'tnf-α' fold alike."""
    text = _GREEK_WORD.sub(lambda m: _GREEK[m.group(0).lower()], text.casefold())
    return re.sub(r"[\s_\-]+", "", text)


class Suggester:
    """Closest allowed value for a wrong one.

    Matching is costly, so only the first *budget* distinct wrong values get a
    suggestion: values are judged in order of appearance, so these cover every
    row that is reported (at most MAX_PROBLEMS_PER_RULE per rule).
    """

    def __init__(
        self,
        choices: Iterable[str],
        aliases: dict[str, str] | None = None,
        budget: int = MAX_PROBLEMS_PER_RULE + 1,
    ):
        self.choices = [c for c in dict.fromkeys(choices) if c]
        self._by_fold = {_fold(alias): name for alias, name in (aliases or {}).items()}
        self._by_fold.update({_fold(c): c for c in self.choices})
        self._cache: dict[str, str | None] = {}
        self._budget = budget

    def __call__(self, value: str) -> str | None:
        if value not in self._cache:
            self._cache[value] = self._suggest(value)
        return self._cache[value]

    def _suggest(self, value: str) -> str | None:
        if not value.strip() or len(value) > 200 or self._budget <= 0:
            return None
        self._budget -= 1
        folded = _fold(value)
        if folded in self._by_fold:
            return self._by_fold[folded]
        close = difflib.get_close_matches(folded, list(self._by_fold), n=1, cutoff=0.75)
        if close:
            return self._by_fold[close[0]]
        close = difflib.get_close_matches(value, self.choices, n=1, cutoff=0.6)
        return close[0] if close else None

    def hint(self, value: str) -> str:
        suggestion = self(value)
        return f"; did you mean {show(suggestion)}?" if suggestion and suggestion != value else ""


def _one_of(choices: Iterable[str], limit: int = 12) -> str:
    choices = list(choices)
    listed = ", ".join(choices[:limit])
    return f"one of {listed}" + (
        f" (and {len(choices) - limit} more)" if len(choices) > limit else ""
    )


# ---------------------------------------------------------------------------
# Reporting helpers


def _report_rows(
    path: str,
    field: str,
    flagged: pd.Series,
    describe: Callable[[str, int], str],
    severity: str = ERROR,
) -> list[Problem]:
    """One problem per flagged row (values indexed by line), capped at MAX_PROBLEMS_PER_RULE."""
    if flagged.empty:
        return []
    shown = flagged.iloc[:MAX_PROBLEMS_PER_RULE]
    problems = [
        Problem(path, int(line), field, describe(str(value), int(line)), severity)
        for line, value in shown.items()
    ]
    hidden = len(flagged) - len(shown)
    if hidden > 0:
        next_line = int(flagged.index[MAX_PROBLEMS_PER_RULE])
        problems.append(
            Problem(path, next_line, field, f"… and {hidden} more rows with this problem", severity)
        )
    return problems


def _cap(problems: list[Problem]) -> list[Problem]:
    """Cap a list of problems of one kind built outside _report_rows."""
    if len(problems) <= MAX_PROBLEMS_PER_RULE:
        return problems
    extra = problems[MAX_PROBLEMS_PER_RULE]
    hidden = len(problems) - MAX_PROBLEMS_PER_RULE
    summary = Problem(
        extra.path, extra.line, extra.field, f"… and {hidden} more like this", extra.severity
    )
    return problems[:MAX_PROBLEMS_PER_RULE] + [summary]


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
