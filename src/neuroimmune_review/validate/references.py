"""Rules of ``data/reference_map.csv`` and ``data/reference_provenance.csv``.

Which work each reference number of the source article is, and where each identifier
of references.bib was seen (see :mod:`neuroimmune_review.reference_map`). The Table
Schema checks the columns one by one; these rules tie the two tables to each other and
to the BibTeX.
"""

from __future__ import annotations

from ..bib import SOURCE_REFERENCE_COUNT, Bibliography, format_number_ranges
from ..problems import Problem, show
from ..reference_map import (
    IDENTIFIER_FIELDS,
    MAP_RESOURCE,
    PROVENANCE_RESOURCE,
    UNRESOLVED,
    canonical_record,
    expand_group,
    host_problem,
)
from .bibliography import known_keys, usable
from .judge import _messages, judge_column, judge_distinct
from .reader import CsvTable
from .report import Suggester, _cap


def check_keys_in_bibliography(
    table: CsvTable, bibliography: Bibliography, bib_path: str
) -> list[Problem]:
    """Every non-empty ``key`` of *table* is an entry of the bibliography (both tables' rule)."""
    known = known_keys(bibliography)
    suggest = Suggester(sorted(known))

    def judge_key(value: str) -> str | None:
        if not value.strip() or value in known:
            return None
        return f"key {show(value)} is not an entry of {bib_path}{suggest.hint(value)}"

    return _messages(table.path, "key", judge_column(table, "key", judge_key))


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
        problems.append(
            Problem(
                table.path,
                0,
                "ref",
                f"reference number(s) {format_number_ranges(missing)} have no row; expected one row "
                f"for every number from 1 to {reference_count}",
            )
        )
    if usable(bibliography):
        problems += check_keys_in_bibliography(table, bibliography, bib_path)
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
    bib_usable = usable(bibliography)
    entries = bibliography.entries if bib_usable else {}
    problems: list[Problem] = []
    if bib_usable:
        problems += check_keys_in_bibliography(table, bibliography, bib_path)
    separator = "\x1f"
    rows = frame["key"] + separator + frame["field"] + separator + frame["value"]

    def judge_value(triple: str) -> str | None:
        key, name, value = triple.split(separator, 2)
        if (
            not bib_usable
            or key not in entries
            or name not in IDENTIFIER_FIELDS
            or not value.strip()
        ):
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


def check_reference_tables(
    tables: dict[str, CsvTable], bibliography: Bibliography | None, bib_rel: str
) -> list[Problem]:
    """The rules of data/reference_map.csv and data/reference_provenance.csv, where the package has them."""
    problems: list[Problem] = []
    if MAP_RESOURCE in tables:
        problems += check_reference_map(tables[MAP_RESOURCE], bibliography, bib_rel)
    provenance = tables.get(PROVENANCE_RESOURCE)
    if provenance is not None:
        problems += check_provenance(provenance, bibliography, bib_rel)
        if bibliography is not None and bibliography.entries:
            problems += check_identifiers_have_provenance(
                bibliography, bib_rel, provenance, provenance.path
            )
    return problems
