"""Rules of the evidence table and of any table citing works: citation keys, source-article
reference numbers, duplicate findings, agreement with the reference map and evidence model v2
(see data/datapackage.json and CONTRIBUTING.md).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ..bib import SOURCE_ARTICLE_KEY, SOURCE_REFERENCE_COUNT, decode_utf8
from ..problems import WARNING, Problem, show
from ..schema import TableSpec
from ..text import has_empty_item, parse_numbers, split_list
from .judge import _judge_codes, _messages, judge_column
from .reader import CsvTable
from .report import Suggester, _relative, _report_rows

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


def split_keeping_empty(value: str) -> list[str]:
    """Items of a ';'-separated cell, stripped, empty items kept (so 'a;;b' can be reported).

    Not :func:`text.split_list`, which drops empty items: review_ref's message quotes the
    empty item in its place among the bad ones ("'1;;x' has '', 'x', …").
    """
    return [item.strip() for item in value.split(";")] if value.strip() else []


def check_citations(table: CsvTable, known_keys: set[str], bib_path: str) -> list[Problem]:
    suggest = Suggester(sorted(known_keys))

    def judge(cell: str) -> str | None:
        if has_empty_item(cell):
            return f"{show(cell)} has an empty key; expected BibTeX keys separated by ';'"
        keys = split_list(cell)
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
        items = split_keeping_empty(cell)
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
    return ";".join(sorted(split_list(value)))


def _finding_parts(table: CsvTable) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per FINDING_COLUMNS part: a code per row and the normalised values the codes number
    (code -1: a review_ref that does not count, as the row cites more than the source article)."""
    parts = {column: _normalised_codes(table, column, str.strip) for column in FINDING_COLUMNS}
    citation_codes, citations = parts[CITATION_COLUMN] = _normalised_codes(
        table, CITATION_COLUMN, _sorted_list
    )
    # Rows that cite only the source article are told apart by its reference number:
    # two unresolved numbers are two different sources, not one finding twice.
    if REVIEW_REF_COLUMN in table.frame:
        source_only = np.isin(citations, ["", SOURCE_ARTICLE_KEY])[citation_codes]
        review_ref_codes, review_refs = _normalised_codes(table, REVIEW_REF_COLUMN, _sorted_list)
        parts[REVIEW_REF_COLUMN] = (np.where(source_only, review_ref_codes, -1), review_refs)
    return parts


def _finding_keys(table: CsvTable) -> pd.DataFrame:
    """Integer codes per row and FINDING_COLUMNS part; equal rows are the same finding."""
    parts = _finding_parts(table)
    return pd.DataFrame({c: codes for c, (codes, _) in parts.items()}, index=table.frame.index)


_NO_PART = np.uint64(0x9E3779B97F4A7C15)  # the hash of a part that does not count (code -1)


def finding_hashes(table: CsvTable) -> np.ndarray:
    """One hash per row of the finding it states, comparable between tables: rows that
    ``check_duplicate_findings`` takes for the same finding hash alike (``validate.incremental``
    looks new rows' findings up among earlier rows' this way; a hash found means "maybe")."""
    combined = np.zeros(len(table.frame), dtype=np.uint64)
    for codes, values in _finding_parts(table).values():
        hashes = np.append(
            pd.util.hash_array(np.asarray(values, dtype=object), categorize=False), _NO_PART
        )
        # Wrapping uint64 arithmetic: the order of the parts counts.
        combined = combined * np.uint64(1_000_003) + hashes[codes]
    return combined


def _distinct_rows(keys: pd.DataFrame) -> int:
    """How many distinct rows *keys* (integer codes from -1 up) has, as ``len(keys.drop_duplicates())``.

    Performance only: the columns are combined into one integer per row (mixed radix,
    renumbered before it could overflow), so one hash pass over 357k integers replaces
    DataFrame.duplicated's per-column factorising.
    """
    combined, size = np.zeros(len(keys), dtype=np.int64), 1
    for column in keys.columns:
        codes = keys[column].to_numpy(dtype=np.int64) + 1
        base = int(codes.max(initial=0)) + 1
        if size * base >= 2**62:
            combined, uniques = pd.factorize(combined)
            combined, size = combined.astype(np.int64), len(uniques)
        combined, size = combined * base + codes, size * base
    return len(pd.unique(combined))


def check_duplicate_findings(table: CsvTable) -> list[Problem]:
    frame = table.frame
    if not set(FINDING_COLUMNS) <= set(frame.columns) or frame.empty:
        return []
    keys = _finding_keys(table)
    if _distinct_rows(keys) == len(keys):
        return []  # the common case, decided on one integer per row
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
        keys = split_list(citation)
        numbers = parse_numbers(review_ref)[0]
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
        return any(n in keys_by_number for n in parse_numbers(review_ref)[0])

    # Only rows whose review_ref is resolved in the reference map can disagree with it.
    codes, review_refs = table.distinct(REVIEW_REF_COLUMN)
    relevant = np.array([names_resolved_number(value) for value in review_refs] + [False])
    rows = relevant[codes]
    # Each distinct (citation, review_ref) pair is judged once, as "citation<US>review_ref":
    # pairs are numbered from the two columns' codes, so only distinct pairs are joined.
    citation_codes, citations = table.distinct(CITATION_COLUMN)
    radix = len(review_refs) + 1
    pair_codes, first = pd.factorize(citation_codes[rows].astype(np.int64) * radix + codes[rows])
    pairs = np.array(
        [citations[pair // radix] + separator + review_refs[pair % radix] for pair in first],
        dtype=object,
    )
    messages = _judge_codes(frame.index[rows], pair_codes, pairs, judge)
    return _messages(table.path, CITATION_COLUMN, messages, WARNING)


# ---------------------------------------------------------------------------
# Evidence model v2 (see data/datapackage.json and CONTRIBUTING.md)

V2_COLUMNS = ("claim_type", "comparator", "reported_as")
CONVERTER = "python scripts/convert_evidence_v1.py"
MAX_REPORTED_WORDS = 8


def v1_evidence_problem(file: Path, root: Path, spec: TableSpec) -> Problem | None:
    """One clear error for an evidence file written under the v1 model (no claim_type, comparator
    or reported_as columns), instead of one error per missing column and row."""
    try:
        # Only the header matters: read up to the first LF, not the whole file (a second read
        # of 104 MB at 357k rows).  Line ends other than LF fall inside it, so its first line
        # is the file's, and UTF-8 decodes the same up to an LF as within the whole file.
        with file.open("rb") as handle:
            head = handle.readline()
        first = decode_utf8(head).text.lstrip("\ufeff").splitlines()[:1]
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
        claim_codes, claims = table.distinct("claim_type")
        outcome = np.append(claims == "non_mediator_outcome", False)[claim_codes]
        outcome_mediators = frame["mediator"][outcome]
        wrong = outcome_mediators[
            outcome_mediators.map(family).isin(set(family.values()) - set(OUTCOME_FAMILIES))
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
            keys = split_list(cell)
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
