"""Reading one CSV of the package into a frame indexed by the physical line of each record.

A mask over the frame then gives the line numbers to report directly. A plain file (UTF-8
without BOM, one record per line) is read from its bytes by pandas' C reader (plain path);
a regular file otherwise (a BOM, bad bytes) from its decoded text by the same reader (fast
path); any other file is read record by record with :mod:`csv` (careful path), so its
problems (blank or short lines, bad quotes, NUL bytes) are exact. All three give the same
table where more than one applies.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..bib import decode_utf8
from ..plain_csv import FIELD as _FIELD
from ..plain_csv import c_reader_body as _c_reader_body
from ..plain_csv import header_fields as _header_fields
from ..plain_csv import plain_frame as _plain_frame
from ..problems import WARNING, Problem, show
from .report import MAX_PROBLEMS_PER_RULE, Suggester, _cap, _relative, _report_rows


@dataclass
class CsvTable:
    path: str  # relative, for messages
    header: list[str] = field(default_factory=list)
    header_line: int = 1
    # Well-formed records only; every column is text; the index is the record's first line.
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    plain: bool = False  # read on the plain path: every physical line one record
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


def _regular_frame(text: str, data: bytes | None = None) -> tuple[list[str], pd.DataFrame] | None:
    """Header and body of *text* parsed by pandas' C reader, if the file is regular; else None.

    Performance only: at 248k rows the C reader takes a third of the time of ``csv`` plus
    building the frame.  Regular means every physical line is one well-formed record with as
    many fields as the header: there, both readers give the same fields, and line *i* of the
    file is record *i*.  Any other file (blank or short lines, a bad quote, a field spanning
    lines, a lone CR) returns None and is read record by record, so its problems are reported
    exactly.  *data*, when given, is *text* encoded as UTF-8 (the file's own bytes), handed to
    pandas as it is instead of encoding the text again.
    """
    if "\x00" in text or text.count("\r") != text.count("\r\n"):
        return None  # NUL bytes and lone CRs: the C reader's rules differ from csv's
    first_break = text.find("\n")
    if first_break < 0:
        return None
    header = _header_fields(text[:first_break])
    if not header:
        return None
    raw = data if data is not None else text.encode("utf-8")
    lines = _regular_lines(text, len(header) - 1)
    if lines is None:
        return None
    frame = _c_reader_body(raw, header, lines)
    return None if frame is None else (header, frame)


def _regular_lines(text: str, commas: int) -> int | None:
    """The number of lines if each is one record of ``commas + 1`` fields, else None.

    Lines without a quote only need the right number of commas; the others the full field
    grammar.  (A NumPy count over the bytes was measured slower than this loop: 0.8 s
    against 0.4 s at 357k lines.)
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) < 2:
        return None
    record = re.compile(rf"{_FIELD}(?:,{_FIELD}){{{commas}}}\r?")
    for line in lines:
        if '"' in line:
            if record.fullmatch(line) is None:
                return None
        elif line.count(",") != commas or line in ("", "\r"):
            return None
    return len(lines)


def read_csv_table(
    file: Path, root: Path, expected_columns: list[str]
) -> tuple[CsvTable | None, list[Problem]]:
    """Read one CSV of the package; never raises. Returns None when nothing usable was read."""
    path = _relative(file, root)
    expected = ",".join(expected_columns)
    try:
        before = file.stat()
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
    plain = _plain_frame(data)
    if plain is not None:
        header, frame = plain
        problems = _header_problems(header, expected_columns, path, 1)
        frame = _first_copies(header, frame)
        if len(set(header)) == len(header):
            _offer_to_readers(file, before, frame)
        return CsvTable(path, header, 1, frame, plain=True), problems

    problems: list[Problem] = []
    decoded = decode_utf8(data)
    if decoded.error:
        problems.append(Problem(path, decoded.error_line, "encoding", decoded.error))
    text = decoded.text
    bom = text.startswith("\ufeff")
    if bom:
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

    # The file's bytes are the text's UTF-8 only if nothing was replaced or stripped.
    regular = _regular_frame(text, None if decoded.error or bom else data)
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


def _offer_to_readers(file: Path, before, frame: pd.DataFrame) -> None:
    """Hand the frame to ``data``'s readers if the file did not change while it was read: a
    build reads the tables again right after validating them."""
    from .. import data

    try:
        after = file.stat()
    except OSError:
        return
    if (before.st_mtime_ns, before.st_size, before.st_ino) == (
        after.st_mtime_ns,
        after.st_size,
        after.st_ino,
    ):
        data.offer_parsed(file, after, frame)


def _first_copies(header: list[str], frame: pd.DataFrame) -> pd.DataFrame:
    """Columns named by *header*; a repeated name is reported elsewhere, its first copy is checked."""
    first_position: dict[str, int] = {}
    for position, name in enumerate(header):
        first_position.setdefault(name, position)
    if len(first_position) == len(header) == frame.shape[1]:
        frame.columns = (
            header  # every column once: renamed in place (a copy costs 43 MB at 357k rows)
        )
        return frame
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
