"""The validator's entry point: every rule over ``data/``, ``references.bib`` and ``_toc.yml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import paths
from ..bib import Bibliography, load_bibliography, reference_report
from ..problems import ERROR, WARNING, Problem
from ..reference_map import MAP_RESOURCE
from ..schema import SchemaError, datapackage_path, load_package
from ..text import split_list
from .bibliography import (
    book_citation_keys,
    check_bibliography,
    check_unused_entries,
    known_keys,
    usable,
)
from .columns import check_foreign_keys, check_table_schema
from .evidence import (
    CITATION_COLUMN,
    REVIEW_REF_COLUMN,
    check_citation_consistency,
    check_citations,
    check_duplicate_findings,
    check_evidence_model,
    check_review_refs,
    v1_evidence_problem,
)
from .reader import CsvTable, read_csv_table
from .references import check_reference_tables, map_keys_by_number
from .report import _relative
from .screening import check_screening
from .toc import CHAPTER_COLUMN, check_chapters, load_chapters
from .vocabulary import check_aliases, check_pooled_groups


@dataclass
class ValidationResult:
    root: Path
    problems: list[Problem] = field(default_factory=list)
    bibliography: Bibliography | None = None
    tables: dict[str, CsvTable] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def evidence(self) -> pd.DataFrame | None:
        table = self.tables.get("evidence")
        return table.frame if table is not None else None

    def reference_report(self) -> dict | None:
        if not usable(self.bibliography):
            return None
        return reference_report(
            self.bibliography,
            self.evidence,
            keys_by_number=map_keys_by_number(self.tables.get(MAP_RESOURCE)),
        )


def validate(root: str | Path, tables: dict[str, CsvTable] | None = None) -> ValidationResult:
    """Check ``root/data`` against its datapackage.json, ``root/references.bib`` and ``root/_toc.yml``.

    *tables*, by name, are taken as read instead of reading their files (``validate.incremental``
    validates an evidence file's appended lines so).
    """
    root = Path(root)
    result = ValidationResult(root)
    problems = result.problems

    bib_file = paths.bib_path(root)
    bib_rel = _relative(bib_file, root)
    if bib_file.is_file():
        result.bibliography = load_bibliography(bib_file)
        problems += check_bibliography(result.bibliography, bib_rel)
    else:
        problems.append(
            Problem(bib_rel, 0, "file", "file not found; expected the review's BibTeX bibliography")
        )

    chapters, toc_problems = load_chapters(root)
    problems += toc_problems

    package_file = datapackage_path(root)
    try:
        package = load_package(package_file)
    except SchemaError as error:
        problems.append(
            Problem(
                _relative(package_file, root),
                0,
                "schema",
                f"{error}; expected a Frictionless data package",
            )
        )
        return _finish(result)

    for name, spec in package.tables.items():
        if tables and name in tables:
            result.tables[name] = tables[name]
            continue
        file = package.base_dir / spec.path
        if name == "evidence":
            old = v1_evidence_problem(file, root, spec)
            if old is not None:
                problems.append(old)
                continue
        table, table_problems = read_csv_table(file, root, spec.columns)
        problems += table_problems
        if table is not None:
            result.tables[name] = table

    bibliography = result.bibliography
    bib_usable = usable(bibliography)
    known = known_keys(bibliography)
    keys_by_number = map_keys_by_number(result.tables.get(MAP_RESOURCE))
    cited: set[str] = set()
    for name, table in result.tables.items():
        spec = package.tables[name]
        columns = table.frame.columns
        cross_file: list[Problem] = []
        if CITATION_COLUMN in columns:
            cited |= {
                key for cell in table.distinct(CITATION_COLUMN)[1] for key in split_list(cell)
            }
            if bib_usable:
                cross_file += check_citations(table, known, bib_rel)
                cross_file += check_citation_consistency(table, keys_by_number)
        if REVIEW_REF_COLUMN in columns:
            cross_file += check_review_refs(table)
        if CHAPTER_COLUMN in columns and chapters is not None:
            cross_file += check_chapters(table, chapters)
        if name == "evidence":
            cross_file += check_evidence_model(table, result.tables.get("mediators"))
        if name == "interventions":
            cross_file += check_pooled_groups(table)
        cross_file += check_aliases(table)
        # One message per cell: where a cross-file rule explains a value, the schema's
        # generic pattern message for the same cell would only repeat it less clearly.
        explained = {(p.line, p.field) for p in cross_file if p.severity == ERROR}
        problems += [
            p for p in check_table_schema(table, spec) if (p.line, p.field) not in explained
        ]
        problems += check_foreign_keys(table, spec, result.tables)
        problems += cross_file
    if "evidence" in result.tables:
        problems += check_duplicate_findings(result.tables["evidence"])
    problems += check_screening(result.tables, bibliography if bib_usable else None)
    problems += check_reference_tables(result.tables, bibliography, bib_rel)
    cited |= {key for keys in keys_by_number.values() for key in keys}
    if bibliography is not None and bibliography.entries:
        problems += check_unused_entries(bibliography, bib_rel, cited | book_citation_keys(root))
    return _finish(result)


def _finish(result: ValidationResult) -> ValidationResult:
    result.problems.sort(key=lambda p: (p.path, p.line, p.severity != ERROR))
    return result


def validate_root(root: str | Path) -> list[Problem]:
    """All problems found under *root*, sorted by file and line."""
    return validate(root).problems
