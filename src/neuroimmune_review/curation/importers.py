"""Reading reference records from BibTeX, RIS and MEDLINE (PubMed .nbib) files."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path

from .references import (
    Record,
    bibtex_authors,
    doi_from_url,
    normalise,
    person_name,
    pmid_from_url,
)
from .safe_write import CurationError

FORMATS = ("bibtex", "ris", "medline")
_EXTENSIONS = {
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".ris": "ris",
    ".nbib": "medline",
    ".medline": "medline",
}
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
    from ..bib import parse_bibliography

    parsed = parse_bibliography(text)
    if parsed.read_error:
        raise CurationError(f"{origin}: {parsed.read_error}")
    if parsed.failed:
        raise CurationError(
            f"{origin}: could not read every entry",
            [f"line {f.line}: {f.message}" for f in parsed.failed],
        )
    records = []
    for number, (key, raw) in enumerate(parsed.entries.items(), start=1):
        fields: dict[str, str] = {}
        fields["author"] = bibtex_authors(raw.get("author", ""))
        fields["title"] = raw.get("title", "")
        fields["journal"] = (
            raw.get("journal") or raw.get("journaltitle") or raw.get("booktitle", "")
        )
        fields["year"] = raw.get("year") or raw.get("date", "")
        fields["volume"] = raw.get("volume", "")
        fields["number"] = raw.get("number") or raw.get("issue", "")
        fields["pages"] = raw.get("pages", "")
        fields["doi"] = raw.get("doi") or doi_from_url(raw.get("url", ""))
        pmid = raw.get("pmid", "")
        if not pmid and raw.get("eprinttype", "").lower() == "pubmed":
            pmid = raw.get("eprint", "")
        fields["pmid"] = pmid or pmid_from_url(raw.get("url", ""))
        entry_type = parsed.entry_types.get(key, "article")
        records.append(
            normalise(Record(entry_type, fields, f"{origin}, entry {key!r} (#{number})"))
        )
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


_RIS_TYPES = {
    "JOUR": "article",
    "JFULL": "article",
    "EJOUR": "article",
    "ABST": "article",
    "BOOK": "book",
    "EBOOK": "book",
    "CHAP": "incollection",
    "ECHAP": "incollection",
    "CONF": "inproceedings",
    "CPAPER": "inproceedings",
    "THES": "phdthesis",
    "RPRT": "techreport",
}


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
        pmid = pmid or next((p for p in map(pmid_from_url, urls) if p), "")
        fields = {
            "author": " and ".join(person_name(a) for a in authors),
            "title": first("TI", "T1"),
            "journal": first("JF", "T2", "JO", "JA", "J2"),
            "year": first("PY", "Y1", "DA"),
            "volume": first("VL"),
            "number": first("IS", "CP"),
            "pages": pages,
            "doi": first("DO") or next((d for d in map(doi_from_url, urls) if d), ""),
            "pmid": pmid,
        }
        entry_type = _RIS_TYPES.get(first("TY").upper(), "misc")
        records.append(
            normalise(Record(entry_type, fields, f"{origin}, record {number} (line {line})"))
        )
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
            authors = [person_name(a) for a in values["FAU"]]
        else:
            authors = [person_name(a) for a in values.get("AU", [])]
        authors += [f"{{{name}}}" for name in values.get("CN", [])]
        doi = ""
        for value in values.get("LID", []) + values.get("AID", []):
            if value.endswith("[doi]"):
                doi = value[: -len("[doi]")].strip()
                break
        types = [t.lower() for t in values.get("PT", [])]
        entry_type = (
            "article"
            if not types or any("journal article" in t or "review" in t for t in types)
            else "misc"
        )
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
        # A MEDLINE file is PubMed's own export: its PMID and DOI were seen on a canonical record.
        record = Record(
            entry_type, fields, f"{origin}, record {number} (line {line})", seen="canonical"
        )
        records.append(normalise(record))
    return records


def read_reference_file(
    path: str | Path, fmt: str | None = None, text: str | None = None
) -> list[Record]:
    """Records of one BibTeX, RIS or MEDLINE file (format from *fmt*, the extension, or the content)."""
    name = str(path)
    if text is None:
        try:
            text = Path(path).read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise CurationError(f"{name}: not UTF-8 text ({error})") from None
    return parse_references(text, fmt or detect_format(text, name), Path(name).name)
