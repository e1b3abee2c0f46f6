"""House style for ``references.bib`` (DOIs, authors, pages, keys) and appending new works to it."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import paths
from ..bib import DOI_PATTERN, REQUIRED_FIELDS
from .safe_write import (
    CurationError,
    appendable,
    atomic_write,
    describe_problem,
    detect_newline,
    exclusive_lock,
    new_errors,
    new_warnings,
    shadow_root,
    validate_tree,
)

HOUSE_FIELDS = ("author", "title", "journal", "year", "volume", "number", "pages", "doi", "pmid")
REQUIRED_REFERENCE_FIELDS = REQUIRED_FIELDS  # the bibliography's rule, named for curators


# ---------------------------------------------------------------------------
# References: one imported work (the importers build these)


@dataclass
class Record:
    """One imported work, already in house style (fields of HOUSE_FIELDS, plain text)."""

    entry_type: str
    fields: dict[str, str]
    origin: str  # "file.ris, record 2" for messages
    # Where its identifiers were seen: "canonical" for a PubMed MEDLINE export (or a file the
    # curator says came from a canonical record), "secondary" for any other file.
    seen: str = "secondary"

    def describe(self) -> str:
        from ..bib import author_surnames

        surnames, others = author_surnames(self.fields.get("author", ""))
        who = surnames[0] + (" et al." if len(surnames) > 1 or others else "") if surnames else "?"
        title = self.fields.get("title", "").replace("{", "").replace("}", "")
        title = title if len(title) <= 60 else title[:57] + "…"
        return f"{who} {self.fields.get('year', 'n.d.')}, {title!r}"


# ---------------------------------------------------------------------------
# References: house style


_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_DOI_IN_URL = re.compile(rf"(?:https?://(?:dx\.)?doi\.org/)({DOI_PATTERN.pattern})", re.IGNORECASE)
_PMID_IN_URL = re.compile(r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)(\d{1,9})")


def normalise_doi(value: str) -> str:
    """Bare, lower-case DOI: 'https://doi.org/10.1038/ABC' -> '10.1038/abc'."""
    value = value.strip().rstrip(".")
    value = re.sub(r"\s*\[doi\]$", "", value)
    value = _DOI_PREFIX.sub("", value).strip()
    return value.lower()


def doi_from_url(url: str) -> str:
    match = _DOI_IN_URL.search(url or "")
    return match.group(1) if match else ""


def pmid_from_url(url: str) -> str:
    match = _PMID_IN_URL.search(url or "")
    return match.group(1) if match else ""


def person_name(name: str) -> str:
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
    start = next(
        (i for i, t in enumerate(tokens[1:-1], start=1) if t[0].islower()), len(tokens) - 1
    )
    return f"{' '.join(tokens[start:])}, {' '.join(tokens[:start])}"


def bibtex_authors(value: str) -> str:
    """A BibTeX author list in house style ('Last, First and ...'), split and parsed by bibtexparser."""
    from ..bib import person_names

    return " and ".join(_house_name(name) for name in person_names(value))


def _house_name(name: str) -> str:
    if name.lower() == "others" or (name.startswith("{") and name.endswith("}")):
        return name
    tokens = name.split()
    if "," not in name and len(tokens) >= 2 and re.fullmatch(r"[A-Z]{1,3}", tokens[-1]):
        return person_name(name)  # MEDLINE's 'Sutcigil L' pasted into BibTeX: not 'First Last'
    from ..bib import name_parts

    parts = name_parts(name)
    last = " ".join(parts.von + parts.last)
    rest = ", ".join(" ".join(part) for part in (parts.jr, parts.first) if part)
    return f"{last}, {rest}" if rest else last


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
            if value.startswith("[") and value.rstrip(".").endswith(
                "]"
            ):  # MEDLINE translated titles
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
            value = (
                re.sub(r"\D", "", value)
                if re.fullmatch(r"\s*(?:PMID:?\s*)?\d+\s*", value, re.I)
                else value
            )
        value = _balanced(value)
        if value:
            fields[name] = value
    return Record(record.entry_type.lower() or "article", fields, record.origin, record.seen)


_ASCII_FOLD = str.maketrans(
    {
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "þ": "th",
        "ð": "d",
        "ı": "i",
    }
)


def ascii_letters(text: str) -> str:
    """Lower-case ASCII letters of *text*, accents stripped: 'Więdłocha' -> 'wiedlocha'."""
    text = unicodedata.normalize("NFKD", text.translate(_ASCII_FOLD))
    return re.sub(r"[^a-z]", "", "".join(c for c in text if not unicodedata.combining(c)).lower())


def base_key(fields: dict[str, str]) -> str:
    """``firstauthorYEARfirstword``: 'Sutcigil 2007 Pro- and anti-…' -> 'sutcigil2007pro'."""
    from ..bib import author_surnames

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
    seen_at: str = "",
) -> ReferenceResult:
    """Append the *records* that are not already in ``references.bib``.

    Duplicates (same DOI, same PMID, or same key with the same title) are reported
    and skipped. The new entries are appended after the existing bytes, and each new
    DOI and PMID gets a row in ``data/reference_provenance.csv`` (its canonical record;
    seen canonical for a PubMed export or when *seen_at* names the canonical page the
    file came from, secondary otherwise). The data set is then validated, and both
    files are restored byte for byte if a new error appears.
    """
    from ..bib import load_bibliography
    from ..reference_map import host_problem

    if seen_at and (problem := host_problem(seen_at)):
        raise CurationError(
            f"--seen-at {seen_at!r} {problem}; expected the canonical record the file came from "
            "(its PubMed, doi.org, PMC or publisher page); leave it out for any other source"
        )

    root = Path(root) if root is not None else paths.find_root()
    root = root.resolve()
    bib_file = paths.bib_path(root)
    missing = [
        f"{record.origin} ({record.describe()}): no {name}"
        for record in records
        for name in REQUIRED_REFERENCE_FIELDS
        if not record.fields.get(name)
    ]
    if missing:
        raise CurationError(
            "some records lack fields every entry needs; nothing was added", missing
        )
    if record_errors := [
        f"{r.origin}: DOI {r.fields['doi']!r} is malformed; expected a bare DOI like 10.1038/s41398-025-03532-y"
        for r in records
        if r.fields.get("doi") and not DOI_PATTERN.fullmatch(r.fields["doi"])
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
                result.duplicates.append(
                    Duplicate(record, key, reason, within_import=key in index.imported)
                )
                continue
            key = unique_key(base_key(record.fields), index.keys)
            index.add(key, record.fields)
            result.added.append((key, record))
        if not result.added:
            return result

        if seen_at:
            result.added = [
                (key, replace(record, seen="canonical")) for key, record in result.added
            ]
        newline = detect_newline(original)
        base = appendable(original, newline)
        # One blank line before each new entry (none at the top of an empty file).
        separator = newline if base.strip() and not base.endswith(newline * 2) else b""
        entries = [
            format_entry(key, record, newline.decode()).encode("utf-8")
            for key, record in result.added
        ]
        candidate = base + separator + newline.join(entries)

        provenance = _provenance_candidate(root, result.added)
        replacements = {bib_file.name: candidate}
        new_lines = {
            bib_file.name: range((base + separator).count(b"\n") + 1, candidate.count(b"\n") + 2)
        }
        if provenance is not None:
            prov_rel, prov_original, prov_candidate, prov_first = provenance
            replacements[prov_rel] = prov_candidate
            new_lines[prov_rel] = range(prov_first, prov_candidate.count(b"\n") + 2)

        before = validate_tree(root)
        if dry_run:
            with shadow_root(root, replacements) as shadow:
                after = validate_tree(shadow)
        else:
            originals = {bib_file.name: original}
            if provenance is not None:
                originals[prov_rel] = prov_original
            try:
                for rel, data in replacements.items():
                    atomic_write(root / rel, data)
                after = validate_tree(root)
            except BaseException:
                _restore(root, originals)
                raise
        blocking = new_errors(before, after, new_lines)
        if blocking:
            if not dry_run:
                _restore(root, originals)
            raise CurationError(
                f"the new entries would make the data set invalid; {_left_as_they_were(replacements)}",
                [describe_problem(p) for p in blocking],
            )
        result.warnings = [
            describe_problem(p)
            for p in new_warnings(before, after)
            if "is not cited by the data or the book" not in p.message
        ]
        result.existing_errors = sum(p.severity == "error" for p in before)
        result.written = not dry_run
        return result


# ---------------------------------------------------------------------------
# References: provenance of the new identifiers


def _provenance_candidate(
    root: Path, added: list[tuple[str, Record]]
) -> tuple[str, bytes | None, bytes, int] | None:
    """(relative path, original bytes or None, new bytes, first new line) of the provenance table.

    None when the data package has no provenance table (nothing to keep in step).
    """
    from ..reference_map import (
        IDENTIFIER_FIELDS,
        PROVENANCE_COLUMNS,
        PROVENANCE_RESOURCE,
        canonical_record,
    )
    from ..schema import SchemaError, datapackage_path, load_package

    try:
        package = load_package(datapackage_path(root))
    except SchemaError:
        return None
    spec = package.tables.get(PROVENANCE_RESOURCE)
    if spec is None:
        return None
    path = package.base_dir / spec.path
    rel = path.relative_to(root).as_posix()
    original = path.read_bytes() if path.exists() else None
    newline = detect_newline(original or b"")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline.decode())
    if not original:
        writer.writerow(PROVENANCE_COLUMNS)
    for key, record in added:
        for name in IDENTIFIER_FIELDS:
            value = record.fields.get(name, "")
            if value:
                writer.writerow([key, name, value, canonical_record(name, value), record.seen])
    base = appendable(original or b"", newline)
    first_line = base.count(b"\n") + 1 + (0 if original else 1)
    return rel, original, base + buffer.getvalue().encode("utf-8"), first_line


def _left_as_they_were(files: dict[str, bytes]) -> str:
    if len(files) == 1:
        return f"{next(iter(files))} was left as it was"
    return f"{' and '.join(files)} were left as they were"


def _restore(root: Path, originals: dict[str, bytes | None]) -> None:
    """Put every file back as it was (a file that did not exist is removed)."""
    for rel, data in originals.items():
        path = root / rel
        if data is None:
            path.unlink(missing_ok=True)
        else:
            atomic_write(path, data)
