"""The PRISMA counts' cited keys (every page's stamp): after rows were appended to a valid
evidence file, only the new lines are read, with the same keys a whole read finds."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from neuroimmune_review import data, provenance
from neuroimmune_review.pages import prisma

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def evidence(tmp_path, monkeypatch) -> Path:
    shutil.copy(ROOT / "_toc.yml", tmp_path / "_toc.yml")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    monkeypatch.setenv("REVIEW_ROOT", str(tmp_path))
    return tmp_path / "data" / "evidence.csv"


def _whole_read(evidence: Path) -> list[str]:
    return prisma._keys_of(data.read_table("evidence", evidence.parent.parent))


def _append_row(evidence: Path, citation: str) -> None:
    with evidence.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    row = dict(zip(rows[0], rows[-1], strict=True))
    row.update(id="EV999999", citation=citation, sample="a sample of its own")
    with evidence.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow([row[c] for c in rows[0]])


def test_appended_rows_add_their_keys_without_reading_the_whole_file(evidence, monkeypatch):
    first = prisma._read_cited_keys(evidence)
    assert first == _whole_read(evidence) and first
    data.mark_plain_evidence(evidence)  # as the build's validator does for a valid file
    _append_row(evidence, "anewkey2026;" + first[0])
    expected = _whole_read(evidence)
    assert "anewkey2026" in expected and "anewkey2026" not in first

    def no_whole_read(*args, **kwargs):
        raise AssertionError("read the whole evidence file")

    with monkeypatch.context() as patch:
        patch.setattr(data, "read_table", no_whole_read)
        assert prisma._read_cited_keys(evidence) == expected


def test_a_file_not_marked_plain_or_edited_before_its_end_is_read_whole(evidence, monkeypatch):
    prisma._read_cited_keys(evidence)
    _append_row(evidence, "unmarked2026")  # the kept file was never marked plain
    assert prisma._read_cited_keys(evidence) == _whole_read(evidence)
    data.mark_plain_evidence(evidence)
    text = evidence.read_text(encoding="utf-8")
    evidence.write_text(text.replace("unmarked2026", "edited2026"), encoding="utf-8")
    keys = prisma._read_cited_keys(evidence)  # an earlier byte changed: not an append
    assert "edited2026" in keys and "unmarked2026" not in keys
    assert keys == _whole_read(evidence)
    kept = provenance.MEMO_DIR
    assert (evidence.parent.parent / "_build" / kept / prisma.CITED_KEYS_BASE).is_file()
