"""Adding findings to ``data/evidence.csv`` and works to ``references.bib`` safely.

Both operations follow the same rules:

- one writer at a time: an exclusive ``fcntl.flock`` on ``data/.evidence.lock``;
- existing bytes are never rewritten: new text is appended to a copy of the
  original bytes (same line endings), and the copy replaces the file atomically
  (temporary file in the same folder, ``fsync``, ``os.replace``);
- nothing is kept that makes the data set invalid: evidence rows are checked
  with :func:`validate.validate_root` on a temporary copy *before* anything is
  written; bibliography entries are appended, checked, and the original bytes
  put back if the check finds a new error.

Only errors the new rows or entries introduce block a write; problems the data
set already had are reported separately, so a curator is never blocked by
someone else's half-finished change.
"""
from __future__ import annotations

import functools

import contextlib
import csv
import fcntl
import io
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from . import paths

LOCK_NAME = ".evidence.lock"
EVIDENCE_FILE = "evidence.csv"
ID_PREFIX = "EV"
ID_PATTERN = re.compile(r"EV(\d+)")
HOUSE_FIELDS = ("author", "title", "journal", "year", "volume", "number", "pages", "doi", "pmid")
REQUIRED_REFERENCE_FIELDS = ("author", "title", "year")


class CurationError(Exception):
    """Nothing was written. ``details`` holds one line per problem (validator messages)."""

    def __init__(self, message: str, details: Iterable[str] = ()):
        super().__init__(message)
        self.message = message
        self.details = list(details)

    def __str__(self) -> str:
        return "\n".join([self.message, *("  " + line for line in self.details)])


# ---------------------------------------------------------------------------
# Files: lock, atomic replace, line endings


@contextlib.contextmanager
def exclusive_lock(root: Path) -> Iterator[None]:
    """Hold the curation lock of *root* (blocks until other writers are done)."""
    lock_path = paths.data_dir(root) / LOCK_NAME
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace *path* by *data* in one step: readers see the old or the new file, never half of one."""
    path = Path(path)
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def detect_newline(data: bytes) -> bytes:
    """The file's line ending: CRLF if its first line ends in CRLF, else LF."""
    end = data.find(b"\n")
    if end > 0 and data[end - 1 : end] == b"\r":
        return b"\r\n"
    return b"\n"


def _appendable(original: bytes, newline: bytes) -> bytes:
    """The original bytes, plus a line ending if the last line has none."""
    if original and not original.endswith(b"\n"):
        return original + newline
    return original


# ---------------------------------------------------------------------------
# Validation around a change


def _signature(problem) -> tuple[str, str, str]:
    return (problem.path, problem.field, problem.message)


def _new_errors(before: list, after: list, new_lines: dict[str, range] | None = None) -> list:
    """Errors of *after* that *before* did not have, or that sit on newly added lines."""
    known = {_signature(p) for p in before if p.severity == "error"}
    new_lines = new_lines or {}
    blocking = []
    for problem in after:
        if problem.severity != "error":
            continue
        on_new_line = problem.line in new_lines.get(problem.path, range(0))
        if on_new_line or _signature(problem) not in known:
            blocking.append(problem)
    return blocking


def _new_warnings(before: list, after: list) -> list:
    known = {_signature(p) for p in before if p.severity != "error"}
    return [p for p in after if p.severity != "error" and _signature(p) not in known]


@contextlib.contextmanager
def _shadow_root(root: Path, replacements: dict[str, bytes]) -> Iterator[Path]:
    """A temporary review root that links to *root* except for the files in *replacements*.

    Paths in *replacements* are relative to *root* (``data/evidence.csv``); every other
    file and folder of ``root`` and ``root/data`` is a symlink to the original.
    """
    with tempfile.TemporaryDirectory(prefix="review-check-") as tmp:
        shadow = Path(tmp)
        replaced_dirs = {Path(rel).parts[0] for rel in replacements if len(Path(rel).parts) > 1}
        for entry in root.iterdir():
            if entry.name in replaced_dirs or entry.name in replacements:
                continue
            (shadow / entry.name).symlink_to(entry)
        for folder in replaced_dirs:
            (shadow / folder).mkdir()
            for entry in (root / folder).iterdir():
                rel = f"{folder}/{entry.name}"
                if rel not in replacements:
                    (shadow / folder / entry.name).symlink_to(entry)
        for rel, data in replacements.items():
            (shadow / rel).write_bytes(data)
        yield shadow


def _validate(root: Path) -> list:
    from .validate import validate_root

    return validate_root(root)


def _format(problem, note: str = "") -> str:
    from .validate import format_problem

    return format_problem(problem) + note


# ---------------------------------------------------------------------------
# Evidence


@dataclass
class EvidenceResult:
    ids: list[str]
    warnings: list[str] = field(default_factory=list)
    existing_errors: int = 0  # errors the data set had before, not caused by these rows
    written: bool = False


def read_rows(text: str, source: str = "input") -> list[dict[str, str]]:
    """Rows of a CSV text with a header (the ``id`` column may be absent)."""
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        records = [(reader.line_num, record) for record in reader]
    except csv.Error as error:
        raise CurationError(f"{source}: malformed CSV near line {reader.line_num}: {error}") from None
    records = [(line, record) for line, record in records if any(cell.strip() for cell in record)]
    if not records:
        raise CurationError(f"{source}: no header row; expected a CSV with the evidence columns")
    header = [name.strip() for name in records[0][1]]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise CurationError(f"{source}: column(s) {', '.join(repeated)} appear more than once in the header")
    rows = []
    for line, record in records[1:]:
        if len(record) != len(header):
            raise CurationError(
                f"{source}: the record ending on line {line} has {len(record)} fields; "
                f"expected {len(header)} as in the header"
            )
        rows.append(dict(zip(header, record)))
    if not rows:
        raise CurationError(f"{source}: no rows below the header; nothing to add")
    return rows


def _header_of(original: bytes) -> list[str]:
    text = original.decode("utf-8", errors="replace").lstrip("\ufeff")
    first = next(csv.reader(io.StringIO(text, newline="")), None)
    if not first:
        raise CurationError("data/evidence.csv has no header row; fix the file before adding rows")
    return first


def _ids_in(data: bytes) -> set[int]:
    numbers = set()
    for line in data.decode("utf-8", errors="replace").splitlines():
        match = ID_PATTERN.match(line.lstrip('+-"'))
        if match:
            numbers.add(int(match.group(1)))
    return numbers


def _historical_ids(root: Path, evidence: Path) -> set[int]:
    """Ids that ever appeared in committed versions of the file (so a withdrawn id is never reused)."""
    if shutil.which("git") is None:
        return set()
    try:
        log = subprocess.run(
            ["git", "log", "--all", "--format=", "-p", "--", str(evidence.relative_to(root))],
            cwd=root, capture_output=True, timeout=60,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return set()
    if log.returncode != 0:
        return set()
    numbers = set()
    for line in log.stdout.decode("utf-8", errors="replace").splitlines():
        if line[:1] in "+- " and not line.startswith(("+++", "---")):
            match = ID_PATTERN.match(line[1:].lstrip('"'))
            if match:
                numbers.add(int(match.group(1)))
    return numbers


def format_id(number: int) -> str:
    return f"{ID_PREFIX}{number:04d}"


def _serialise(rows: list[dict[str, str]], header: list[str], newline: bytes) -> list[bytes]:
    out = []
    for row in rows:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=newline.decode()).writerow([row.get(name, "") for name in header])
        out.append(buffer.getvalue().encode("utf-8"))
    return out


def add_evidence(
    rows: list[dict[str, str]],
    root: str | Path | None = None,
    *,
    dry_run: bool = False,
) -> EvidenceResult:
    """Append *rows* to ``data/evidence.csv`` and return the ids they got.

    Rows are dicts keyed by column name; missing columns are empty, a missing or
    empty ``id`` is assigned (the next number after every id the file has or ever had).
    Raises :class:`CurationError` (and writes nothing) if a column is unknown or
    the data set with the new rows has errors it did not have before.
    """
    root = Path(root) if root is not None else paths.find_root()
    root = root.resolve()
    if not rows:
        raise CurationError("no rows to add")
    evidence = paths.data_dir(root) / EVIDENCE_FILE
    if not evidence.is_file():
        raise CurationError(f"{evidence} not found; is {root} the review's root?")
    rel = evidence.relative_to(root).as_posix()
    history = _historical_ids(root, evidence)  # committed history: stable while we wait for the lock

    with exclusive_lock(root):
        original = evidence.read_bytes()
        newline = detect_newline(original)
        header = _header_of(original)
        unknown = sorted({name for row in rows for name in row if name not in header})
        if unknown:
            raise CurationError(
                f"unknown column(s) {', '.join(unknown)}; the evidence columns are: {', '.join(header)}"
            )
        clean = [{name: (row.get(name) or "").strip() for name in header} for row in rows]

        current = _ids_in(original)
        given = {m.group(1) for row in clean if (m := ID_PATTERN.fullmatch(row.get("id", "")))}
        reused = sorted(
            format_id(int(n)) for n in given if int(n) in history and int(n) not in current
        )
        if reused:
            raise CurationError(
                f"id(s) {', '.join(reused)} belonged to findings that were withdrawn; ids are never reused. "
                "Leave the id column empty to get new ids."
            )
        next_number = max(current | history | {int(n) for n in given} | {0}) + 1
        assigned = []
        for row in clean:
            if "id" in header and not row["id"]:
                row["id"] = format_id(next_number)
                next_number += 1
            assigned.append(row.get("id", ""))

        base = _appendable(original, newline)
        encoded = _serialise(clean, header, newline)
        first_line = base.count(b"\n") + 1
        starts: list[int] = []
        line = first_line
        for chunk in encoded:
            starts.append(line)
            line += chunk.count(b"\n")
        new_lines = {rel: range(first_line, line)}
        candidate = base + b"".join(encoded)

        before = _validate(root)
        with _shadow_root(root, {rel: candidate}) as shadow:
            after = _validate(shadow)
        blocking = _new_errors(before, after, new_lines)
        if blocking:
            def note(problem) -> str:
                if problem.path == rel and problem.line >= first_line:
                    index = max(i for i, start in enumerate(starts) if start <= problem.line)
                    return f"  [new row {index + 1}, id {assigned[index] or '?'}]"
                return ""

            raise CurationError(
                f"the new row(s) would make the data set invalid; nothing was written to {rel}",
                [_format(p, note(p)) for p in blocking],
            )
        result = EvidenceResult(
            ids=assigned,
            warnings=[_format(p) for p in _new_warnings(before, after)],
            existing_errors=sum(p.severity == "error" for p in before),
        )
        if not dry_run:
            atomic_write(evidence, candidate)
            result.written = True
        return result


# ---------------------------------------------------------------------------
# References: reading BibTeX, RIS and PubMed MEDLINE


@dataclass
class Record:
    """One imported work, already in house style (fields of HOUSE_FIELDS, plain text)."""

    entry_type: str
    fields: dict[str, str]
    origin: str  # "file.ris, record 2" for messages

    def describe(self) -> str:
        from .bib import author_surnames

        surnames, others = author_surnames(self.fields.get("author", ""))
        who = surnames[0] + (" et al." if len(surnames) > 1 or others else "") if surnames else "?"
        title = self.fields.get("title", "").replace("{", "").replace("}", "")
        title = title if len(title) <= 60 else title[:57] + "…"
        return f"{who} {self.fields.get('year', 'n.d.')}, {title!r}"


FORMATS = ("bibtex", "ris", "medline")
_EXTENSIONS = {".bib": "bibtex", ".bibtex": "bibtex", ".ris": "ris", ".nbib": "medline", ".medline": "medline"}
_RIS_LINE = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
_MEDLINE_LINE = re.compile(r"^([A-Z][A-Z0-9 ]{1,3})- (.*)$")


def detect_format(text: str, filename: str = "") -> str:
    suffix = Path(filename).suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("@") or re.search(r"^\s*@\w+\s*[{(]", text, re.MULTILINE):
        return "bibtex"
    if re.search(r"^TY  - ", text, re.MULTILINE):
        return "ris"
    if re.search(r"^PMID- ", text, re.MULTILINE):
        return "medline"
    raise CurationError(
        f"{filename or 'input'}: cannot tell the format; expected BibTeX (.bib), RIS (.ris) "
        "or PubMed MEDLINE (.nbib); use --format"
    )


def parse_references(text: str, fmt: str, origin: str = "input") -> list[Record]:
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    parser = {"bibtex": _parse_bibtex, "ris": _parse_ris, "medline": _parse_medline}.get(fmt)
    if parser is None:
        raise CurationError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    records = parser(text, origin)
    if not records:
        raise CurationError(f"{origin}: no records found in this {fmt} file")
    return records


def _parse_bibtex(text: str, origin: str) -> list[Record]:
    from .bib import parse_bibliography

    parsed = parse_bibliography(text)
    if parsed.read_error:
        raise CurationError(f"{origin}: {parsed.read_error}")
    if parsed.failed:
        raise CurationError(f"{origin}: could not read every entry", [f"line {f.line}: {f.message}" for f in parsed.failed])
    records = []
    for number, (key, raw) in enumerate(parsed.entries.items(), start=1):
        fields: dict[str, str] = {}
        fields["author"] = _bibtex_authors(raw.get("author", ""))
        fields["title"] = raw.get("title", "")
        fields["journal"] = raw.get("journal") or raw.get("journaltitle") or raw.get("booktitle", "")
        fields["year"] = raw.get("year") or raw.get("date", "")
        fields["volume"] = raw.get("volume", "")
        fields["number"] = raw.get("number") or raw.get("issue", "")
        fields["pages"] = raw.get("pages", "")
        fields["doi"] = raw.get("doi") or _doi_from_url(raw.get("url", ""))
        pmid = raw.get("pmid", "")
        if not pmid and raw.get("eprinttype", "").lower() == "pubmed":
            pmid = raw.get("eprint", "")
        fields["pmid"] = pmid or _pmid_from_url(raw.get("url", ""))
        entry_type = parsed.entry_types.get(key, "article")
        records.append(normalise(Record(entry_type, fields, f"{origin}, entry {key!r} (#{number})")))
    return records


def _ris_records(text: str) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    current: list[tuple[str, str]] | None = None
    start = 0
    for number, line in enumerate(text.split("\n"), start=1):
        match = _RIS_LINE.match(line.rstrip())
        if match:
            tag, value = match.group(1), (match.group(2) or "").strip()
            if tag == "TY":
                current, start = [], number
            if current is None:
                continue
            if tag == "ER":
                yield start, current + [("TY_END", "")]
                current = None
                continue
            current.append((tag, value))
        elif current is not None and line.strip() and current:
            tag, value = current[-1]  # continuation of a long value
            current[-1] = (tag, f"{value} {line.strip()}")
    if current:
        yield start, current


_RIS_TYPES = {"JOUR": "article", "JFULL": "article", "EJOUR": "article", "ABST": "article", "BOOK": "book",
              "EBOOK": "book", "CHAP": "incollection", "ECHAP": "incollection", "CONF": "inproceedings",
              "CPAPER": "inproceedings", "THES": "phdthesis", "RPRT": "techreport"}


def _tag_values(tags) -> dict[str, list[str]]:
    """RIS/MEDLINE (tag, value) pairs as tag -> non-empty values, in file order."""
    values: dict[str, list[str]] = {}
    for tag, value in tags:
        if value:
            values.setdefault(tag, []).append(value)
    return values


def _first_value(values: dict[str, list[str]], *names: str) -> str:
    """The first value of the first tag present among *names*."""
    for name in names:
        if values.get(name):
            return values[name][0]
    return ""


def _parse_ris(text: str, origin: str) -> list[Record]:
    records = []
    for number, (line, tags) in enumerate(_ris_records(text), start=1):
        values = _tag_values(tags)
        first = functools.partial(_first_value, values)
        authors = values.get("AU") or values.get("A1") or []
        start_page, end_page = first("SP"), first("EP")
        pages = f"{start_page}--{end_page}" if start_page and end_page else start_page
        urls = values.get("UR", []) + values.get("L2", [])
        pmid = first("AN") if re.fullmatch(r"\d{1,9}", first("AN")) else ""
        pmid = pmid or next((p for p in map(_pmid_from_url, urls) if p), "")
        fields = {
            "author": " and ".join(_person(a) for a in authors),
            "title": first("TI", "T1"),
            "journal": first("JF", "T2", "JO", "JA", "J2"),
            "year": first("PY", "Y1", "DA"),
            "volume": first("VL"),
            "number": first("IS", "CP"),
            "pages": pages,
            "doi": first("DO") or next((d for d in map(_doi_from_url, urls) if d), ""),
            "pmid": pmid,
        }
        entry_type = _RIS_TYPES.get(first("TY").upper(), "misc")
        records.append(normalise(Record(entry_type, fields, f"{origin}, record {number} (line {line})")))
    return records


def _medline_records(text: str) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    current: list[tuple[str, str]] = []
    start = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            if current:
                yield start, current
                current = []
            continue
        match = _MEDLINE_LINE.match(line)
        if match:
            if not current:
                start = number
            current.append((match.group(1).strip(), match.group(2).strip()))
        elif current and line.startswith("      "):
            tag, value = current[-1]
            current[-1] = (tag, f"{value} {line.strip()}")
    if current:
        yield start, current


def _parse_medline(text: str, origin: str) -> list[Record]:
    records = []
    for number, (line, tags) in enumerate(_medline_records(text), start=1):
        values = _tag_values(tags)
        first = functools.partial(_first_value, values)
        if "FAU" in values:
            authors = [_person(a) for a in values["FAU"]]
        else:
            authors = [_person(a) for a in values.get("AU", [])]
        authors += [f"{{{name}}}" for name in values.get("CN", [])]
        doi = ""
        for value in values.get("LID", []) + values.get("AID", []):
            if value.endswith("[doi]"):
                doi = value[: -len("[doi]")].strip()
                break
        types = [t.lower() for t in values.get("PT", [])]
        entry_type = "article" if not types or any("journal article" in t or "review" in t for t in types) else "misc"
        if "Book" in values.get("PT", []):
            entry_type = "book"
        fields = {
            "author": " and ".join(authors),
            "title": first("TI", "BTI"),
            "journal": first("JT", "TA"),
            "year": first("DP", "DEP"),
            "volume": first("VI"),
            "number": first("IP"),
            "pages": first("PG"),
            "doi": doi,
            "pmid": first("PMID"),
        }
        records.append(normalise(Record(entry_type, fields, f"{origin}, record {number} (line {line})")))
    return records


# ---------------------------------------------------------------------------
# References: house style


_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_DOI_IN_URL = re.compile(r"(?:https?://(?:dx\.)?doi\.org/)(10\.\S+)", re.IGNORECASE)
_PMID_IN_URL = re.compile(r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)(\d{1,9})")


def normalise_doi(value: str) -> str:
    """Bare, lower-case DOI: 'https://doi.org/10.1038/ABC' -> '10.1038/abc'."""
    value = value.strip().rstrip(".")
    value = re.sub(r"\s*\[doi\]$", "", value)
    value = _DOI_PREFIX.sub("", value).strip()
    return value.lower()


def _doi_from_url(url: str) -> str:
    match = _DOI_IN_URL.search(url or "")
    return match.group(1) if match else ""


def _pmid_from_url(url: str) -> str:
    match = _PMID_IN_URL.search(url or "")
    return match.group(1) if match else ""


def _person(name: str) -> str:
    """One author as 'Last, First' (from 'Last, First', 'Last FM' or 'First Last')."""
    name = " ".join(name.split())
    if not name or name.lower() == "others":
        return name
    if name.startswith("{") and name.endswith("}"):
        return name
    if "," in name:
        last, first = (part.strip() for part in name.split(",", 1))
        return f"{last}, {first}" if first else last
    tokens = name.split()
    if len(tokens) >= 2 and re.fullmatch(r"[A-Z]{1,3}", tokens[-1]):  # MEDLINE 'Sutcigil L'
        initials = " ".join(f"{c}." for c in tokens[-1])
        return f"{' '.join(tokens[:-1])}, {initials}"
    if len(tokens) == 1:
        return name
    # 'Ludwig van Beethoven': the surname starts at the first lower-case particle, else the last word.
    start = next((i for i, t in enumerate(tokens[1:-1], start=1) if t[0].islower()), len(tokens) - 1)
    return f"{' '.join(tokens[start:])}, {' '.join(tokens[:start])}"


def _bibtex_authors(value: str) -> str:
    from .bib import AUTHOR_SEPARATOR, split_at_depth_zero

    names = split_at_depth_zero(" ".join(value.split()), AUTHOR_SEPARATOR)
    return " and ".join(_person(name) for name in names)


def _pages(value: str) -> str:
    """'1108-15' -> '1108--1115'; '258–267' -> '258--267'."""
    value = value.strip()
    match = re.fullmatch(r"([A-Za-z]*)(\d+)\s*(?:-{1,2}|–|—)\s*([A-Za-z]*)(\d+)", value)
    if not match:
        return value
    prefix, start, prefix_end, end = match.groups()
    if len(end) < len(start) and not prefix_end:  # MEDLINE abbreviates the end page
        end = start[: len(start) - len(end)] + end
    return f"{prefix}{start}--{prefix_end or prefix}{end}"


def _balanced(value: str) -> str:
    depth = 0
    for char in value:
        depth += char == "{"
        depth -= char == "}"
        if depth < 0:
            break
    return value if depth == 0 else value.replace("{", "").replace("}", "")


def normalise(record: Record) -> Record:
    """Keep the house fields, clean each of them."""
    fields = {}
    for name in HOUSE_FIELDS:
        value = " ".join(str(record.fields.get(name, "") or "").split())
        if name == "title":
            value = value.strip()
            if value.startswith("[") and value.rstrip(".").endswith("]"):  # MEDLINE translated titles
                value = value.rstrip(".")[1:-1]
            if value.endswith(".") and not value.endswith(".."):
                value = value[:-1]
        elif name == "journal":
            value = value.rstrip(".")
        elif name == "year":
            match = re.search(r"\b(1[5-9]\d\d|2\d\d\d)\b", value)
            value = match.group(1) if match else value
        elif name == "pages":
            value = _pages(value)
        elif name == "doi":
            value = normalise_doi(value)
        elif name == "pmid":
            value = re.sub(r"\D", "", value) if re.fullmatch(r"\s*(?:PMID:?\s*)?\d+\s*", value, re.I) else value
        value = _balanced(value)
        if value:
            fields[name] = value
    return Record(record.entry_type.lower() or "article", fields, record.origin)


_ASCII_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss",
                             "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "ð": "d", "ı": "i"})


def ascii_letters(text: str) -> str:
    """Lower-case ASCII letters of *text*, accents stripped: 'Więdłocha' -> 'wiedlocha'."""
    text = unicodedata.normalize("NFKD", text.translate(_ASCII_FOLD))
    return re.sub(r"[^a-z]", "", "".join(c for c in text if not unicodedata.combining(c)).lower())


def base_key(fields: dict[str, str]) -> str:
    """``firstauthorYEARfirstword``: 'Sutcigil 2007 Pro- and anti-…' -> 'sutcigil2007pro'."""
    from .bib import author_surnames

    surnames, _ = author_surnames(fields.get("author", ""))
    author = ascii_letters(surnames[0]) if surnames else ""
    words = [ascii_letters(word) for word in fields.get("title", "").split()]
    word = next((w for w in words if w), "")
    year = fields.get("year", "") if re.fullmatch(r"\d{4}", fields.get("year", "")) else ""
    return f"{author or 'anon'}{year or 'nd'}{word or 'untitled'}"


def unique_key(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    for suffix in _suffixes():
        if base + suffix not in taken:
            return base + suffix
    raise AssertionError("unreachable")


def _suffixes() -> Iterator[str]:
    letters = "bcdefghijklmnopqrstuvwxyz"
    yield from letters
    for first in "abcdefghijklmnopqrstuvwxyz":
        for second in "abcdefghijklmnopqrstuvwxyz":
            yield first + second


def _title_fold(title: str) -> str:
    return ascii_letters(title)


def format_entry(key: str, record: Record, newline: str = "\n") -> str:
    lines = [f"@{record.entry_type}{{{key},"]
    present = [name for name in HOUSE_FIELDS if record.fields.get(name)]
    for index, name in enumerate(present):
        comma = "," if index < len(present) - 1 else ""
        lines.append(f"  {name} = {{{record.fields[name]}}}{comma}")
    lines.append("}")
    return newline.join(lines) + newline


# ---------------------------------------------------------------------------
# References: adding


@dataclass
class Duplicate:
    record: Record
    existing_key: str
    reason: str  # "DOI 10.x/y", "PMID 123" or "key k (same title)"
    within_import: bool = False


@dataclass
class ReferenceResult:
    added: list[tuple[str, Record]] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    existing_errors: int = 0
    written: bool = False


class _Index:
    """What identifies a work already in the bibliography."""

    def __init__(self, entries: dict[str, dict[str, str]]):
        self.keys: set[str] = set(entries)
        self.by_doi: dict[str, str] = {}
        self.by_pmid: dict[str, str] = {}
        self.titles: dict[str, str] = {}
        for key, fields in entries.items():
            self.add(key, fields, from_import=False)
        self.imported: set[str] = set()

    def add(self, key: str, fields: dict[str, str], from_import: bool = True) -> None:
        self.keys.add(key)
        if fields.get("doi"):
            self.by_doi.setdefault(normalise_doi(fields["doi"]), key)
        if fields.get("pmid", "").strip():
            self.by_pmid.setdefault(fields["pmid"].strip(), key)
        self.titles[key] = _title_fold(fields.get("title", ""))
        if from_import:
            self.imported.add(key)

    def duplicate_of(self, record: Record) -> tuple[str, str] | None:
        fields = record.fields
        if fields.get("doi") and fields["doi"] in self.by_doi:
            return self.by_doi[fields["doi"]], f"DOI {fields['doi']}"
        if fields.get("pmid") and fields["pmid"] in self.by_pmid:
            return self.by_pmid[fields["pmid"]], f"PMID {fields['pmid']}"
        base = base_key(fields)
        title = _title_fold(fields.get("title", ""))
        for key in [base, *(base + s for s in "bcdefghij")]:
            if key in self.keys and title and self.titles.get(key) == title:
                return key, f"key {key} and title"
        return None


def add_references(
    records: list[Record],
    root: str | Path | None = None,
    *,
    dry_run: bool = False,
) -> ReferenceResult:
    """Append the *records* that are not already in ``references.bib``.

    Duplicates (same DOI, same PMID, or same key with the same title) are reported
    and skipped. The new entries are appended after the existing bytes, the data
    set is validated, and the file is restored byte for byte if a new error appears.
    """
    from .bib import load_bibliography

    root = Path(root) if root is not None else paths.find_root()
    root = root.resolve()
    bib_file = paths.bib_path(root)
    missing = [
        f"{record.origin} ({record.describe()}): no {name}"
        for record in records for name in REQUIRED_REFERENCE_FIELDS if not record.fields.get(name)
    ]
    if missing:
        raise CurationError("some records lack fields every entry needs; nothing was added", missing)
    if record_errors := [
        f"{r.origin}: DOI {r.fields['doi']!r} is malformed; expected a bare DOI like 10.1038/s41398-025-03532-y"
        for r in records if r.fields.get("doi") and not re.fullmatch(r"10\.\d{4,9}/\S+", r.fields["doi"])
    ]:
        raise CurationError("some records have a malformed DOI; nothing was added", record_errors)

    with exclusive_lock(root):
        original = bib_file.read_bytes() if bib_file.exists() else b""
        bibliography = load_bibliography(bib_file) if bib_file.exists() else None
        if bibliography is not None and bibliography.read_error:
            raise CurationError(f"cannot read {bib_file.name}: {bibliography.read_error}")
        index = _Index(bibliography.entries if bibliography else {})
        result = ReferenceResult()
        for record in records:
            found = index.duplicate_of(record)
            if found:
                key, reason = found
                result.duplicates.append(Duplicate(record, key, reason, within_import=key in index.imported))
                continue
            key = unique_key(base_key(record.fields), index.keys)
            index.add(key, record.fields)
            result.added.append((key, record))
        if not result.added:
            return result

        newline = detect_newline(original)
        base = _appendable(original, newline)
        # One blank line before each new entry (none at the top of an empty file).
        separator = newline if base.strip() and not base.endswith(newline * 2) else b""
        entries = [format_entry(key, record, newline.decode()).encode("utf-8") for key, record in result.added]
        candidate = base + separator + newline.join(entries)

        before = _validate(root)
        if dry_run:
            with _shadow_root(root, {bib_file.name: candidate}) as shadow:
                after = _validate(shadow)
        else:
            atomic_write(bib_file, candidate)
            try:
                after = _validate(root)
            except BaseException:
                atomic_write(bib_file, original)
                raise
        first_line = (base + separator).count(b"\n") + 1
        blocking = _new_errors(before, after, {bib_file.name: range(first_line, candidate.count(b"\n") + 2)})
        if blocking:
            if not dry_run:
                atomic_write(bib_file, original)
            raise CurationError(
                f"the new entries would make the data set invalid; {bib_file.name} was left as it was",
                [_format(p) for p in blocking],
            )
        result.warnings = [
            _format(p) for p in _new_warnings(before, after) if "is not cited by the data or the book" not in p.message
        ]
        result.existing_errors = sum(p.severity == "error" for p in before)
        result.written = not dry_run
        return result


def read_reference_file(path: str | Path, fmt: str | None = None, text: str | None = None) -> list[Record]:
    """Records of one BibTeX, RIS or MEDLINE file (format from *fmt*, the extension, or the content)."""
    name = str(path)
    if text is None:
        try:
            text = Path(path).read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise CurationError(f"{name}: not UTF-8 text ({error})") from None
    return parse_references(text, fmt or detect_format(text, name), Path(name).name)
