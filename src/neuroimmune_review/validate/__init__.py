"""Checks for ``data/`` and ``references.bib``.

Every check is a pure function returning a list of :class:`Problem`; nothing is
written. Column names, required fields, enums, patterns and keys come from
``data/datapackage.json`` (see :mod:`neuroimmune_review.schema`), so the rule modules
hold only what a Table Schema cannot express. Row checks are vectorised with pandas,
on frames indexed by the physical line on which each record starts.

- :mod:`.reader` — one CSV into a line-indexed frame (plain and fast paths by the C reader, careful path);
- :mod:`.report` and :mod:`.judge` — "did you mean", capped reports, judging distinct values;
- :mod:`.columns` — the Table Schema rules of ``datapackage.json``;
- :mod:`.evidence` — citation keys, reference numbers, duplicate findings, evidence model v2;
- :mod:`.vocabulary` — aliases and pooled groups of interventions and mediators;
- :mod:`.references` — ``reference_map.csv`` and ``reference_provenance.csv``;
- :mod:`.bibliography` — ``references.bib``; :mod:`.toc` — chapters of ``_toc.yml``;
- :mod:`.screening` — the search log, screening queue and decisions;
- :mod:`.run` — :func:`validate` and :func:`validate_root`, which apply them all.

Everything the package exported as one module is re-exported here.
"""

from __future__ import annotations

from ..problems import ERROR, MAX_SHOWN_CHARS, WARNING, Problem, format_problem, show
from .bibliography import (
    BIB_REQUIRED_FIELDS,
    BOOK_CITATION,
    BOOK_DIR,
    DOI_PATTERN,
    MOVED_BIB_FIELDS,
    WEB_URL_PATTERN,
    book_citation_keys,
    check_bibliography,
    check_unused_entries,
)
from .columns import check_field, check_foreign_keys, check_table_schema, check_unique
from .evidence import (
    CITATION_COLUMN,
    CONVERTER,
    FINDING_COLUMNS,
    MAX_REPORTED_WORDS,
    OUTCOME_FAMILIES,
    REVIEW_REF_COLUMN,
    V2_COLUMNS,
    check_citation_consistency,
    check_citations,
    check_duplicate_findings,
    check_evidence_model,
    check_review_refs,
    v1_evidence_problem,
)
from .evidence import split_keeping_empty as split_list
from .judge import judge_column, judge_distinct
from .reader import CsvTable, read_csv_table
from .references import (
    check_identifiers_have_provenance,
    check_provenance,
    check_reference_map,
    map_keys_by_number,
)
from .report import MAX_PROBLEMS_PER_RULE, Suggester
from .run import ValidationResult, validate, validate_root
from .screening import check_screening
from .toc import CHAPTER_COLUMN, TOC_FILE, check_chapters, load_chapters
from .vocabulary import (
    ALIAS_COLUMNS,
    MEMBERS_COLUMN,
    POOLED_KIND,
    check_aliases,
    check_pooled_groups,
)

__all__ = [
    "ALIAS_COLUMNS",
    "BIB_REQUIRED_FIELDS",
    "BOOK_CITATION",
    "BOOK_DIR",
    "CHAPTER_COLUMN",
    "CITATION_COLUMN",
    "CONVERTER",
    "DOI_PATTERN",
    "ERROR",
    "FINDING_COLUMNS",
    "MAX_PROBLEMS_PER_RULE",
    "MAX_REPORTED_WORDS",
    "MAX_SHOWN_CHARS",
    "MEMBERS_COLUMN",
    "MOVED_BIB_FIELDS",
    "OUTCOME_FAMILIES",
    "POOLED_KIND",
    "REVIEW_REF_COLUMN",
    "TOC_FILE",
    "V2_COLUMNS",
    "WARNING",
    "WEB_URL_PATTERN",
    "CsvTable",
    "Problem",
    "Suggester",
    "ValidationResult",
    "book_citation_keys",
    "check_aliases",
    "check_bibliography",
    "check_chapters",
    "check_citation_consistency",
    "check_citations",
    "check_duplicate_findings",
    "check_evidence_model",
    "check_field",
    "check_foreign_keys",
    "check_identifiers_have_provenance",
    "check_pooled_groups",
    "check_provenance",
    "check_reference_map",
    "check_review_refs",
    "check_screening",
    "check_table_schema",
    "check_unique",
    "check_unused_entries",
    "format_problem",
    "judge_column",
    "judge_distinct",
    "load_chapters",
    "map_keys_by_number",
    "read_csv_table",
    "show",
    "split_list",
    "v1_evidence_problem",
    "validate",
    "validate_root",
]
