"""The Sphinx extension: validation stops the build on errors, and reruns only when needed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sphinx.errors import ExtensionError

from neuroimmune_review.build import sphinx_ext


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
