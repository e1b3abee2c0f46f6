"""Rules of ``references.bib``: well-formed entries, required fields, identifiers, unused entries."""

from __future__ import annotations

import re

from ..bib import (
    DOI_PATTERN,
    REQUIRED_FIELDS,
    SOURCE_ARTICLE_KEY,
    SOURCE_REFERENCE_COUNT,
    Bibliography,
)
from ..cited import BOOK_CITATION, BOOK_DIR, book_citation_keys  # noqa: F401 - re-exported
from ..problems import WARNING, Problem, show
from ..reference_map import PMCID_PATTERN
from .report import _cap

WEB_URL_PATTERN = re.compile(r"(?i)^https?://[^\s]+$")
BIB_REQUIRED_FIELDS = REQUIRED_FIELDS  # the name the validator has always exported
# Fields that no longer belong in the BibTeX, and where their content lives now.
MOVED_BIB_FIELDS = {
    "reviewref": "the source article's reference numbers are in data/reference_map.csv",
    "source": "where an identifier was seen is in data/reference_provenance.csv",
}


def usable(bibliography: Bibliography | None) -> bool:
    """Whether *bibliography* was read at all (entries to check other files against)."""
    return bibliography is not None and not (bibliography.read_error and not bibliography.entries)


def known_keys(bibliography: Bibliography | None) -> set[str]:
    """Every key of *bibliography*, those of entries that failed to parse included."""
    if bibliography is None:
        return set()
    return set(bibliography.entries) | {f.key for f in bibliography.failed if f.key}


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
        if "doi" in fields and not DOI_PATTERN.fullmatch(doi):
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
