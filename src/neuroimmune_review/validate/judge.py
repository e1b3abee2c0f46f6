"""Judging a column by its distinct values, and reporting the rows it rejects.

Columns hold few distinct values (vocabulary names, enums, chapters), so each rule
judges every distinct value once in Python and maps the verdicts back to the rows
with vectorised pandas operations.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..problems import ERROR, Problem
from .reader import CsvTable
from .report import _report_rows


def _judge_codes(
    index: pd.Index,
    codes: np.ndarray,
    uniques: np.ndarray,
    judge: Callable[[str], str | None],
    valid: np.ndarray | None = None,
) -> pd.Series:
    # One extra None so that code -1 (a missing value) is never flagged.  Values *valid*
    # marks (a vectorised test that only accepts) are not judged one by one.
    verdicts = np.full(len(uniques) + 1, None, dtype=object)
    todo = np.arange(len(uniques)) if valid is None else np.flatnonzero(~valid)
    verdicts[todo] = [judge(uniques[i]) for i in todo]
    # Rows are flagged through their value's verdict: one test per distinct value, not per row.
    flagged = pd.notna(verdicts)[codes]
    return pd.Series(verdicts[codes[flagged]], index=index[flagged], dtype=object)


def judge_column(
    table: CsvTable,
    column: str,
    judge: Callable[[str], str | None],
    accept: Callable[[np.ndarray], np.ndarray] | None = None,
) -> pd.Series:
    """Message per row whose value *judge* rejects (indexed by line); accepted rows are dropped.

    *accept*, given the distinct values, marks those *judge* would certainly accept, so only
    the others are judged one by one (columns of ids hold as many values as rows).
    """
    codes, uniques = table.distinct(column)
    valid = accept(uniques) if accept is not None and len(uniques) > _ACCEPT_FROM else None
    return _judge_codes(table.frame.index, codes, uniques, judge, valid)


_ACCEPT_FROM = 1000  # distinct values; below this, judging each one is as fast


def judge_distinct(values: pd.Series, judge: Callable[[str], str | None]) -> pd.Series:
    """As judge_column, for a derived Series of text."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    return _judge_codes(values.index, codes, np.asarray(uniques, dtype=object), judge)


def _messages(path: str, field: str, messages: pd.Series, severity: str = ERROR) -> list[Problem]:
    return _report_rows(path, field, messages, lambda message, _line: message, severity)
