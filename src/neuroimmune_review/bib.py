"""The review's bibliography (``references.bib``), read with bibtexparser 2.

Everything else in the package goes through this adapter, so the parser's model
(blocks, failed blocks, 0-based line numbers) never leaks out: callers get plain
dicts of lower-cased field names, 1-based line numbers and ready-made labels.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import bibtexparser
from bibtexparser import model
from bibtexparser.middlewares.names import (
    NameParts,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)

from .text import parse_numbers

# The source article of the living review and the size of its reference list.
SOURCE_ARTICLE_KEY = "nava2025modulation"
SOURCE_REFERENCE_COUNT = 224

# The fields every entry needs, and what a bare DOI looks like (validator and curation alike).
REQUIRED_FIELDS = ("author", "title", "year")
DOI_PATTERN = re.compile(r"10\.\d{4,9}/\S+")
# The reviewref field, unlike a CSV cell, also accepts commas between its numbers.
REVIEWREF_SEPARATORS = re.compile(r"[;,]")
_NAME_FIELDS = {"author", "editor"}
# The key of an entry whose body failed to parse, so that citing it is not reported twice.
_ENTRY_KEY = re.compile(r"\s*@\s*\w+\s*[{(]\s*([^,\s{}()]+)\s*,")


@dataclass(frozen=True)
class BibFailure:
    """A block of the file that did not become a usable entry."""

    line: int  # 1-based line where the block starts
    kind: str  # "parse_error", "duplicate_key" or "duplicate_field"
    message: str
    key: str = ""


@dataclass
class Bibliography:
    path: Path | None = None
    entries: dict[str, dict[str, str]] = field(default_factory=dict)
    entry_types: dict[str, str] = field(default_factory=dict)
    failed: list[BibFailure] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)
    # Set when the file could not be read, decoded or parsed at all.
    read_error: str = ""
    read_error_line: int = 0

    def line_of(self, key: str) -> int:
        """1-based line where entry *key* starts (0 if unknown)."""
        return self.lines.get(key, 0)

    def short_label(self, key: str) -> str:
        """'Sutcigil et al. 2007', 'Fornaro & Martino 2011' or 'Fornaro 2011'."""
        fields = self.entries.get(key)
        if fields is None:
            return key
        year = fields.get("year", "").strip() or "n.d."
        surnames, has_others = author_surnames(fields.get("author", ""))
        if not surnames:
            return f"{key} {year}"
        if len(surnames) == 1 and not has_others:
            return f"{surnames[0]} {year}"
        if len(surnames) == 2 and not has_others:
            return f"{surnames[0]} & {surnames[1]} {year}"
        return f"{surnames[0]} et al. {year}"


def _strip_braces(text: str) -> str:
    return text.replace("{", "").replace("}", "").strip()


def author_surnames(author_field: str) -> tuple[list[str], bool]:
    """Surnames from a BibTeX author list, and whether it ends in 'and others'."""
    surnames, has_others = _author_surnames(author_field)
    return list(surnames), has_others


# Performance: a function of the field's text alone, asked for every label of every page that
# lists sources (bibtexparser's name splitting: 204 calls, ~20 ms of a 1x one-row build's pages).
@functools.lru_cache(maxsize=4096)
def _author_surnames(author_field: str) -> tuple[tuple[str, ...], bool]:
    names = person_names(author_field)
    has_others = bool(names) and names[-1].lower() == "others"
    if has_others:
        names = names[:-1]
    surnames = [_strip_braces(" ".join(name.von + name.last)) for name in map(name_parts, names)]
    return tuple(s for s in surnames if s), has_others


def person_names(field_value: str) -> list[str]:
    """The names of a BibTeX author list, split on 'and' outside braces (bibtexparser's rules)."""
    return [n for n in split_multiple_persons_names(" ".join(field_value.split())) if n.strip()]


def name_parts(name: str) -> NameParts:
    """First, von, last and jr parts of one BibTeX name ('van Doe, Jane'; '{WHO}' is all last)."""
    return parse_single_name_into_parts(name, strict=False)


def parse_number_list(text: str) -> tuple[list[int], list[str]]:
    """A reviewref field: '12; 15' or '12,15' -> ([12, 15], []), as :func:`text.parse_numbers`."""
    return parse_numbers(text, REVIEWREF_SEPARATORS)


def format_number_ranges(numbers: list[int] | set[int]) -> str:
    """[1, 2, 3, 5, 7, 8] -> '1-3, 5, 7-8'."""
    ordered = sorted(set(numbers))
    runs: list[list[int]] = []
    for number in ordered:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


@contextmanager
def _quiet_parser() -> Iterator[None]:
    # bibtexparser logs every failed block; they are collected in Bibliography.failed instead.
    logger = logging.getLogger("bibtexparser")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _line_at(text: str, index: int | None) -> int:
    return text.count("\n", 0, index) + 1 if index is not None else text.count("\n") + 1


def _failure_from_block(block: model.Block, text: str) -> BibFailure:
    line = block.start_line + 1
    if isinstance(block, model.DuplicateBlockKeyBlock):
        return BibFailure(line, "duplicate_key", f"duplicate entry key {block.key!r}", block.key)
    if isinstance(block, model.DuplicateFieldKeyBlock):
        fields = ", ".join(sorted(block.duplicate_keys))
        return BibFailure(
            line,
            "duplicate_field",
            f"field(s) {fields} given twice in entry {block.key!r}",
            block.key,
        )
    error = getattr(block, "error", None)
    reason = getattr(error, "abort_reason", "") or str(error or "") or type(error).__name__
    end_index = getattr(error, "end_index", None)
    where = "at end of file" if end_index is None else f"on line {_line_at(text, end_index)}"
    raw = getattr(block, "raw", "") or ""
    head = raw.strip().splitlines()[0][:60] if raw.strip() else ""
    key_match = _ENTRY_KEY.match(raw)
    return BibFailure(
        line,
        "parse_error",
        f"block {head!r} could not be parsed, aborted {where}: {reason.strip().rstrip('.')}",
        key_match.group(1) if key_match else "",
    )


def parse_bibliography(text: str, path: Path | None = None) -> Bibliography:
    """Parse BibTeX *text*; never raises on malformed input."""
    bibliography = Bibliography(path=path)
    try:
        with _quiet_parser():
            library = bibtexparser.parse_string(text)
    except Exception as error:  # third-party parser on arbitrary input: report, never crash
        bibliography.read_error = (
            f"bibtexparser could not parse the file: {type(error).__name__}: {error}"
        )
        return bibliography
    for entry in library.entries:
        bibliography.entries[entry.key] = {
            name.lower(): _clean_value(name.lower(), str(value))
            for name, value in _entry_fields(entry)
        }
        bibliography.entry_types[entry.key] = entry.entry_type.lower()
        bibliography.lines[entry.key] = entry.start_line + 1
    bibliography.failed = [_failure_from_block(block, text) for block in library.failed_blocks]
    return bibliography


def _entry_fields(entry: model.Entry) -> Iterator[tuple[str, str]]:
    for entry_field in entry.fields:
        yield entry_field.key, entry_field.value


def _clean_value(name: str, value: str) -> str:
    # bibtexparser already removed the delimiting braces or quotes. Extra protective
    # braces ({{Title}}) go too, except in name lists, where {World Health Organization}
    # marks one corporate author.
    return value.strip() if name in _NAME_FIELDS else _strip_outer_braces(value)


def _strip_outer_braces(value: str) -> str:
    value = value.strip()
    while len(value) >= 2 and value[0] == "{" and value[-1] == "}" and _is_one_group(value):
        value = value[1:-1].strip()
    return value


def _is_one_group(value: str) -> bool:
    """True if the opening brace at 0 closes at the very end ({a} yes, {a} {b} no)."""
    depth = 0
    for index, char in enumerate(value):
        depth += char == "{"
        depth -= char == "}"
        if depth == 0:
            return index == len(value) - 1
    return False


@dataclass(frozen=True)
class DecodedText:
    text: str
    error_line: int = 0  # 1-based line of the first undecodable byte, 0 if none
    error: str = ""


def decode_utf8(data: bytes) -> DecodedText:
    """UTF-8 text of *data*; undecodable bytes are replaced so checking can go on,
    and the error names the first bad byte."""
    try:
        return DecodedText(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        bad = data[error.start : error.start + 1].hex()
        return DecodedText(
            data.decode("utf-8", errors="replace"),
            line,
            f"byte 0x{bad} is not valid UTF-8; expected UTF-8 text (re-save the file as UTF-8)",
        )


def load_bibliography(path: str | Path) -> Bibliography:
    """Read and parse a .bib file; problems end up in ``read_error`` and ``failed``, never raised."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        return Bibliography(path=path, read_error=f"cannot read file ({error.strerror or error})")
    decoded = decode_utf8(data)
    bibliography = parse_bibliography(decoded.text, path)
    if decoded.error and not bibliography.read_error:
        bibliography.read_error, bibliography.read_error_line = decoded.error, decoded.error_line
    return bibliography


def reference_report(
    bibliography: Bibliography,
    evidence_df=None,
    *,
    keys_by_number: dict[int, list[str]] | None = None,
    reference_count: int = SOURCE_REFERENCE_COUNT,
    source_key: str = SOURCE_ARTICLE_KEY,
) -> dict:
    """How many of the source article's reference numbers are resolved to a work.

    *keys_by_number* (number -> keys) comes from ``data/reference_map.csv`` (see
    :func:`reference_map.keys_by_number`); numbers outside 1..*reference_count* are
    ignored. With *evidence_df* (columns ``id``, ``citation``, ``review_ref``) the report
    also lists the rows that still cite only the source article.
    """
    number_to_keys = {
        number: list(keys)
        for number, keys in (keys_by_number or {}).items()
        if 1 <= number <= reference_count and keys
    }
    resolved = sorted(number_to_keys)
    unresolved = [n for n in range(1, reference_count + 1) if n not in number_to_keys]
    report = {
        "reference_count": reference_count,
        "source_key": source_key,
        "entry_count": len(bibliography.entries),
        "resolved": resolved,
        "unresolved": unresolved,
        "resolved_count": len(resolved),
        "unresolved_count": len(unresolved),
        "resolved_percent": round(100 * len(resolved) / reference_count, 1)
        if reference_count
        else 0.0,
        "keys_by_number": {n: sorted(keys) for n, keys in sorted(number_to_keys.items())},
        "parse_failures": len(bibliography.failed),
    }
    if evidence_df is not None and {"citation", "review_ref"} <= set(evidence_df.columns):
        # Performance: the pattern is matched once per distinct citation, not per row (a few
        # hundred citations against 357,000 rows at 1000x), and the rows picked by isin.
        citations = evidence_df["citation"].fillna("").astype(str)
        distinct = citations.drop_duplicates()
        source_only = distinct.str.strip().str.fullmatch(
            rf"\s*{re.escape(source_key)}\s*(;\s*{re.escape(source_key)}\s*)*"
        )
        wanted = [c for c in ("id", "review_ref") if c in evidence_df.columns]
        mask = citations.isin(distinct[source_only.astype(bool)]).to_numpy()
        rows = evidence_df[wanted][mask]  # only the columns read below: a narrower copy
        row_numbers = sorted(
            {
                n
                for value in rows["review_ref"].fillna("").astype(str).unique()
                for n in parse_number_list(value)[0]
            }
        )
        ids = rows["id"].astype(str).tolist() if "id" in rows else [str(i) for i in rows.index]
        report.update(
            evidence_rows=len(evidence_df),
            source_only_ids=ids,
            source_only_count=len(ids),
            source_only_review_refs=row_numbers,
            source_only_but_resolved=[n for n in row_numbers if n in number_to_keys],
        )
    return report


def format_reference_report(report: dict) -> list[str]:
    """The quality report as printable lines (used by the validator's CLI and the book)."""
    lines = [
        f"References: {report['resolved_count']} of {report['reference_count']} source-article reference numbers "
        f"resolved ({report['resolved_percent']}%), {report['unresolved_count']} unresolved; "
        f"{report['entry_count']} bibliography entries.",
    ]
    if report["unresolved"]:
        lines.append(f"Unresolved numbers: {format_number_ranges(report['unresolved'])}")
    if "source_only_count" in report:
        lines.append(
            f"Evidence rows citing only the source article ({report['source_key']}): "
            f"{report['source_only_count']} of {report['evidence_rows']}"
        )
        if report["source_only_but_resolved"]:
            lines.append(
                "  of which these reference numbers are now resolved and could cite the primary study: "
                + format_number_ranges(report["source_only_but_resolved"])
            )
    return lines
