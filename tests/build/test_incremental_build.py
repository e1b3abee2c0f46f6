"""The living-review loop: a data change re-executes exactly the pages that read the changed data."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest
from strict_build import strict_build

from neuroimmune_review import provenance

REPO = Path(__file__).resolve().parents[2]
PAGES = ["book/antidepressants/overview", "book/antidepressants/ssri", "book/antidepressants/tca"]
PACKAGE = REPO / "src" / "neuroimmune_review"
_snapshot: dict[str, Path] = {}  # the package copy the builds import, so tests may edit it


def _build(root: Path) -> set[str]:
    """Build *root* strictly; return the pages whose notebooks were executed (per their records)."""
    started = time.time_ns()
    strict_build(root, pythonpath=_snapshot["dir"], timeout=600)
    return provenance.executed_since(root, started)


@pytest.fixture(scope="module")
def small_book(tmp_path_factory) -> Path:
    """A copy of the repo with three executed pages (overview, SSRI, TCA), built once."""
    root = tmp_path_factory.mktemp("book")
    _snapshot["dir"] = tmp_path_factory.mktemp("pkg")
    shutil.copytree(
        PACKAGE,
        _snapshot["dir"] / "neuroimmune_review",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for name in ("_config.yml", "references.bib"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "data", root / "data")
    for page in [*PAGES, "book/about/references"]:
        (root / page).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / f"{page}.md", root / f"{page}.md")
    (root / "book/index.md").write_text(
        "# Test book\n\nA reduced copy of the review.\n", encoding="utf-8"
    )
    # The validator checks every evidence chapter against the toc, so keep all chapters listed
    # by pointing the unused ones at stubs.
    toc = (REPO / "_toc.yml").read_text(encoding="utf-8")
    for page in re.findall(r"file: (book/[\w/-]+)", toc):
        target = root / f"{page}.md"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                f"# {page.rsplit('/', 1)[-1]}\n\nNot part of this test.\n", encoding="utf-8"
            )
    (root / "_toc.yml").write_text(toc, encoding="utf-8")
    executed = _build(root)
    assert set(PAGES) <= executed
    return root


def _append_row(root: Path, row: str) -> None:
    with (root / "data/evidence.csv").open("a", encoding="utf-8", newline="") as handle:
        handle.write(row + "\n")


def _html(root: Path, page: str) -> str:
    return (root / "_build/html" / f"{page}.html").read_text(encoding="utf-8")


def test_no_op_rebuild_executes_nothing(small_book):
    assert _build(small_book) == set()


def test_new_ssri_row_reexecutes_ssri_and_overview_only(small_book):
    _append_row(
        small_book,
        "EV9001,intervention_effect,sertraline,vehicle or untreated,IL-6,decrease,lowered,in_vitro,"
        "rat,incremental-build probe,,nava2025modulation,99,book/antidepressants/ssri,"
        "added by the incremental build test",
    )
    executed = _build(small_book)
    assert executed == {"book/antidepressants/ssri", "book/antidepressants/overview"}
    assert "incremental-build probe" in _html(small_book, "book/antidepressants/ssri")
    assert "EV9001" not in _html(small_book, "book/antidepressants/tca")
    # The stale check ran in the checker forked from the workers' fork server, and its
    # answer is the one the build acted on.
    (result,) = (small_book / "_build/.memo/early-checks").glob("*.stale")
    assert set(json.loads(result.read_text(encoding="utf-8"))["stale"]) == executed
    # The checker also kept the extended evidence join for the next build (after its results).
    evidence = provenance.file_digest(small_book / "data/evidence.csv")
    for _ in range(100):
        metas = list((small_book / "_build/.memo").glob("evidence-join-*.json"))
        if any(json.loads(m.read_text(encoding="utf-8"))["files"][0] == evidence for m in metas):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("no evidence join kept for the evidence as it is now")


def test_invalid_row_stops_the_build_with_the_validators_message(small_book, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(small_book, broken, symlinks=True)
    before = (broken / "data/evidence.csv").read_bytes()
    _append_row(
        broken,
        "EV9003,intervention_effect,sertraline,vehicle or untreated,IL-6,sideways,lowered,"
        "in_vitro,rat,invalid probe,,nava2025modulation,99,book/antidepressants/ssri,bad direction",
    )
    written = (broken / "data/evidence.csv").read_bytes()
    with pytest.raises(AssertionError) as failure:
        _build(broken)
    assert "data validation failed" in str(failure.value)
    assert "evidence.csv" in str(failure.value) and "sideways" in str(failure.value)
    assert (broken / "data/evidence.csv").read_bytes() == written != before
    (verdict,) = (broken / "_build/.memo/early-checks").glob("*.validated")
    assert json.loads(verdict.read_text(encoding="utf-8"))["errors"] >= 1


def test_prose_edit_reexecutes_nothing(small_book):
    page = small_book / "book/antidepressants/tca.md"
    page.write_text(
        page.read_text(encoding="utf-8") + "\nAn editor's added sentence.\n", encoding="utf-8"
    )
    assert _build(small_book) == set()
    assert "An editor&#8217;s added sentence." in _html(
        small_book, "book/antidepressants/tca"
    ) or "An editor’s added sentence." in _html(small_book, "book/antidepressants/tca")


def _edit_module(relative: str) -> None:
    module = _snapshot["dir"] / "neuroimmune_review" / relative
    module.write_text(
        module.read_text(encoding="utf-8") + "\n# edited by the incremental build test\n",
        encoding="utf-8",
    )


def test_curation_edit_reexecutes_nothing(small_book):
    # No page's cells can import the curation modules (narrow code digest).
    _edit_module("curation/evidence.py")
    assert _build(small_book) == set()


def test_page_builder_edit_reexecutes_the_pages_that_import_it(small_book):
    # SSRI and TCA list their findings with ``tables``; the overview draws charts only.
    _edit_module("pages/tables.py")
    assert _build(small_book) == {"book/antidepressants/ssri", "book/antidepressants/tca"}


def test_moved_checkout_reexecutes_pages_whose_data_changed(small_book, tmp_path):
    # A checkout copied with its _build (a CI cache, a new clone) keeps execution records
    # under the old paths; the cache still matches them by content, so stale pages must be
    # found by content too, or the old outputs would be served.
    moved = tmp_path / "moved"
    shutil.copytree(small_book, moved, symlinks=True)
    _append_row(
        moved,
        "EV9002,intervention_effect,sertraline,vehicle or untreated,TNF-α,decrease,lowered,"
        "in_vitro,rat,moved-checkout probe,,nava2025modulation,99,book/antidepressants/ssri,"
        "added by the incremental build test",
    )
    executed = _build(moved)
    assert "book/antidepressants/ssri" in executed
    assert "moved-checkout probe" in _html(moved, "book/antidepressants/ssri")
