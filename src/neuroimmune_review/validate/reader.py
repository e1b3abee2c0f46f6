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
from ..problems import WARNING, Problem, show
from .report import MAX_PROBLEMS_PER_RULE, Suggester, _cap, _relative, _report_rows


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


# A field: unquoted without quotes, commas or line breaks, or quoted with "" for a quote.  The
# quoted part is written as an unrolled loop ([^"]* then ""[^"]* repeated), the same language
# as (?:[^"]|"")* but a fifth faster to match, as the engine takes runs of characters at once.
_FIELD = r'(?:[^",\r\n]*|"[^"]*(?:""[^"]*)*")'


def _header_fields(line: str) -> list[str]:
    """The header line's fields, or [] if it is not one well-formed record (e.g. an open quote):
    the file is then read record by record, which reports the problem with its line."""
    try:
        return next(csv.reader([line], strict=True), [])
    except csv.Error:
        return []


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


def _c_reader_body(data: bytes, header: list[str], lines: int) -> pd.DataFrame | None:
    """The body of a file of *lines* lines checked regular, read by pandas' C reader and indexed
    by physical line; None if the reader fails or reads another shape (the caller then falls
    back to reading record by record)."""
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            encoding="utf-8",
            encoding_errors="strict",
            header=None,
            skiprows=1,
            dtype=object,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
            low_memory=False,  # one pass: a row is checked against the row before it, never re-exempted
        )
    except (ValueError, csv.Error):  # UnicodeDecodeError and ParserError are ValueErrors
        return None
    if frame.shape != (lines - 1, len(header)):
        return None
    frame.index = pd.RangeIndex(2, lines + 1, name="line")
    return frame


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


_BOM = b"\xef\xbb\xbf"
_FIELD_BYTES = _FIELD.encode()


def _count_bytes(data: bytes, wanted: bytes, block: int = 1 << 20) -> list[int]:
    """How often each byte of *wanted* occurs in *data* (``data.count`` for each).

    Performance only: NumPy over blocks that stay in cache counts a frequent byte such as ','
    about four times faster than ``bytes.count`` (0.04 s against 0.15 s over 104 MB).
    """
    array = np.frombuffer(data, dtype=np.uint8)
    counts = [0] * len(wanted)
    for start in range(0, len(array), block):
        part = array[start : start + block]
        for position, byte in enumerate(wanted):
            counts[position] += int(np.count_nonzero(part == byte))
    return counts


def _quoted_field_commas(data: bytes) -> int | None:
    """Commas inside quoted fields, if every quote of *data* belongs to a well-formed quoted
    field on one line (the quoted part of :data:`_FIELD`); else None.

    A quoted field opens at the start of a field (at a line's start or after a comma), holds
    no line break and no lone quote (``""`` stands for one), and closes before a comma, the
    end of its line or of the file.  Scanning from quote to quote, as here, visits only the
    quoted fields (84k of them at 357k rows) where a regular expression over each line they
    are on would read the whole line.
    """
    find, inside = data.find, 0
    opening = find(b'"')
    while opening >= 0:
        if opening > 0 and data[opening - 1] not in b",\n":
            return None  # a quote inside an unquoted field
        closing = find(b'"', opening + 1)
        while closing >= 0 and data[closing + 1 : closing + 2] == b'"':
            closing = find(b'"', closing + 2)  # "" within the field
        if closing < 0 or find(b"\n", opening, closing) >= 0:
            return None  # never closed, or not on one line
        after = data[closing + 1 : closing + 3]
        if after[:1] not in (b",", b"\n", b"") and after != b"\r\n":
            return None  # text after the closing quote
        inside += data.count(b",", opening, closing)
        opening = find(b'"', closing + 1)
    return inside


def _plain_frame(data: bytes) -> tuple[list[str], pd.DataFrame] | None:
    """Header and body of a plain file, read from its bytes; else None (then read as before).

    Performance only: the same result as decoding the text and calling :func:`_regular_frame`,
    for the common file, at about half the cost at 357k rows (no decoding of the whole file,
    no split into lines).  Plain means: no BOM, no NUL byte, no lone CR, a header of at
    least two columns, and every physical line one record of that many fields.  That last test
    is made in three parts that together equal :func:`_regular_lines`:

    - every quote belongs to a well-formed quoted field on one line (:func:`_quoted_field_commas`),
      so the other commas separate fields;
    - pandas' C reader, which pads a short row but fails on a row longer than the first, reads
      the body in as many columns as the header: no line has more than ``N - 1`` separators;
    - the separators number exactly ``N - 1`` per line in all, so no line has fewer either (and
      there is no blank line).

    UTF-8 is checked where it is decoded: the header line here, every field by the C reader
    (strict errors); only ``,``, ``"``, CR and LF lie between fields.
    """
    if data.startswith(_BOM) or b"\x00" in data:
        return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    first_break = data.find(b"\n")
    if first_break < 0:
        return None
    try:
        first_line = data[:first_break].decode("utf-8")
    except UnicodeDecodeError:
        return None
    header = _header_fields(first_line)
    if len(header) < 2:
        return None
    newlines, commas = _count_bytes(data, b"\n,")
    lines = newlines + (not data.endswith(b"\n"))
    if lines < 2:
        return None
    quoted_commas = _quoted_field_commas(data)
    if quoted_commas is None:
        return None
    if commas - quoted_commas != (len(header) - 1) * lines:
        return None
    frame = _c_reader_body(data, header, lines)
    return None if frame is None else (header, frame)


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
        return CsvTable(path, header, 1, frame), problems

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
