"""add_reference writes canonical provenance rows (data/reference_provenance.csv) for what it imports."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from test_curation import (
    ADD_REFERENCE,
    FIXTURES,
    SOURCE_ENTRY,
    STUDY_ENTRY,
    make_root,
    run,
    snapshot,
)

from neuroimmune_review import curation
from neuroimmune_review.validate import validate_root

PROVENANCE = "data/reference_provenance.csv"
EXISTING = (
    "key,field,value,record,seen\n"
    "nava2025modulation,doi,10.1038/s41398-025-03532-y,https://doi.org/10.1038/s41398-025-03532-y,canonical\n"
    "nava2025modulation,pmid,40849324,https://pubmed.ncbi.nlm.nih.gov/40849324/,secondary\n"
    "example2001fluoxetine,doi,10.5555/fixture.2001.1,https://doi.org/10.5555/fixture.2001.1,canonical\n"
    "example2001fluoxetine,pmid,11111111,https://pubmed.ncbi.nlm.nih.gov/11111111/,canonical\n"
)


def provenance_root(tmp_path: Path) -> Path:
    """The curation fixture root, with the provenance table in its data package."""
    root = make_root(tmp_path)
    repo_package = json.loads(
        (Path(__file__).resolve().parents[2] / "data" / "datapackage.json").read_text(
            encoding="utf-8"
        )
    )
    package_file = root / "data" / "datapackage.json"
    package = json.loads(package_file.read_text(encoding="utf-8"))
    package["resources"] += [
        r for r in repo_package["resources"] if r["name"] == "reference_provenance"
    ]
    package_file.write_text(json.dumps(package, indent=2, ensure_ascii=False), encoding="utf-8")
    (root / PROVENANCE).write_text(EXISTING, encoding="utf-8")
    assert [p for p in validate_root(root) if p.severity == "error"] == []
    return root


def added_rows(root: Path) -> list[dict[str, str]]:
    text = (root / PROVENANCE).read_text(encoding="utf-8")
    assert text.startswith(EXISTING)  # existing bytes are never rewritten
    return list(csv.DictReader(io.StringIO(text)))[4:]


def test_pubmed_export_gives_canonical_rows(tmp_path):
    root = provenance_root(tmp_path)
    done = run(ADD_REFERENCE, "--root", str(root), str(FIXTURES / "pubmed-two-records.nbib"))
    assert done.returncode == 0, done.stderr
    rows = added_rows(root)
    assert {(r["field"], r["value"], r["record"], r["seen"]) for r in rows} >= {
        ("pmid", "99000001", "https://pubmed.ncbi.nlm.nih.gov/99000001/", "canonical"),
        ("doi", "10.1155/2007/76396", "https://doi.org/10.1155/2007/76396", "canonical"),
        ("pmid", "99000002", "https://pubmed.ncbi.nlm.nih.gov/99000002/", "canonical"),
    }
    assert len(rows) == 4
    assert "seen canonical" in done.stdout
    assert [p for p in validate_root(root) if p.severity == "error"] == []


def test_ris_export_is_a_secondary_source_by_default(tmp_path):
    root = provenance_root(tmp_path)
    done = run(ADD_REFERENCE, "--root", str(root), str(FIXTURES / "nature-and-springer.ris"))
    assert done.returncode == 0, done.stderr
    rows = added_rows(root)
    assert rows and {r["seen"] for r in rows} == {"secondary"}
    assert ("doi", "https://doi.org/10.1007/s12035-017-0632-1") in {
        (r["field"], r["record"]) for r in rows
    }
    assert [p for p in validate_root(root) if p.severity == "error"] == []


def test_seen_at_a_canonical_page_marks_the_import_canonical(tmp_path):
    root = provenance_root(tmp_path)
    done = run(
        ADD_REFERENCE,
        "--root",
        str(root),
        "--seen-at",
        "https://link.springer.com/article/10.1007/s12035-017-0632-1",
        str(FIXTURES / "nature-and-springer.ris"),
    )
    assert done.returncode == 0, done.stderr
    assert {r["seen"] for r in added_rows(root)} == {"canonical"}


@pytest.mark.parametrize(
    "url", ["http://47.251.13.51:8081/28612257", "https://www.scribd.com/doc/1", "not a url"]
)
def test_seen_at_a_mirror_is_refused_and_nothing_changes(tmp_path, url):
    root = provenance_root(tmp_path)
    before = snapshot(root)
    done = run(
        ADD_REFERENCE, "--root", str(root), "--seen-at", url, str(FIXTURES / "one-entry.bib")
    )
    assert done.returncode == 1
    assert "--seen-at" in done.stderr and "canonical" in done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(root) == before


def test_failed_import_leaves_bib_and_provenance_byte_identical(tmp_path):
    root = provenance_root(tmp_path)
    before = snapshot(root)
    bad = tmp_path / "bad.bib"
    bad.write_text(
        "@article{bad2020a, author = {Bad, A.}, title = {Bad PMID}, year = {2020},"
        " doi = {10.5555/bad.1}, pmid = {PMC1234567}}\n",
        encoding="utf-8",
    )
    done = run(ADD_REFERENCE, "--root", str(root), str(bad))
    assert done.returncode == 1
    assert "PMC1234567" in done.stderr
    assert "references.bib and data/reference_provenance.csv were left as they were" in done.stderr
    assert snapshot(root) == before


def test_dry_run_writes_no_provenance(tmp_path):
    root = provenance_root(tmp_path)
    before = snapshot(root)
    result = curation.add_references(
        curation.read_reference_file(FIXTURES / "pubmed-two-records.nbib"), root, dry_run=True
    )
    assert len(result.added) == 2 and not result.written
    assert snapshot(root) == before


def test_provenance_file_is_created_when_missing(tmp_path):
    # A review whose entries carry no identifier yet needs no provenance row before the import.
    bare = re.sub(r",\n  (doi|pmid) = \{[^}]*\}", "", SOURCE_ENTRY + "\n" + STUDY_ENTRY)
    root = provenance_root(tmp_path)
    (root / "references.bib").write_text(bare, encoding="utf-8")
    (root / PROVENANCE).unlink()
    result = curation.add_references(
        curation.read_reference_file(FIXTURES / "pubmed-two-records.nbib"), root
    )
    assert result.written
    text = (root / PROVENANCE).read_text(encoding="utf-8")
    assert text.startswith("key,field,value,record,seen\n")
    assert text.count(",canonical") == 4
    assert [p for p in validate_root(root) if p.severity == "error"] == []


def test_root_without_a_provenance_table_gets_none(tmp_path):
    root = make_root(tmp_path)  # its data package lists no provenance table
    (root / PROVENANCE).unlink(missing_ok=True)
    curation.add_references(
        curation.read_reference_file(FIXTURES / "pubmed-two-records.nbib"), root
    )
    assert not (root / PROVENANCE).exists()
