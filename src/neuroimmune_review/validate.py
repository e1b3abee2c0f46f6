"""Checks for ``data/`` and ``references.bib``.

Every check is a pure function returning a list of :class:`Problem`; nothing is
written. Column names, required fields, enums, patterns and keys come from
``data/datapackage.json`` (see :mod:`schema`), so this module holds only the
rules a Table Schema cannot express: citation keys, source-article reference
numbers, chapters, duplicate findings and the bibliography's own rules.

Row checks are vectorised with pandas. Each table's DataFrame is indexed by the
physical line on which the record starts, so a mask over the frame gives the
line numbers to report directly.

Long by design: one rule per function, each with the message a curator reads, and
the rules share one CSV reader and one reporting path; split across modules they
would have to pass those around. (Its reader could stand alone; see issue 12.)
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sphinx_external_toc.parsing import MalformedError, parse_toc_data

from . import paths
from .bib import (
    SOURCE_ARTICLE_KEY,
    SOURCE_REFERENCE_COUNT,
    Bibliography,
    decode_utf8,
    load_bibliography,
    reference_report,
)
from .problems import ERROR, MAX_SHOWN_CHARS, WARNING, Problem, format_problem, show  # noqa: F401
from .reference_map import (
    IDENTIFIER_FIELDS,
    MAP_RESOURCE,
    PMCID_PATTERN,
    PROVENANCE_RESOURCE,
    UNRESOLVED,
    canonical_record,
    expand_group,
    host_problem,
)
from .schema import FieldSpec, SchemaError, TableSpec, datapackage_path, load_package

# Beyond this many problems of one kind in one file, the rest are summarised in one line.
MAX_PROBLEMS_PER_RULE = 50

DOI_PATTERN = re.compile(r"^10\.\d{4,9}/\S+$")
WEB_URL_PATTERN = re.compile(r"(?i)^https?://[^\s]+$")
BIB_REQUIRED_FIELDS = ("author", "title", "year")
TOC_FILE = "_toc.yml"
BOOK_DIR = "book"
# Columns of a vocabulary that hold other spellings of its names, used for "did you mean".
ALIAS_COLUMNS = ("aliases", "synonyms")
# A finding is the same finding when these agree (citation normalised, see _finding_keys).
FINDING_COLUMNS = (
    "claim_type",
    "intervention",
    "comparator",
    "mediator",
    "direction",
    "citation",
    "sample",
)
# Cross-file rules, applied to a column of that name in any table of the package.
CITATION_COLUMN = "citation"
REVIEW_REF_COLUMN = "review_ref"
CHAPTER_COLUMN = "chapter"
# Fields that no longer belong in the BibTeX, and where their content lives now.
MOVED_BIB_FIELDS = {
    "reviewref": "the source article's reference numbers are in data/reference_map.csv",
    "source": "where an identifier was seen is in data/reference_provenance.csv",
}
# MyST citation roles in book pages: {cite}`a,b`, {cite:p}`a`, {cite:t}`a;b`.
BOOK_CITATION = re.compile(r"\{cite(?::\w+)?\}`([^`]*)`")


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


# ---------------------------------------------------------------------------
# Reading a CSV file into a frame indexed by physical line


@dataclass
class CsvTable:
    path: str  # relative, for messages
    header: list[str] = field(default_factory=list)
    header_line: int = 1
    # Well-formed records only; every column is text; the index is the record's first line.
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    _distinct: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    def distinct(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """(code per row, distinct values) of *column*, computed once and shared by every rule."""
        if column not in self._distinct:
            codes, uniques = pd.factorize(self.frame[column].to_numpy(dtype=object))
            self._distinct[column] = (codes, np.asarray(uniques, dtype=object))
        return self._distinct[column]


_CSV_ERROR_EXPLANATIONS = {
    "unexpected end of data": "unterminated quoted field: a '\"' opened in this record is never closed; "
    "expected a closing '\"'",
    "',' expected after '\"'": "text after a closing '\"'; expected ',' or end of line "
    "(quote the whole field and double any '\"' inside it)",
}


@contextmanager
def _large_csv_fields() -> Iterator[None]:
    # The csv module refuses fields over 128 KiB; a huge field is reported, not a crash.
    previous = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _parse_records(text: str, path: str) -> tuple[list[list[str]], list[int], list[Problem]]:
    """CSV records of *text* with the physical line each starts on, and malformed-record problems."""
    records: list[list[str]] = []
    starts: list[int] = []
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    previous_end = 0
    with _large_csv_fields():
        while True:
            try:
                for record in reader:
                    starts.append(previous_end + 1)
                    records.append(record)
                    previous_end = reader.line_num
                break
            except csv.Error as error:
                reason = _CSV_ERROR_EXPLANATIONS.get(str(error), f"malformed CSV ({error})")
                problems.append(Problem(path, previous_end + 1, "row", reason))
                if reader.line_num == previous_end:  # no progress: stop rather than loop
                    break
                previous_end = reader.line_num
    return records, starts, _cap(problems)


def _nul_problems(text: str, path: str) -> list[Problem]:
    """One problem per line holding a NUL byte (the first MAX_PROBLEMS_PER_RULE of them)."""
    problems: list[Problem] = []
    line, scanned = 1, 0
    for match in re.finditer("\x00", text):
        line += text.count(
            "\n", scanned, match.start()
        )  # counted incrementally: linear in the file size
        scanned = match.start()
        if problems and problems[-1].line == line:
            continue
        if len(problems) == MAX_PROBLEMS_PER_RULE:
            problems.append(Problem(path, line, "encoding", "… and more lines with NUL bytes"))
            break
        problems.append(
            Problem(path, line, "encoding", "NUL byte (\\x00) in the line; expected text")
        )
    return problems


_FIELD = r'(?:[^",\r\n]*|"(?:[^"]|"")*")'


def _regular_frame(text: str) -> tuple[list[str], pd.DataFrame] | None:
    """Header and body of *text* parsed by pandas' C reader, if the file is regular; else None.

    Performance only: at 248k rows the C reader takes a third of the time of ``csv`` plus
    building the frame.  Regular means every physical line is one well-formed record with as
    many fields as the header (checked line by line with a regular expression): there, both
    readers give the same fields, and line *i* of the file is record *i*.  Any other file
    (blank or short lines, a bad quote, a field spanning lines, a lone CR) returns None and
    is read record by record, so its problems are reported exactly.
    """
    if "\x00" in text or text.count("\r") != text.count("\r\n"):
        return None  # NUL bytes and lone CRs: the C reader's rules differ from csv's
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) < 2:
        return None
    header = next(csv.reader([lines[0]], strict=True), [])
    if not header:
        return None
    # Lines without a quote only need the right number of commas; the others the full pattern.
    commas = len(header) - 1
    record = re.compile(rf"{_FIELD}(?:,{_FIELD}){{{commas}}}\r?")
    for line in lines:
        if '"' in line:
            if record.fullmatch(line) is None:
                return None
        elif line.count(",") != commas or line in ("", "\r"):
            return None
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            header=None,
            skiprows=1,
            dtype=object,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except (ValueError, csv.Error):
        return None
    if frame.shape != (len(lines) - 1, len(header)):
        return None
    frame.index = pd.RangeIndex(2, len(lines) + 1, name="line")
    return header, frame


def read_csv_table(
    file: Path, root: Path, expected_columns: list[str]
) -> tuple[CsvTable | None, list[Problem]]:
    """Read one CSV of the package; never raises. Returns None when nothing usable was read."""
    path = _relative(file, root)
    expected = ",".join(expected_columns)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        return None, [
            Problem(
                path,
                0,
                "file",
                f"file not found; expected a CSV with header {show(expected, None)}",
            )
        ]
    except OSError as error:
        return None, [Problem(path, 0, "file", f"cannot read file ({error.strerror or error})")]
    problems: list[Problem] = []
    decoded = decode_utf8(data)
    if decoded.error:
        problems.append(Problem(path, decoded.error_line, "encoding", decoded.error))
    text = decoded.text
    if text.startswith("\ufeff"):
        problems.append(
            Problem(
                path,
                1,
                "encoding",
                "file starts with a byte-order mark; expected UTF-8 without BOM",
                WARNING,
            )
        )
        text = text[1:]
    problems += _nul_problems(text, path)
    if not text.strip():
        problems.append(
            Problem(
                path, 1, "header", f"file is empty; expected a header row {show(expected, None)}"
            )
        )
        return None, problems

    regular = _regular_frame(text)
    if regular is not None:
        header, frame = regular
        problems += _header_problems(header, expected_columns, path, 1)
        return CsvTable(path, header, 1, _first_copies(header, frame)), problems

    records, starts, malformed = _parse_records(text, path)
    problems += malformed
    if not records:
        problems.append(
            Problem(path, 1, "header", f"no readable header row; expected {show(expected, None)}")
        )
        return None, problems
    header, header_line = records[0], starts[0]
    problems += _header_problems(header, expected_columns, path, header_line)

    body, body_starts = records[1:], starts[1:]
    widths = pd.Series([len(r) for r in body], index=body_starts, dtype="int64")
    blank = widths[widths == 0]
    problems += _report_rows(
        path,
        "row",
        blank,
        lambda _v, _l: "blank line; expected a record (blank rows are not allowed)",
    )
    wrong = widths[(widths != len(header)) & (widths != 0)]
    problems += _report_rows(
        path,
        "row",
        wrong,
        lambda v, _l: f"record has {v} fields; expected {len(header)} as in the header",
    )
    good = (widths == len(header)).to_numpy()
    good_records = [record for record, ok in zip(body, good, strict=False) if ok]
    lines = pd.Index(
        [line for line, ok in zip(body_starts, good, strict=False) if ok],
        name="line",
        dtype="int64",
    )
    # Plain Python strings (object dtype): distinct values come back as a NumPy array,
    # which the per-distinct-value rules iterate much faster than pandas' string arrays.
    if good_records:
        frame = pd.DataFrame(good_records, index=lines, dtype=object)
    else:
        frame = pd.DataFrame(index=lines, columns=range(len(header)), dtype=object)
    return CsvTable(path, header, header_line, _first_copies(header, frame)), problems


def _first_copies(header: list[str], frame: pd.DataFrame) -> pd.DataFrame:
    """Columns named by *header*; a repeated name is reported elsewhere, its first copy is checked."""
    first_position: dict[str, int] = {}
    for position, name in enumerate(header):
        first_position.setdefault(name, position)
    frame = frame.iloc[:, list(first_position.values())]
    frame.columns = list(first_position)
    return frame


def _header_problems(header: list[str], expected: list[str], path: str, line: int) -> list[Problem]:
    if header == expected:
        return []
    counts = Counter(header)
    known = set(expected)
    # Distinct names, at most a capped number: a garbage header can have millions of fields.
    duplicated = [name for name, count in counts.items() if count > 1][: MAX_PROBLEMS_PER_RULE + 1]
    missing = [name for name in expected if name not in counts]
    unexpected = [name for name in counts if name not in known][: MAX_PROBLEMS_PER_RULE + 1]
    suggest = Suggester(expected)
    expected_header = show(",".join(expected), None)
    problems = [
        Problem(
            path, line, "header", f"column {show(name)} appears more than once; expected it once"
        )
        for name in duplicated
    ]
    problems += [
        Problem(
            path, line, "header", f"missing column {show(name)}; expected header {expected_header}"
        )
        for name in missing
    ]
    problems += [
        Problem(
            path,
            line,
            "header",
            f"unexpected column {show(name)}{suggest.hint(name)}; "
            "expected only the columns documented in data/datapackage.json",
        )
        for name in unexpected
    ]
    if not problems:
        problems.append(
            Problem(
                path,
                line,
                "header",
                f"columns are in the wrong order: {show(','.join(header))}; "
                f"expected {expected_header}",
            )
        )
    return _cap(problems)


# ---------------------------------------------------------------------------
# Table Schema rules (from datapackage.json)
#
# Columns hold few distinct values (vocabulary names, enums, chapters), so each
# rule judges every distinct value once in Python and maps the verdicts back to
# the rows with vectorised pandas operations.


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
    messages = verdicts[codes]
    flagged = pd.notna(messages)
    return pd.Series(messages[flagged], index=index[flagged], dtype=object)


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


_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_TYPE_SHAPES = {
    "integer": _INTEGER,
    "number": _NUMBER,
    "year": re.compile(r"\d{4}"),
    "boolean": re.compile(r"true|false|True|False|TRUE|FALSE|1|0"),
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
}


def _judge_field_value(spec: FieldSpec) -> Callable[[str], str | None]:
    """The Table Schema rules for one non-empty value of *spec*, as one function."""
    suggest = Suggester(spec.enum or ())
    expected_enum = f"; expected {_one_of(spec.enum)}" if spec.enum else ""
    pattern = re.compile(spec.pattern) if spec.pattern else None
    shape = _TYPE_SHAPES.get(spec.type)

    def judge(value: str) -> str | None:
        if not value.strip():
            if spec.required:
                return f"required value is empty{expected_enum or '; expected a value'}"
            return None
        if spec.enum is not None and value not in spec.enum:
            return f"{show(value)} is not allowed{expected_enum}{suggest.hint(value)}"
        if shape is not None:
            if not shape.fullmatch(value.strip()):
                return f"{show(value)} is not a valid {spec.type}"
            if spec.type in ("integer", "number"):
                number = float(value)
                if spec.minimum is not None and number < spec.minimum:
                    return f"{show(value)} is below the minimum {spec.minimum}"
                if spec.maximum is not None and number > spec.maximum:
                    return f"{show(value)} is above the maximum {spec.maximum}"
        if pattern is not None and not pattern.fullmatch(value):
            return f"{show(value)} does not match the pattern {show(spec.pattern)}"
        return None

    return judge


def _accept_field_values(spec: FieldSpec) -> Callable[[np.ndarray], np.ndarray] | None:
    """A vectorised test passing only values ``_judge_field_value(spec)`` accepts (or None)."""
    if spec.type in ("integer", "number") and (
        spec.minimum is not None or spec.maximum is not None
    ):
        return None  # ranges: judged value by value
    shape = _TYPE_SHAPES.get(spec.type)
    enum = frozenset(spec.enum) if spec.enum is not None else None
    pattern = re.compile(spec.pattern) if spec.pattern else None

    def passes(value: str) -> bool:
        stripped = value.strip()
        return bool(
            stripped
            and (enum is None or value in enum)
            and (shape is None or shape.fullmatch(stripped))
            and (pattern is None or pattern.fullmatch(value))
        )

    def accept(values: np.ndarray) -> np.ndarray:
        # One light test per value instead of the full judge with its messages.
        return np.fromiter(map(passes, values), dtype=bool, count=len(values))

    return accept


def check_field(table: CsvTable, spec: FieldSpec) -> list[Problem]:
    """Required, enum, type, range and pattern rules of one field."""
    has_rules = spec.required or spec.enum is not None or spec.type in _TYPE_SHAPES or spec.pattern
    if not has_rules:  # free text such as notes: nothing to judge, and the most distinct values
        return []
    try:
        judge = _judge_field_value(spec)
    except re.error as error:
        message = f"pattern {show(spec.pattern)} in datapackage.json is not a valid regular expression ({error})"
        return [Problem(table.path, 0, spec.name, message)]
    accept = _accept_field_values(spec)
    return _messages(table.path, spec.name, judge_column(table, spec.name, judge, accept))


def check_unique(table: CsvTable, columns: tuple[str, ...], label: str) -> list[Problem]:
    """Values (or value tuples) of *columns* must not repeat; each repeat names its first line."""
    frame = table.frame
    if not columns or frame.empty or any(c not in frame for c in columns):
        return []
    keys = frame[list(columns)]
    keys = keys[(keys != "").any(axis=1)]  # empty values are the required rule's business
    repeated = keys.duplicated(keep="first")
    if not repeated.any():
        return []
    group = keys.groupby(list(columns), sort=False).ngroup()
    first_line = pd.Series(keys.index, index=keys.index).groupby(group.to_numpy()).transform("min")

    def describe(_flag: str, line: int) -> str:
        value = ", ".join(keys.loc[line])
        return f"{label} {show(value)} repeats line {first_line.loc[line]}; expected unique values"

    return _report_rows(table.path, ",".join(columns), repeated[repeated], describe)


def check_table_schema(table: CsvTable, spec: TableSpec) -> list[Problem]:
    problems: list[Problem] = []
    for field_spec in spec.fields:
        if field_spec.name in table.frame:
            problems += check_field(table, field_spec)
    unique_sets = [tuple(spec.primary_key)] + [
        (f.name,) for f in spec.fields if f.unique and (f.name,) != tuple(spec.primary_key)
    ]
    for columns in unique_sets:
        problems += check_unique(table, columns, "duplicate value")
    return problems


def split_list(value: str) -> list[str]:
    """Items of a ';'-separated cell, stripped, empty items kept (so 'a;;b' can be reported)."""
    return [item.strip() for item in value.split(";")] if value.strip() else []


def _aliases(table: CsvTable, name_column: str) -> dict[str, str]:
    """Alias -> name from a vocabulary's alias/synonym columns (';'-separated)."""
    aliases: dict[str, str] = {}
    for column in ALIAS_COLUMNS:
        if column in table.frame and name_column in table.frame:
            for name, cell in zip(table.frame[name_column], table.frame[column], strict=False):
                for alias in split_list(cell):
                    if alias:
                        aliases.setdefault(alias, name)
    return aliases


def check_foreign_keys(
    table: CsvTable, spec: TableSpec, tables: dict[str, CsvTable]
) -> list[Problem]:
    problems: list[Problem] = []
    for foreign_key in spec.foreign_keys:
        target = tables.get(foreign_key.resource)
        if target is None or len(foreign_key.fields) != 1 or len(foreign_key.reference_fields) != 1:
            continue  # a missing target file is reported on its own; composite keys are not used here
        column, target_column = foreign_key.fields[0], foreign_key.reference_fields[0]
        if column not in table.frame or target_column not in target.frame:
            continue
        allowed = set(target.frame[target_column])
        suggest = Suggester(sorted(allowed), _aliases(target, target_column))

        def judge(value: str) -> str | None:
            if not value.strip() or value in allowed:  # noqa: B023 - called within this iteration
                return None
            return f"{show(value)} is not a {target_column} in {target.path}{suggest.hint(value)}"  # noqa: B023 - called within this iteration

        problems += _messages(table.path, column, judge_column(table, column, judge))
    return problems


# ---------------------------------------------------------------------------
# Cross-file rules: citation keys, source-article reference numbers, chapters


def check_citations(table: CsvTable, known_keys: set[str], bib_path: str) -> list[Problem]:
    suggest = Suggester(sorted(known_keys))

    def judge(cell: str) -> str | None:
        keys = split_list(cell)
        if "" in keys:
            return f"{show(cell)} has an empty key; expected BibTeX keys separated by ';'"
        unknown = [key for key in keys if key not in known_keys]
        if not unknown:
            return None
        hints = "".join(suggest.hint(key) for key in unknown[:3])
        return f"citation key{'s' * (len(unknown) > 1)} {', '.join(map(show, unknown))} not in {bib_path}{hints}"

    return _messages(table.path, CITATION_COLUMN, judge_column(table, CITATION_COLUMN, judge))


def check_review_refs(
    table: CsvTable, reference_count: int = SOURCE_REFERENCE_COUNT
) -> list[Problem]:
    expected = f"expected integers from 1 to {reference_count} separated by ';'"

    def judge(cell: str) -> str | None:
        items = split_list(cell)
        bad = [item for item in items if not (item.isascii() and item.isdigit())]
        if bad:
            return (
                f"{show(cell)} has {', '.join(map(show, bad))}, not a reference number; {expected}"
            )
        outside = [item for item in items if not 1 <= int(item) <= reference_count]
        if outside:
            return f"{show(cell)}: reference number {', '.join(outside)} is outside the source article's 1-{reference_count}"
        return None

    return _messages(table.path, REVIEW_REF_COLUMN, judge_column(table, REVIEW_REF_COLUMN, judge))


def check_chapters(table: CsvTable, chapters: set[str]) -> list[Problem]:
    suggest = Suggester(sorted(chapters))

    def judge(value: str) -> str | None:
        if not value.strip() or value in chapters:
            return None
        return f"{show(value)} is not a chapter in {TOC_FILE}{suggest.hint(value)}"

    return _messages(table.path, CHAPTER_COLUMN, judge_column(table, CHAPTER_COLUMN, judge))


def _normalised_codes(
    table: CsvTable, column: str, normalise: Callable[[str], str]
) -> tuple[np.ndarray, np.ndarray]:
    """Codes per row that are equal when the normalised values are, and the normalised distinct values."""
    codes, uniques = table.distinct(column)
    normalised = np.array([normalise(value) for value in uniques] + [""], dtype=object)
    merged_codes, merged_uniques = pd.factorize(normalised)
    return merged_codes[codes], np.asarray(merged_uniques, dtype=object)


def _sorted_list(value: str) -> str:
    """A ';'-list with items stripped and sorted, so 'a; b' and 'b;a' compare equal."""
    return ";".join(sorted(filter(None, split_list(value))))


def _finding_keys(table: CsvTable) -> pd.DataFrame:
    """Integer codes per row and FINDING_COLUMNS part; equal rows are the same finding."""
    keys = {column: _normalised_codes(table, column, str.strip)[0] for column in FINDING_COLUMNS}
    citation_codes, citations = _normalised_codes(table, CITATION_COLUMN, _sorted_list)
    keys[CITATION_COLUMN] = citation_codes
    # Rows that cite only the source article are told apart by its reference number:
    # two unresolved numbers are two different sources, not one finding twice.
    if REVIEW_REF_COLUMN in table.frame:
        source_only = np.isin(citations, ["", SOURCE_ARTICLE_KEY])[citation_codes]
        review_ref_codes, _ = _normalised_codes(table, REVIEW_REF_COLUMN, _sorted_list)
        keys[REVIEW_REF_COLUMN] = np.where(source_only, review_ref_codes, -1)
    return pd.DataFrame(keys, index=table.frame.index)


def check_duplicate_findings(table: CsvTable) -> list[Problem]:
    frame = table.frame
    if not set(FINDING_COLUMNS) <= set(frame.columns) or frame.empty:
        return []
    keys = _finding_keys(table)
    repeated = keys.duplicated(keep="first")
    if not repeated.any():
        return []
    group = keys.groupby(list(keys.columns), sort=False).ngroup()
    first_line = pd.Series(keys.index, index=keys.index).groupby(group.to_numpy()).transform("min")
    ids = frame["id"] if "id" in frame else pd.Series("", index=frame.index)

    def describe(_value: str, line: int) -> str:
        row = frame.loc[line]
        values = ", ".join(f"{c}={show(row[c])}" for c in FINDING_COLUMNS)
        return (
            f"finding {show(ids.loc[line])} duplicates the finding on line {first_line.loc[line]} ({values}); "
            "expected each finding once"
        )

    return _report_rows(table.path, "finding", repeated[repeated], describe)


def check_citation_consistency(
    table: CsvTable, keys_by_number: dict[int, list[str]]
) -> list[Problem]:
    """Warnings where a row's citation disagrees with data/reference_map.csv."""
    frame = table.frame
    if CITATION_COLUMN not in frame or REVIEW_REF_COLUMN not in frame or frame.empty:
        return []
    separator = "\x1f"

    def judge(pair: str) -> str | None:
        citation, review_ref = pair.split(separator, 1)
        keys = [key for key in split_list(citation) if key]
        numbers = [int(n) for n in split_list(review_ref) if n.isascii() and n.isdigit()]
        primary = [key for key in keys if key != SOURCE_ARTICLE_KEY]
        if keys and not primary:
            resolved = {n: keys_by_number[n] for n in numbers if n in keys_by_number}
            if resolved:
                listed = "; ".join(f"{n} -> {', '.join(ks)}" for n, ks in resolved.items())
                return (
                    f"cites only {SOURCE_ARTICLE_KEY} but data/reference_map.csv resolves its review_ref "
                    f"({listed}); expected the primary study's key"
                )
        elif primary:
            # A number resolved to works none of which the row cites points at a wrong key.
            # (Unresolved numbers are not flagged: their gap stays visible through review_ref.)
            mismatched = {
                n: keys_by_number[n]
                for n in numbers
                if n in keys_by_number and not set(keys_by_number[n]) & set(primary)
            }
            if mismatched:
                listed = "; ".join(f"{n} -> {', '.join(ks)}" for n, ks in mismatched.items())
                return (
                    f"cites {', '.join(primary)}, but data/reference_map.csv resolves its review_ref to other "
                    f"entries ({listed}); expected a citation matching the reference number"
                )
        return None

    def names_resolved_number(review_ref: str) -> bool:
        return any(
            n.isascii() and n.isdigit() and int(n) in keys_by_number for n in split_list(review_ref)
        )

    # Only rows whose review_ref is resolved in the reference map can disagree with it.
    codes, review_refs = table.distinct(REVIEW_REF_COLUMN)
    relevant = np.array([names_resolved_number(value) for value in review_refs] + [False])
    rows = frame[relevant[codes]]
    pairs = rows[CITATION_COLUMN] + separator + rows[REVIEW_REF_COLUMN]
    return _messages(table.path, CITATION_COLUMN, judge_distinct(pairs, judge), WARNING)


# ---------------------------------------------------------------------------
# Evidence model v2 (see data/datapackage.json and CONTRIBUTING.md)

V2_COLUMNS = ("claim_type", "comparator", "reported_as")
CONVERTER = "python scripts/convert_evidence_v1.py"
MAX_REPORTED_WORDS = 8
POOLED_KIND = "pooled_group"
MEMBERS_COLUMN = "members"


def v1_evidence_problem(file: Path, root: Path, spec: TableSpec) -> Problem | None:
    """One clear error for an evidence file written under the v1 model (no claim_type, comparator
    or reported_as columns), instead of one error per missing column and row."""
    try:
        first = decode_utf8(file.read_bytes()).text.lstrip("\ufeff").splitlines()[:1]
    except OSError:
        return None
    if not first:
        return None
    header = next(csv.reader(io.StringIO(first[0])), [])
    missing = [c for c in V2_COLUMNS if c in spec.columns and c not in header]
    if len(missing) < len(V2_COLUMNS) or "intervention" not in header:
        return None
    path = _relative(file, root)
    return Problem(
        path,
        1,
        "header",
        f"this evidence file is written under the v1 evidence model (its header has no "
        f"{', '.join(V2_COLUMNS)} columns); expected the v2 header {show(','.join(spec.columns), None)}. "
        f"Convert it with `{CONVERTER} {path} > NEW.csv`, which adds the three columns empty, then "
        "fill claim_type, comparator and reported_as for every row by hand (the validator names each "
        "empty one) and replace the file with NEW.csv",
    )


OUTCOME_FAMILIES = ("clinical outcome", "neural function")


def check_evidence_model(table: CsvTable, mediators: CsvTable | None = None) -> list[Problem]:
    """Rules of the v2 model a Table Schema cannot state clearly: one citation key per row,
    reported_as at most MAX_REPORTED_WORDS words, and a non_mediator_outcome row names an
    outcome (family clinical outcome or neural function).  claim_type, comparator and
    direction are required values or enums in datapackage.json, reported by the schema rules."""
    problems: list[Problem] = []
    frame = table.frame
    if (
        mediators is not None
        and {"claim_type", "mediator"} <= set(frame.columns)
        and {"name", "family"} <= set(mediators.frame.columns)
    ):
        family = dict(zip(mediators.frame["name"], mediators.frame["family"], strict=False))
        outcome_rows = frame[frame["claim_type"] == "non_mediator_outcome"]
        wrong = outcome_rows["mediator"][
            outcome_rows["mediator"].map(family).isin(set(family.values()) - set(OUTCOME_FAMILIES))
        ]
        problems += _report_rows(
            table.path,
            "mediator",
            wrong,
            lambda value, _line: (
                f"{show(value)} is a mediator of family {show(family[value])}, but claim_type is "
                f"'non_mediator_outcome'; expected an outcome of family "
                f"{' or '.join(map(repr, OUTCOME_FAMILIES))} in {mediators.path}, or another claim_type"
            ),
        )
    if CITATION_COLUMN in frame:

        def one_key(cell: str) -> str | None:
            keys = [key for key in split_list(cell) if key]
            if len(keys) > 1:
                return (
                    f"{show(cell)} names {len(keys)} works; expected exactly one BibTeX key per row "
                    "(make one row per work, each with its own review_ref number)"
                )
            return None

        problems += _messages(
            table.path, CITATION_COLUMN, judge_column(table, CITATION_COLUMN, one_key)
        )
    if "reported_as" in frame:

        def short(value: str) -> str | None:
            words = len(value.split())
            if words > MAX_REPORTED_WORDS:
                return (
                    f"{show(value)} has {words} words; expected the source's own verb or phrase "
                    f"in at most {MAX_REPORTED_WORDS} words (put the rest in note)"
                )
            return None

        problems += _messages(table.path, "reported_as", judge_column(table, "reported_as", short))
    return problems


def check_aliases(table: CsvTable, name_column: str = "name") -> list[Problem]:
    """An alias or synonym must not be the name of another entry (error: it would point a reader,
    and the "did you mean" hints, at the wrong entry); one shared by two entries is ambiguous
    (warning)."""
    problems: list[Problem] = []
    for column in ALIAS_COLUMNS:
        if column in table.frame and name_column in table.frame and not table.frame.empty:
            problems += _alias_problems(table, column, name_column)
    return problems


def _alias_problems(table: CsvTable, column: str, name_column: str) -> list[Problem]:
    frame = table.frame
    names = set(frame[name_column])
    owners: dict[str, set[str]] = {}
    for name, cell in zip(frame[name_column], frame[column], strict=False):
        for alias in split_list(cell):
            if alias:
                owners.setdefault(alias.casefold(), set()).add(name)

    def clash(pair: str) -> str | None:
        name, cell = pair.split("\x1f", 1)
        clashes = [a for a in split_list(cell) if a and a in names and a != name]
        if clashes:
            return (
                f"{column} of {show(name)} lists {', '.join(map(show, clashes))}, the name of another "
                f"entry; expected only other spellings of {show(name)} (remove it from {column})"
            )
        return None

    def shared(pair: str) -> str | None:
        name, cell = pair.split("\x1f", 1)
        both = {
            a: sorted(owners[a.casefold()] - {name})
            for a in split_list(cell)
            if a and len(owners.get(a.casefold(), ())) > 1 and a not in names
        }
        if not both:
            return None
        listed = "; ".join(f"{show(a)} also of {', '.join(map(show, o))}" for a, o in both.items())
        return (
            f"{column} of {show(name)} shared with other entries ({listed}); "
            "expected each alias to name one entry"
        )

    pairs = frame[name_column] + "\x1f" + frame[column]
    return _messages(table.path, column, judge_distinct(pairs, clash)) + _messages(
        table.path, column, judge_distinct(pairs, shared), WARNING
    )


def check_pooled_groups(table: CsvTable) -> list[Problem]:
    """A pooled_group lists >= 2 members, each a drug of this file; its drug_class is set exactly
    when all members share one class, and then equals it; other kinds have no members."""
    frame = table.frame
    if not {"name", "kind", "drug_class", MEMBERS_COLUMN} <= set(frame.columns) or frame.empty:
        return []
    kinds = dict(zip(frame["name"], frame["kind"], strict=False))
    classes = dict(zip(frame["name"], frame["drug_class"], strict=False))
    suggest = Suggester(sorted(kinds))
    separator = "\x1f"

    def judge(triple: str) -> str | None:
        kind, members_cell, drug_class = triple.split(separator)
        members = [m for m in split_list(members_cell) if m]
        if kind != POOLED_KIND:
            if members:
                return f"members {show(members_cell)} given for kind {show(kind)}; expected members only for kind {POOLED_KIND!r}"
            return None
        if len(members) < 2:
            return (
                f"pooled group has {len(members)} member(s) ({show(members_cell)}); expected at least two "
                "drug names separated by ';'"
            )
        unknown = [m for m in members if m not in kinds]
        if unknown:
            hints = "".join(suggest.hint(m) for m in unknown[:3])
            return f"member(s) {', '.join(map(show, unknown))} not a name in {table.path}{hints}; expected drugs listed in this file"
        not_drugs = [m for m in members if kinds[m] != "drug"]
        if not_drugs:
            return (
                f"member(s) {', '.join(f'{show(m)} (kind {kinds[m]})' for m in not_drugs)} are not drugs; "
                "expected each member to be of kind 'drug'"
            )
        shared = {classes[m] for m in members}
        common = shared.pop() if len(shared) == 1 else ""
        if drug_class != common:
            if common:
                return (
                    f"drug_class {show(drug_class)} but every member is {show(common)}; expected drug_class "
                    f"{show(common)}"
                )
            listed = ", ".join(f"{m}={show(classes[m])}" for m in members)
            return (
                f"drug_class {show(drug_class)} but the members do not share one class ({listed}); expected "
                "drug_class empty"
            )
        return None

    triples = frame["kind"] + separator + frame[MEMBERS_COLUMN] + separator + frame["drug_class"]
    return _messages(table.path, MEMBERS_COLUMN, judge_distinct(triples, judge))


# ---------------------------------------------------------------------------
# references.bib


def check_bibliography(
    bibliography: Bibliography, path: str, reference_count: int = SOURCE_REFERENCE_COUNT
) -> list[Problem]:
    problems: list[Problem] = []
    if bibliography.read_error:
        problems.append(
            Problem(path, bibliography.read_error_line, "file", bibliography.read_error)
        )
    first_line = {key: bibliography.line_of(key) for key in bibliography.entries}
    failures = []
    for failure in bibliography.failed:
        if failure.kind == "duplicate_key":
            message = (
                f"duplicate key {show(failure.key)}; first defined on line {first_line.get(failure.key, '?')}; "
                "expected unique keys"
            )
            failures.append(Problem(path, failure.line, "key", message))
        else:
            failures.append(
                Problem(
                    path,
                    failure.line,
                    "entry",
                    f"{failure.message}; expected a well-formed BibTeX entry",
                )
            )
    problems += _cap(failures)

    by_rule: dict[str, list[Problem]] = {}
    doi_owner: dict[str, str] = {}
    for key, fields in bibliography.entries.items():
        line = first_line[key]
        for name in BIB_REQUIRED_FIELDS:
            if not fields.get(name, "").strip():
                by_rule.setdefault(name, []).append(
                    Problem(
                        path,
                        line,
                        name,
                        f"entry {show(key)} has no {name}; expected {', '.join(BIB_REQUIRED_FIELDS)}",
                    )
                )
        doi = fields.get("doi", "").strip()
        if "doi" in fields and not DOI_PATTERN.match(doi):
            by_rule.setdefault("doi", []).append(
                Problem(
                    path,
                    line,
                    "doi",
                    f"DOI {show(doi)} of entry {show(key)} is malformed; expected a bare DOI like "
                    "'10.1234/abc' (no https://doi.org/ prefix)",
                )
            )
        elif doi:
            owner = doi_owner.setdefault(doi.casefold(), key)
            if owner != key:
                by_rule.setdefault("duplicate doi", []).append(
                    Problem(
                        path,
                        line,
                        "doi",
                        f"DOI {show(doi)} of entry {show(key)} is also the DOI of {show(owner)} "
                        f"(line {first_line[owner]}); expected one entry per work",
                    )
                )
        url = fields.get("url", "").strip()
        if "url" in fields and not WEB_URL_PATTERN.match(url):
            # The References page turns url into a link: only web addresses may become one.
            by_rule.setdefault("url", []).append(
                Problem(
                    path,
                    line,
                    "url",
                    f"url {show(url)} of entry {show(key)} is not a web address; expected one "
                    "starting with https:// or http://",
                )
            )
        pmid = fields.get("pmid", "").strip()
        if "pmid" in fields and not (pmid.isascii() and pmid.isdigit()):
            by_rule.setdefault("pmid", []).append(
                Problem(
                    path,
                    line,
                    "pmid",
                    f"PMID {show(pmid)} of entry {show(key)} is not a number; expected digits only",
                )
            )
        for name, moved_to in MOVED_BIB_FIELDS.items():
            if name in fields:
                by_rule.setdefault(name, []).append(
                    Problem(
                        path,
                        line,
                        name,
                        f"entry {show(key)} has a {name} field ({show(fields[name], 40)}); expected none: "
                        f"{moved_to}, so the published BibTeX stays clean",
                    )
                )
        pmcid = fields.get("pmcid", "").strip()
        if "pmcid" in fields and not PMCID_PATTERN.match(pmcid):
            by_rule.setdefault("pmcid", []).append(
                Problem(
                    path,
                    line,
                    "pmcid",
                    f"PMCID {show(pmcid)} of entry {show(key)} is malformed; expected PMC followed by digits",
                )
            )
    for rule_problems in by_rule.values():
        problems += _cap(rule_problems)
    return problems


def book_citation_keys(root: Path) -> set[str]:
    """Keys cited with MyST {cite} roles in the book's pages."""
    keys: set[str] = set()
    book = root / BOOK_DIR
    if not book.is_dir():
        return keys
    for page in sorted(book.rglob("*")):
        if page.suffix not in {".md", ".ipynb"} or not page.is_file():
            continue
        try:
            text = page.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for group in BOOK_CITATION.findall(text):
            keys.update(k.strip() for k in re.split(r"[,;]", group) if k.strip())
    return keys


def check_unused_entries(bibliography: Bibliography, path: str, cited: set[str]) -> list[Problem]:
    unused = [key for key in bibliography.entries if key not in cited and key != SOURCE_ARTICLE_KEY]
    return _cap(
        [
            Problem(
                path,
                bibliography.line_of(key),
                "key",
                f"entry {show(key)} is not cited by the data or the book",
                WARNING,
            )
            for key in unused
        ]
    )


# ---------------------------------------------------------------------------
# data/reference_map.csv and data/reference_provenance.csv
#
# Which work each reference number of the source article is, and where each identifier
# of references.bib was seen (see :mod:`reference_map`). The Table Schema checks the
# columns one by one; these rules tie the two tables to each other and to the BibTeX.


def map_keys_by_number(table: CsvTable | None) -> dict[int, list[str]]:
    """Resolved number -> [key] from a reference map table (malformed rows are skipped)."""
    if table is None or not {"ref", "key"} <= set(table.frame.columns):
        return {}
    result: dict[int, list[str]] = {}
    for ref, key in zip(table.frame["ref"], table.frame["key"], strict=True):
        ref, key = ref.strip(), key.strip()
        if key and ref.isascii() and ref.isdigit():
            result.setdefault(int(ref), []).append(key)
    return result


def check_reference_map(
    table: CsvTable,
    bibliography: Bibliography | None,
    bib_path: str,
    reference_count: int = SOURCE_REFERENCE_COUNT,
) -> list[Problem]:
    """Numbers 1..N each once; keys exist in the BibTeX; confidence agrees with the key; groups hold their number."""
    frame = table.frame
    if not {"ref", "key", "confidence", "group"} <= set(frame.columns):
        return []
    problems: list[Problem] = []
    numbers = {int(v) for v in frame["ref"] if v.strip().isascii() and v.strip().isdigit()}
    missing = [n for n in range(1, reference_count + 1) if n not in numbers]
    if missing:
        from .bib import format_number_ranges

        problems.append(
            Problem(
                table.path,
                0,
                "ref",
                f"reference number(s) {format_number_ranges(missing)} have no row; expected one row "
                f"for every number from 1 to {reference_count}",
            )
        )
    if bibliography is not None and not (bibliography.read_error and not bibliography.entries):
        known = set(bibliography.entries) | {f.key for f in bibliography.failed if f.key}
        suggest = Suggester(sorted(known))

        def judge_key(value: str) -> str | None:
            if not value.strip() or value in known:
                return None
            return f"key {show(value)} is not an entry of {bib_path}{suggest.hint(value)}"

        problems += _messages(table.path, "key", judge_column(table, "key", judge_key))
    separator = "\x1f"
    pairs = frame["key"].str.strip() + separator + frame["confidence"]

    def judge_confidence(pair: str) -> str | None:
        key, confidence = pair.split(separator, 1)
        if key and confidence == UNRESOLVED:
            return f"confidence {show(confidence)} but key {show(key)} is given; expected exact or probable"
        if not key and confidence and confidence != UNRESOLVED:
            return f"confidence {show(confidence)} but no key; expected {show(UNRESOLVED)} for a number without a key"
        return None

    problems += _messages(table.path, "confidence", judge_distinct(pairs, judge_confidence))
    pairs = frame["ref"].str.strip() + separator + frame["group"].str.strip()

    def judge_group(pair: str) -> str | None:
        ref, group = pair.split(separator, 1)
        if not group or not ref.isdigit():
            return None
        try:
            members = expand_group(group)
        except ValueError:
            return None  # the schema's pattern reports a malformed group
        if int(ref) not in members:
            return f"group {show(group)} does not contain the row's own number {ref}; expected the group it is printed in"
        return None

    problems += _messages(table.path, "group", judge_distinct(pairs, judge_group))
    return problems


def check_provenance(
    table: CsvTable, bibliography: Bibliography | None, bib_path: str
) -> list[Problem]:
    """Each row names an identifier the entry has, and its canonical record on an allowed host."""
    frame = table.frame
    if not {"key", "field", "value", "record"} <= set(frame.columns):
        return []
    usable = bibliography is not None and not (bibliography.read_error and not bibliography.entries)
    entries = bibliography.entries if usable else {}
    problems: list[Problem] = []
    if usable:
        known = set(entries) | {f.key for f in bibliography.failed if f.key}
        suggest = Suggester(sorted(known))

        def judge_key(value: str) -> str | None:
            if not value.strip() or value in known:
                return None
            return f"key {show(value)} is not an entry of {bib_path}{suggest.hint(value)}"

        problems += _messages(table.path, "key", judge_column(table, "key", judge_key))
    separator = "\x1f"
    rows = frame["key"] + separator + frame["field"] + separator + frame["value"]

    def judge_value(triple: str) -> str | None:
        key, name, value = triple.split(separator, 2)
        if not usable or key not in entries or name not in IDENTIFIER_FIELDS or not value.strip():
            return None
        in_bib = entries[key].get(name, "").strip()
        if not in_bib:
            return f"{name} {show(value)} is not in entry {show(key)} of {bib_path}; expected a row only for an identifier the entry has"
        if value.strip().casefold() != in_bib.casefold():
            return f"{name} {show(value)} differs from entry {show(key)}'s {name} {show(in_bib)} in {bib_path}; expected the same value"
        return None

    problems += _messages(table.path, "value", judge_distinct(rows, judge_value))
    records = frame["field"] + separator + frame["value"] + separator + frame["record"]

    def judge_record(triple: str) -> str | None:
        name, value, record = triple.split(separator, 2)
        if not record.strip():
            return None  # required: the schema says so
        if name in IDENTIFIER_FIELDS:
            expected = canonical_record(name, value)
            if record.strip() != expected:
                why = host_problem(record)
                reason = f" ({show(record)} {why})" if why else ""
                return f"record {show(record)} is not the canonical record of {name} {show(value)}{reason}; expected {show(expected)}"
            return None
        why = host_problem(record)
        if why:
            return f"record {show(record)} {why}"
        if name == "url" and record.strip() != value.strip():
            return f"record {show(record)} differs from the url {show(value)}; expected the publisher page itself"
        return None

    problems += _messages(table.path, "record", judge_distinct(records, judge_record))
    return problems


def check_identifiers_have_provenance(
    bibliography: Bibliography, path: str, provenance: CsvTable, provenance_path: str
) -> list[Problem]:
    """Every DOI, PMID and PMCID of references.bib has a row in the provenance table."""
    frame = provenance.frame
    if not {"key", "field", "value"} <= set(frame.columns):
        return []
    listed = {
        (key, name, value.strip().casefold())
        for key, name, value in zip(frame["key"], frame["field"], frame["value"], strict=True)
    }
    problems = []
    for key, fields in bibliography.entries.items():
        for name in IDENTIFIER_FIELDS:
            value = fields.get(name, "").strip()
            if value and (key, name, value.casefold()) not in listed:
                problems.append(
                    Problem(
                        path,
                        bibliography.line_of(key),
                        name,
                        f"{name} {show(value)} of entry {show(key)} has no row in {provenance_path}; "
                        "expected where it was seen (its canonical record, and seen canonical or secondary)",
                    )
                )
    return _cap(problems)


# ---------------------------------------------------------------------------
# _toc.yml


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


# ---------------------------------------------------------------------------
# Everything


@dataclass
class ValidationResult:
    root: Path
    problems: list[Problem] = field(default_factory=list)
    bibliography: Bibliography | None = None
    tables: dict[str, CsvTable] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def evidence(self) -> pd.DataFrame | None:
        table = self.tables.get("evidence")
        return table.frame if table is not None else None

    def reference_report(self) -> dict | None:
        if self.bibliography is None or (
            self.bibliography.read_error and not self.bibliography.entries
        ):
            return None
        return reference_report(
            self.bibliography,
            self.evidence,
            keys_by_number=map_keys_by_number(self.tables.get(MAP_RESOURCE)),
        )


def validate(root: str | Path) -> ValidationResult:
    """Check ``root/data`` against its datapackage.json, ``root/references.bib`` and ``root/_toc.yml``."""
    root = Path(root)
    result = ValidationResult(root)
    problems = result.problems

    bib_file = paths.bib_path(root)
    bib_rel = _relative(bib_file, root)
    if bib_file.is_file():
        result.bibliography = load_bibliography(bib_file)
        problems += check_bibliography(result.bibliography, bib_rel)
    else:
        problems.append(
            Problem(bib_rel, 0, "file", "file not found; expected the review's BibTeX bibliography")
        )

    chapters, toc_problems = load_chapters(root)
    problems += toc_problems

    package_file = datapackage_path(root)
    try:
        package = load_package(package_file)
    except SchemaError as error:
        problems.append(
            Problem(
                _relative(package_file, root),
                0,
                "schema",
                f"{error}; expected a Frictionless data package",
            )
        )
        return _finish(result)

    for name, spec in package.tables.items():
        file = package.base_dir / spec.path
        if name == "evidence":
            old = v1_evidence_problem(file, root, spec)
            if old is not None:
                problems.append(old)
                continue
        table, table_problems = read_csv_table(file, root, spec.columns)
        problems += table_problems
        if table is not None:
            result.tables[name] = table

    bibliography = result.bibliography
    bib_usable = bibliography is not None and not (
        bibliography.read_error and not bibliography.entries
    )
    known_keys = (
        (set(bibliography.entries) | {f.key for f in bibliography.failed if f.key})
        if bibliography
        else set()
    )
    keys_by_number = map_keys_by_number(result.tables.get(MAP_RESOURCE))
    cited: set[str] = set()
    for name, table in result.tables.items():
        spec = package.tables[name]
        columns = table.frame.columns
        cross_file: list[Problem] = []
        if CITATION_COLUMN in columns:
            cited |= {
                key for cell in table.distinct(CITATION_COLUMN)[1] for key in split_list(cell)
            }
            if bib_usable:
                cross_file += check_citations(table, known_keys, bib_rel)
                cross_file += check_citation_consistency(table, keys_by_number)
        if REVIEW_REF_COLUMN in columns:
            cross_file += check_review_refs(table)
        if CHAPTER_COLUMN in columns and chapters is not None:
            cross_file += check_chapters(table, chapters)
        if name == "evidence":
            cross_file += check_evidence_model(table, result.tables.get("mediators"))
        if name == "interventions":
            cross_file += check_pooled_groups(table)
        cross_file += check_aliases(table)
        # One message per cell: where a cross-file rule explains a value, the schema's
        # generic pattern message for the same cell would only repeat it less clearly.
        explained = {(p.line, p.field) for p in cross_file if p.severity == ERROR}
        problems += [
            p for p in check_table_schema(table, spec) if (p.line, p.field) not in explained
        ]
        problems += check_foreign_keys(table, spec, result.tables)
        problems += cross_file
    if "evidence" in result.tables:
        problems += check_duplicate_findings(result.tables["evidence"])
    from .curation.screening.checks import check_screening  # search log, queue and decisions

    problems += check_screening(result.tables, bibliography if bib_usable else None)
    problems += _reference_table_problems(result, bib_rel)
    cited |= {key for keys in keys_by_number.values() for key in keys}
    if bibliography is not None and bibliography.entries:
        problems += check_unused_entries(bibliography, bib_rel, cited | book_citation_keys(root))
    return _finish(result)


def _reference_table_problems(result: ValidationResult, bib_rel: str) -> list[Problem]:
    """The rules of data/reference_map.csv and data/reference_provenance.csv, where the package has them."""
    problems: list[Problem] = []
    bibliography = result.bibliography
    if MAP_RESOURCE in result.tables:
        problems += check_reference_map(result.tables[MAP_RESOURCE], bibliography, bib_rel)
    provenance = result.tables.get(PROVENANCE_RESOURCE)
    if provenance is not None:
        problems += check_provenance(provenance, bibliography, bib_rel)
        if bibliography is not None and bibliography.entries:
            problems += check_identifiers_have_provenance(
                bibliography, bib_rel, provenance, provenance.path
            )
    return problems


def _finish(result: ValidationResult) -> ValidationResult:
    result.problems.sort(key=lambda p: (p.path, p.line, p.severity != ERROR))
    return result


def validate_root(root: str | Path) -> list[Problem]:
    """All problems found under *root*, sorted by file and line."""
    return validate(root).problems
