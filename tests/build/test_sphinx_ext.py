"""The Sphinx extension: validation stops the build on errors, and reruns only when needed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sphinx.errors import ExtensionError

from neuroimmune_review.build import early_checks, sphinx_ext


def test_validation_runs_again_only_when_what_it_reads_changes(tmp_path, monkeypatch):
    repo = Path(__file__).resolve().parents[2]
    import shutil

    from neuroimmune_review.validate import incremental

    for name in ("_toc.yml", "_config.yml", "references.bib"):
        shutil.copy(repo / name, tmp_path / name)
    shutil.copytree(repo / "data", tmp_path / "data")
    shutil.copytree(repo / "book", tmp_path / "book")
    runs = []  # full validations (appended rows alone are validated with tables=)
    real = incremental.validate

    def spy(root, tables=None):
        if not tables:
            runs.append(1)
        return real(root, tables=tables)

    monkeypatch.setattr(incremental, "validate", spy)
    sphinx_ext._validate_first(tmp_path)
    sphinx_ext._validate_first(tmp_path)
    assert len(runs) == 1  # nothing changed: the kept verdict
    page = tmp_path / "book/neuroimmunology/introduction.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    sphinx_ext._validate_first(tmp_path)
    assert len(runs) == 1  # prose without a new citation: validation reads nothing of it
    evidence = tmp_path / "data/evidence.csv"
    rows = evidence.read_text(encoding="utf-8").splitlines(keepends=True)
    evidence.write_text("".join(rows[:-1]), encoding="utf-8")  # one row fewer
    sphinx_ext._validate_first(tmp_path)
    assert len(runs) == 2
    # A data error found once is found from the kept verdict too, with the same message.
    evidence.write_text("".join(rows) + "EV_BAD,not a row\n", encoding="utf-8")
    messages = []
    for _ in range(2):
        with pytest.raises(ExtensionError) as caught:
            sphinx_ext._validate_first(tmp_path)
        messages.append(str(caught.value))
    assert len(runs) == 3 and messages[0] == messages[1]
    assert "data validation failed" in messages[0] and "evidence.csv" in messages[0]


def test_the_screening_stamp_is_kept_until_what_it_reads_or_the_date_changes(tmp_path, monkeypatch):
    import datetime as dt
    import shutil

    from neuroimmune_review.pages import prisma

    repo = Path(__file__).resolve().parents[2]
    shutil.copytree(repo / "data", tmp_path / "data")
    (tmp_path / "_toc.yml").write_text("root: book/index\n", encoding="utf-8")

    def fresh(months: int) -> list[str]:
        return [prisma.stamp_suffix(tmp_path), prisma.banner_html(tmp_path, months)]

    runs = []
    real = prisma.stamp_suffix
    monkeypatch.setattr(prisma, "stamp_suffix", lambda root: runs.append(1) or real(root))
    expected = fresh(6)
    assert early_checks.screening_parts(tmp_path, 6) == expected
    runs.clear()
    assert early_checks.screening_parts(tmp_path, 6) == expected
    assert runs == []  # the kept parts
    # A search log edited, another schedule and a later day are seen.
    searches = tmp_path / "data" / "searches.csv"
    rows = searches.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(rows) > 1
    searches.write_text("".join(rows[:-1]), encoding="utf-8")
    assert early_checks.screening_parts(tmp_path, 6) == fresh(6) != expected
    searches.write_text("".join(rows), encoding="utf-8")
    assert early_checks.screening_parts(tmp_path, 1) == fresh(1)

    class Later(dt.date):
        @classmethod
        def today(cls):
            return dt.date(2100, 1, 1)

    monkeypatch.setattr(dt, "date", Later)
    later = early_checks.screening_parts(tmp_path, 6)
    assert later == fresh(6) and "overdue" in later[1]


COLLECTIONS = """
import gc, json
before = gc.get_threshold()
from neuroimmune_review.build import sphinx_ext
sphinx_ext._fewer_collections()
print(json.dumps([before, gc.get_threshold(), gc.get_freeze_count() > 1000]))
"""


def test_the_build_process_collects_less_often_and_skips_what_it_imported():
    import json
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", COLLECTIONS], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    before, after, frozen = json.loads(result.stdout.strip().splitlines()[-1])
    assert before == [700, 10, 10] and after == [10_000, 10, 10] and frozen


def test_the_book_lists_early_start_first_and_sphinx_ext_among_its_extensions():
    """``early_start`` starts the page workers from its setup, so it must load before the
    other extensions (their imports are what it overlaps); the rest is in ``sphinx_ext``."""
    import yaml

    config = yaml.safe_load((Path(__file__).resolve().parents[2] / "_config.yml").read_text())
    extensions = config["sphinx"]["config"]["extensions"]
    assert extensions[0] == "neuroimmune_review.build.early_start"
    assert "neuroimmune_review.build.sphinx_ext" in extensions[1:]
