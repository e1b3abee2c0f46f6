"""The performance helpers of the synthesis pages give what the slow pandas forms gave, and a
page's memoised computation still records, in every execution, what the page read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from neuroimmune_review import data, provenance
from neuroimmune_review.pages.synthesis.common import capped_per_group, lists_per_group, per_page
from neuroimmune_review.text import first_n

ROOT = Path(__file__).resolve().parents[2]

FRAME = pd.DataFrame(
    {
        "a": ["y", "x", "y", "x", "y", "z", "y", "x"],
        "b": ["1", "2", "1", "2", "1", "1", "2", "2"],
        "v": ["p", "q", "r", "s", "t", "u", "w", "k"],
    }
)


def test_capped_per_group_is_first_n_of_each_group_in_key_order():
    for limit in (1, 2, 3, 10):
        expected = FRAME.groupby(["a", "b"], sort=True)["v"].agg(
            lambda v, limit=limit: first_n(list(v), limit)
        )
        got = capped_per_group(FRAME, ["a", "b"], "v", limit)
        assert got.tolist() == expected.tolist()
        assert got.index.equals(expected.index)
    assert (
        capped_per_group(FRAME, ["a"], "v", 2, separator=" | ").loc["y"] == "p | r | … and 2 more"
    )


def test_lists_per_group_is_agg_list():
    expected = FRAME.groupby(["a", "b"], sort=True)["v"].agg(list)
    got = lists_per_group(FRAME, ["a", "b"], "v")
    assert got.tolist() == expected.tolist() and got.index.equals(expected.index)


def test_per_page_memoises_within_one_page_execution_only(tmp_path, monkeypatch):
    root = tmp_path / "review"
    root.mkdir()
    shutil.copy(ROOT / "_toc.yml", root / "_toc.yml")
    shutil.copy(ROOT / "references.bib", root / "references.bib")
    shutil.copytree(ROOT / "data", root / "data")
    monkeypatch.setenv("REVIEW_ROOT", str(root))
    monkeypatch.setattr(provenance, "_page", None)  # restored after the test
    calls = []

    @per_page
    def ids() -> pd.DataFrame:
        calls.append(1)
        return data.evidence()[["id"]]

    def evidence_recorded(docname: str) -> bool:
        record = json.loads(provenance.record_path(docname, root).read_text())
        return any("data.evidence" in key for key in record["inputs"])

    provenance.begin_page("book/memo-test")
    first = ids()
    first.loc[0, "id"] = "changed by the caller"
    second = ids()
    assert len(calls) == 1  # the same page execution over the same files
    assert second.loc[0, "id"] != "changed by the caller"  # each caller gets its own copy
    assert evidence_recorded("book/memo-test")

    provenance.begin_page("book/memo-test")  # executed again: computed and recorded again
    ids()
    assert len(calls) == 2 and evidence_recorded("book/memo-test")

    evidence = root / "data" / "evidence.csv"
    lines = evidence.read_text(encoding="utf-8").splitlines(keepends=True)
    evidence.write_text("".join(lines[:-1]), encoding="utf-8")  # one row fewer
    assert len(ids()) == len(first) - 1 and len(calls) == 3
