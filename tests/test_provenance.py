"""Provenance records what a page read and detects exactly which answers changed."""

import inspect
import os
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from neuroimmune_review import data, provenance

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo_copy(tmp_path, monkeypatch):
    for name in ("_toc.yml", "references.bib"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "data", tmp_path / "data")
    monkeypatch.setenv("REVIEW_ROOT", str(tmp_path))
    provenance._ANSWERS.clear()  # answers are keyed by content: another test may share them
    yield tmp_path
    provenance._page = None


def _execute_page(docname, **query):
    provenance.begin_page(docname)
    data.evidence(**query)
    provenance._page = None


def test_stale_pages_follow_the_data_they_read(repo_copy):
    _execute_page("book/antidepressants/ssri", drug_class="SSRI")
    _execute_page("book/antidepressants/tca", drug_class="TCA")
    pages = ["book/antidepressants/ssri", "book/antidepressants/tca", "book/never-executed"]
    assert provenance.stale_pages(repo_copy, pages) == []
    _append_probe_row(repo_copy, "amitriptyline", "book/antidepressants/tca")
    assert provenance.stale_pages(repo_copy, pages) == ["book/antidepressants/tca"]


def test_vocabulary_change_reaches_pages_through_the_join(repo_copy):
    _execute_page("book/antidepressants/ssri", drug_class="SSRI")
    vocab = repo_copy / "data/interventions.csv"
    text = vocab.read_text(encoding="utf-8")
    assert "\nfluvoxamine,drug,SSRI," in text  # a drug with SSRI rows in the evidence
    vocab.write_text(
        text.replace("\nfluvoxamine,drug,SSRI,", "\nfluvoxamine,drug,SNRI,"), encoding="utf-8"
    )
    assert provenance.stale_pages(repo_copy, ["book/antidepressants/ssri"]) == [
        "book/antidepressants/ssri"
    ]


def test_corrupt_record_counts_as_stale(repo_copy):
    _execute_page("book/antidepressants/ssri", drug_class="SSRI")
    provenance.record_path("book/antidepressants/ssri", repo_copy).write_text(
        "{not json", encoding="utf-8"
    )
    assert provenance.stale_pages(repo_copy, ["book/antidepressants/ssri"]) == [
        "book/antidepressants/ssri"
    ]


def test_unchanged_files_never_rerun_a_query(repo_copy):
    _execute_page("book/antidepressants/ssri", drug_class="SSRI")
    _execute_page("book/antidepressants/tca", drug_class="TCA")
    _execute_page("book/antidepressants/overview")
    pages = [
        "book/antidepressants/ssri",
        "book/antidepressants/tca",
        "book/antidepressants/overview",
    ]
    assert provenance.stale_pages(repo_copy, pages) == []
    assert provenance.last_check.queries_run == 0  # every input file kept its content digest


def test_a_data_change_reruns_each_query_once_over_one_join(repo_copy):
    # Three pages, two of which ask the same question: after a change, each distinct query
    # runs once, and all of them share one evidence join.
    for page in ("book/antidepressants/ssri", "book/synthesis/contested"):
        _execute_page(page, drug_class="SSRI")
    _execute_page("book/antidepressants/tca", drug_class="TCA")
    with (repo_copy / "data/evidence.csv").open("a", encoding="utf-8") as handle:
        handle.write(
            "EV9999,intervention_effect,amitriptyline,vehicle or untreated,IL-6,decrease,lowered,"
            "in_vitro,rat,probe,,nava2025modulation,124,book/antidepressants/tca,probe\n"
        )
    data._cached_join.cache_clear()
    pages = ["book/antidepressants/ssri", "book/synthesis/contested", "book/antidepressants/tca"]
    assert provenance.stale_pages(repo_copy, pages) == ["book/antidepressants/tca"]
    assert provenance.last_check.queries_run == 2
    assert data._cached_join.cache_info().misses == 1


def _page_with_two_inputs(docname):
    provenance.begin_page(docname)
    data.evidence(drug_class="SSRI")
    data.vocabulary(name="mediators")


def test_a_page_worker_writes_the_record_once_when_the_page_is_done(repo_copy, monkeypatch):
    docname = "book/antidepressants/ssri"
    record = provenance.record_path(docname, repo_copy)
    _page_with_two_inputs(docname)  # as myst-nb's kernel runs it: written at every change
    written_at_once = record.read_bytes()
    record.unlink()
    saves = []
    real = provenance._save
    monkeypatch.setattr(provenance, "_save", lambda page: saves.append(1) or real(page))
    monkeypatch.setattr(provenance, "_save_when_finished", True)  # as warm_up sets it
    _page_with_two_inputs(docname)
    assert saves == [] and not record.exists()
    provenance.finish_page()
    provenance.finish_page()  # nothing new: not written again
    assert saves == [1] and record.read_bytes() == written_at_once


def test_a_figure_file_change_reaches_only_the_page_that_read_it(repo_copy):
    from neuroimmune_review.pages import figures

    names = sorted(p.stem for p in (repo_copy / "data/figures").glob("*.csv"))[:2]
    for name in names:
        provenance.begin_page(f"book/fig-{name}")
        figures.figure_table(name=name)
        provenance._page = None
    changed = repo_copy / "data/figures" / f"{names[0]}.csv"
    changed.write_text(changed.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    pages = [f"book/fig-{name}" for name in names]
    # The file's bytes changed, its parsed table did not: the query runs, the page stays.
    assert provenance.stale_pages(repo_copy, pages) == []
    assert provenance.last_check.queries_run == 1


def _page_code(package: Path, text: str) -> dict[str, str | None]:
    modules = provenance.reachable_modules(text, package)
    return {name: provenance.file_digest(file) for name, file in modules.items()}


@pytest.fixture
def package_copy(tmp_path):
    source = Path(provenance.__file__).parent
    target = tmp_path / "pkg" / "neuroimmune_review"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _settled(*paths: Path) -> None:
    """Date *paths* a second back: a walk over files changed just now is not kept (racy)."""
    for path in paths:
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - 1_000_000_000))


def test_a_walk_of_the_import_graph_is_kept_until_a_module_or_folder_changes(
    package_copy, monkeypatch
):
    walks = []
    real = provenance._walk_modules
    monkeypatch.setattr(provenance, "_walk_modules", lambda *a: walks.append(1) or real(*a))
    text = "import neuroimmune_review.pages.tables\nimport neuroimmune_review.extra\n"
    tables = package_copy / "pages" / "tables.py"
    _settled(*package_copy.rglob("*"), package_copy)
    first = provenance.reachable_modules(text, package_copy)
    assert provenance.reachable_modules(text, package_copy) == first and len(walks) == 1
    assert "neuroimmune_review.extra" not in first
    # A module that now imports another: walked again.
    tables.write_text(
        tables.read_text(encoding="utf-8") + "\nfrom .. import sof  # noqa\n", encoding="utf-8"
    )
    _settled(tables)
    second = provenance.reachable_modules(text, package_copy)
    assert len(walks) == 2 and "neuroimmune_review.sof" in second
    assert provenance.reachable_modules(text, package_copy) == second and len(walks) == 2
    # A module that did not exist now does (only its folder changed): walked again.
    (package_copy / "extra.py").write_text("", encoding="utf-8")
    _settled(package_copy / "extra.py", package_copy)
    assert "neuroimmune_review.extra" in provenance.reachable_modules(text, package_copy)
    assert len(walks) == 3
    # Changed just now (within a time stamp's tick): found, but not kept.
    tables.write_text(tables.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    provenance.reachable_modules(text, package_copy)
    provenance.reachable_modules(text, package_copy)
    assert len(walks) == 5


def test_code_digest_covers_only_the_modules_a_page_reaches(package_copy):
    code = _page_code(package_copy, "from neuroimmune_review import tables\n")
    assert {
        "neuroimmune_review.pages.tables",  # resolved lazily by the package
        "neuroimmune_review.data",  # reached through tables
        "neuroimmune_review.provenance",  # the tracking cell's import
    } <= set(code)
    assert not [m for m in code if m.startswith("neuroimmune_review.curation")]
    assert "neuroimmune_review.pages.synthesis.contested" not in code

    curation = package_copy / "curation" / "evidence.py"
    curation.write_text(curation.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    assert not provenance.code_changed(code, package_copy)

    render = package_copy / "render.py"  # reached indirectly (tables -> render)
    render.write_text(render.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    assert provenance.code_changed(code, package_copy)


def test_record_from_before_the_narrow_digest_counts_as_changed():
    assert provenance.code_changed("0123456789abcdef0123")
    assert provenance.code_changed({"neuroimmune_review.no_such_module": "x"})


def _answer_files(root):
    folder = root / "_build" / provenance.RECORD_DIR / provenance.ANSWER_DIR
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_answers_no_page_records_are_pruned(repo_copy):
    _execute_page("book/antidepressants/ssri", drug_class="SSRI")
    _execute_page("book/antidepressants/tca", drug_class="TCA")
    before = _answer_files(repo_copy)
    assert len(before) == 2
    assert provenance.prune_answers(repo_copy) == 0  # both still recorded by a page
    assert _answer_files(repo_copy) == before
    _append_probe_row(repo_copy, "amitriptyline", "book/antidepressants/tca")
    # The stale check remembers the answers over the new file; the pages then run again.
    assert provenance.stale_pages(repo_copy, ["book/antidepressants/tca"]) == [
        "book/antidepressants/tca"
    ]
    _execute_page("book/antidepressants/ssri", drug_class="SSRI")
    _execute_page("book/antidepressants/tca", drug_class="TCA")
    assert len(_answer_files(repo_copy)) == 4
    assert provenance.prune_answers(repo_copy) == 2
    after = _answer_files(repo_copy)
    assert len(after) == 2 and not set(after) & set(before)
    # The kept answers are the ones the next check reads: nothing is stale, no query runs.
    assert (
        provenance.stale_pages(repo_copy, ["book/antidepressants/ssri", "book/antidepressants/tca"])
        == []
    )
    assert provenance.last_check.queries_run == 0


def test_a_page_whose_answers_survive_a_data_change_needs_no_query_in_later_checks(repo_copy):
    _execute_page("book/antidepressants/ssri", drug_class="SSRI")
    _execute_page("book/antidepressants/tca", drug_class="TCA")
    record = provenance.record_path("book/antidepressants/ssri", repo_copy)
    executed_at = record.stat().st_mtime_ns
    old_files = next(iter(_record_inputs(record).values()))["files"]
    _append_probe_row(repo_copy, "amitriptyline", "book/antidepressants/tca")
    pages = ["book/antidepressants/ssri", "book/antidepressants/tca"]
    assert provenance.stale_pages(repo_copy, pages) == ["book/antidepressants/tca"]
    # The SSRI page's answer held over the new file: its record now names that file ...
    new_files = next(iter(_record_inputs(record).values()))["files"]
    assert new_files != old_files
    assert new_files == {rel: provenance.file_digest(repo_copy / rel) for rel in new_files}
    assert record.stat().st_mtime_ns == executed_at  # ... and still says when it executed
    assert "book/antidepressants/ssri" not in provenance.executed_since(repo_copy, executed_at + 1)
    _execute_page("book/antidepressants/tca", drug_class="TCA")
    provenance.prune_answers(repo_copy)  # keeps the answers over the new file: a record names them
    provenance._ANSWERS.clear()
    assert provenance.stale_pages(repo_copy, pages) == []
    assert provenance.last_check.queries_run == 0


def test_the_pruning_takes_the_code_digests_of_this_builds_check(repo_copy, monkeypatch):
    _execute_page("book/antidepressants/ssri", drug_class="SSRI")
    _append_probe_row(repo_copy, "amitriptyline", "book/antidepressants/tca")
    pages = ["book/antidepressants/ssri"]
    # The page's answer holds over the new file: kept under it, the record now names it.
    assert provenance.stale_pages(repo_copy, pages) == []
    assert provenance.last_check.answers_written == 1
    assert "neuroimmune_review.data" in provenance.last_check.codes
    walks = []
    real = provenance.reachable_modules
    monkeypatch.setattr(
        provenance, "reachable_modules", lambda *a, **k: walks.append(a) or real(*a, **k)
    )
    assert provenance.prune_answers(repo_copy) == 1  # the answer over the old file
    assert walks == []  # the data module's graph was walked by the check, not again
    # The same answers are kept as by a pruning that computes every digest itself.
    kept = _answer_files(repo_copy)
    provenance.last_check = None
    assert provenance.prune_answers(repo_copy) == 0 and _answer_files(repo_copy) == kept
    assert walks


def _record_inputs(record):
    import json

    return json.loads(record.read_text(encoding="utf-8"))["inputs"]


def test_a_build_that_kept_no_answer_and_executed_nothing_skips_the_pruning(repo_copy):
    _execute_page("book/antidepressants/ssri", drug_class="SSRI")
    _execute_page("book/antidepressants/tca", drug_class="TCA")
    answers = repo_copy / "_build" / provenance.RECORD_DIR / provenance.ANSWER_DIR
    (answers / "0123456789abcdef0123456789abcdef").write_text("orphan", encoding="utf-8")
    time.sleep(0.1)  # the pages ran in an earlier build
    pages = ["book/antidepressants/ssri", "book/antidepressants/tca"]
    assert provenance.stale_pages(repo_copy, pages) == []  # a no-op or prose build's check
    assert provenance.prune_answers(repo_copy) == 0  # nothing new to prune: not walked
    assert "0123456789abcdef0123456789abcdef" in _answer_files(repo_copy)
    _execute_page("book/antidepressants/tca", drug_class="TCA")  # a page executed after it
    assert provenance.prune_answers(repo_copy) == 1
    assert len(_answer_files(repo_copy)) == 2


def test_remembered_values_are_not_page_records(repo_copy):
    evidence = repo_copy / "data/evidence.csv"
    calls = []
    compute = lambda: calls.append(1) or ["a", "b"]  # noqa: E731
    assert provenance.remembered("probe", repo_copy, [evidence], compute) == ["a", "b"]
    assert provenance.remembered("probe", repo_copy, [evidence], compute) == ["a", "b"]
    assert len(calls) == 1  # the second answer came from disk
    with evidence.open("a", encoding="utf-8") as handle:
        handle.write("\n")
    provenance.remembered("probe", repo_copy, [evidence], compute)
    assert len(calls) == 2  # the file changed: computed again
    # The build counts pages executed from the page records: a memo must not look like one.
    assert provenance.executed_since(repo_copy, 0) == set()


def test_the_evidence_join_is_kept_on_disk_and_rebuilt_when_a_file_changes(repo_copy):
    data._cached_join.cache_clear()
    first = data.evidence()
    memo = repo_copy / "_build" / provenance.MEMO_DIR
    stored = sorted(memo.glob(f"{data.JOIN_PREFIX}*.pickle"))
    assert len(stored) == 1
    data._cached_join.cache_clear()  # as a new process: the join comes from disk, the same
    pd.testing.assert_frame_equal(data.evidence(), first)
    vocab = repo_copy / "data/interventions.csv"
    text = vocab.read_text(encoding="utf-8")
    vocab.write_text(
        text.replace("\nfluvoxamine,drug,SSRI,", "\nfluvoxamine,drug,SNRI,"), encoding="utf-8"
    )
    data._cached_join.cache_clear()
    changed = data.evidence()
    fluvoxamine = changed[changed["intervention"] == "fluvoxamine"]
    assert not fluvoxamine.empty and set(fluvoxamine["drug_class"]) == {"SNRI"}
    now = sorted(memo.glob(f"{data.JOIN_PREFIX}*.pickle"))
    assert len(now) == 1 and now != stored  # the old join is gone


def test_the_evidence_answer_is_the_digest_of_the_answer_itself(repo_copy):
    # The stale check and the pages answer evidence queries from the join's row hashes, not
    # from the filtered frame: every filter must give exactly the digest of its frame.
    filters = [
        {},
        {"drug_class": "SSRI"},
        {"claim_type": "intervention_effect"},
        {"drug_class": "SSRI", "claim_type": "intervention_effect"},
        {"chapter": "book/antidepressants/tca", "mediator": "IL-6"},
        {"intervention_kind": "drug", "drug_class": "TCA", "mediator": "TNF-α"},
        {"drug_class": "no such class"},  # no rows
    ]
    for wanted in filters:
        frame = data.evidence(**wanted)
        assert data._evidence_answer(**wanted) == provenance.digest(frame), wanted
    assert data.evidence(drug_class="no such class").empty
    with pytest.raises(TypeError):  # the same parameters as the query, or none
        data._evidence_answer(drug="SSRI")
    # The filter columns have one home, and it is the query's own parameters.
    assert tuple(inspect.signature(data.evidence).parameters) == data.EVIDENCE_FILTERS


def test_a_page_records_the_answer_the_check_computes(repo_copy):
    _execute_page("book/antidepressants/ssri", drug_class="SSRI")
    record = provenance.record_path("book/antidepressants/ssri", repo_copy).read_text()
    assert provenance.digest(data.evidence(drug_class="SSRI")) in record
    # A new SSRI row changes the answer; the check, from row hashes, sees it.
    _append_probe_row(repo_copy, "fluvoxamine", "book/antidepressants/ssri")
    assert provenance.stale_pages(repo_copy, ["book/antidepressants/ssri"]) == [
        "book/antidepressants/ssri"
    ]
    assert provenance.last_check.answers[
        next(iter(provenance.last_check.answers))
    ] == provenance.digest(data.evidence(drug_class="SSRI"))


def _append_probe_row(root, intervention: str, chapter: str) -> None:
    """One new, valid finding for *intervention* in *chapter* at the end of evidence.csv."""
    with (root / "data/evidence.csv").open("a", encoding="utf-8") as handle:
        handle.write(
            f"EV9999,intervention_effect,{intervention},vehicle or untreated,IL-6,decrease,"
            f"reduced,in_vitro,rat,probe,,nava2025modulation,124,{chapter},probe\n"
        )


def _fresh_join(root):
    """The join and row hashes built from the files as they are, with no cache at all."""
    joined = data._join_frames(
        *(data._read_csv(root / "data" / f"{name}.csv") for name in data.JOINED_TABLES)
    )
    return joined, provenance.row_hashes(joined)


def _as_new_process():
    data._cached_join.cache_clear()
    data._kept_join.cache_clear()
    data._cached_csv.cache_clear()
    data._ROW_HASHES.clear()
    data._PARSED.clear()


def _validated_join(root):
    """A join and row hashes as a build leaves them: validation read the evidence plain (the
    build marks it so), then the join was built."""
    data.mark_plain_evidence(root / "data/evidence.csv")
    data._cached_join.cache_clear()
    data._evidence_answer()


def test_appended_rows_extend_the_stored_join_and_its_row_hashes(repo_copy, monkeypatch):
    _validated_join(repo_copy)
    _append_probe_row(repo_copy, "amitriptyline", "book/antidepressants/tca")
    _append_probe_row(repo_copy, "fluvoxamine", '"book/x, ""y"""')  # a quoted field
    expected, expected_hashes = _fresh_join(repo_copy)
    _as_new_process()
    built = []
    monkeypatch.setattr(data, "_build_join", lambda *keys: built.append(keys))
    joined = data.evidence()
    assert built == []  # extended, not parsed and joined again
    pd.testing.assert_frame_equal(joined, expected)
    assert list(joined.dtypes) == list(expected.dtypes)
    assert (data._ROW_HASHES[0][1] == expected_hashes).all()
    assert data._evidence_answer(drug_class="TCA") == provenance.digest(
        expected.query("drug_class == 'TCA'").reset_index(drop=True)
    )
    # The extended file is a base in its turn (the next appended row), from disk alone.
    _append_probe_row(repo_copy, "fluvoxamine", "book/antidepressants/ssri")
    expected, expected_hashes = _fresh_join(repo_copy)
    _as_new_process()
    pd.testing.assert_frame_equal(data.evidence(), expected)
    assert built == []
    assert (data._ROW_HASHES[0][1] == expected_hashes).all()
    _as_new_process()  # and the stored hashes are those of the stored join
    data._evidence_answer()
    assert (data._ROW_HASHES[0][1] == expected_hashes).all()


def test_a_deferred_join_is_written_later_unless_another_process_wrote_it(repo_copy, monkeypatch):
    """The Sphinx process defers writing the join it extends (the fork server extends and
    writes the same one): nothing is written until ``write_deferred_joins``, which writes it
    with its row hashes, or leaves it when it is on disk already."""
    _validated_join(repo_copy)
    memo = repo_copy / "_build" / provenance.MEMO_DIR
    _append_probe_row(repo_copy, "amitriptyline", "book/antidepressants/tca")
    expected, expected_hashes = _fresh_join(repo_copy)
    before = set(memo.glob(f"{data.JOIN_PREFIX}*"))
    monkeypatch.setattr(data, "_DEFERRED_JOINS", None)
    data.defer_join_writes()
    _as_new_process()
    pd.testing.assert_frame_equal(data.evidence(), expected)  # extended, in memory
    assert set(memo.glob(f"{data.JOIN_PREFIX}*")) == before  # nothing written yet
    data.write_deferred_joins()
    _as_new_process()
    monkeypatch.setattr(data, "_DEFERRED_JOINS", None)  # a process that does not defer
    built = []
    monkeypatch.setattr(data, "_build_join", lambda *keys: built.append(keys))
    monkeypatch.setattr(data, "_appended_join", lambda *a: built.append(a))
    pd.testing.assert_frame_equal(data.evidence(), expected)  # read from disk as written
    data._evidence_answer()
    assert built == [] and (data._ROW_HASHES[0][1] == expected_hashes).all()

    # Written meanwhile by another process: left as it is.
    _append_probe_row(repo_copy, "fluvoxamine", "book/antidepressants/ssri")
    monkeypatch.undo()
    monkeypatch.setenv("REVIEW_ROOT", str(repo_copy))
    monkeypatch.setattr(data, "_DEFERRED_JOINS", None)
    data.defer_join_writes()
    _as_new_process()
    data.evidence()
    [(_memo, stored, *_rest)] = data._DEFERRED_JOINS
    stored.write_bytes(b"the other process's")
    data._beside(stored, data.JOIN_META).write_text("{}")
    data._beside(stored, data.JOIN_HASHES).write_bytes(b"")
    data.write_deferred_joins()
    assert stored.read_bytes() == b"the other process's" and data._DEFERRED_JOINS == []


def test_an_edited_row_in_the_middle_is_read_again(repo_copy):
    _validated_join(repo_copy)
    evidence = repo_copy / "data/evidence.csv"
    lines = evidence.read_text(encoding="utf-8").splitlines(keepends=True)
    middle = next(i for i in range(len(lines) // 2, len(lines)) if ",decrease," in lines[i])
    lines[middle] = lines[middle].replace(",decrease,", ",increase,", 1)
    lines.append("EV9998" + lines[middle][lines[middle].index(",") :])  # and a row appended
    evidence.write_text("".join(lines), encoding="utf-8")
    expected, expected_hashes = _fresh_join(repo_copy)
    _as_new_process()
    pd.testing.assert_frame_equal(data.evidence(), expected)
    data._evidence_answer()
    assert (data._ROW_HASHES[0][1] == expected_hashes).all()


def test_rows_appended_to_a_file_not_read_plain_are_joined_from_scratch(repo_copy, monkeypatch):
    data._cached_join.cache_clear()
    data.evidence()  # joined without validation: the file was never marked plain
    _append_probe_row(repo_copy, "amitriptyline", "book/antidepressants/tca")
    _as_new_process()
    real, built = data._build_join, []
    monkeypatch.setattr(data, "_build_join", lambda *keys: built.append(1) or real(*keys))
    expected, _ = _fresh_join(repo_copy)
    pd.testing.assert_frame_equal(data.evidence(), expected)
    assert len(built) == 1


def test_the_evidence_table_is_taken_from_its_kept_join(repo_copy, monkeypatch):
    # The pages' stamp reads data/evidence.csv before the join: after an append it is the
    # extended join's first columns, exactly the file as pandas reads it.
    _validated_join(repo_copy)
    _append_probe_row(repo_copy, "amitriptyline", '"book/x, ""y"""')
    path = repo_copy / "data/evidence.csv"
    expected = data._read_csv(path)
    _as_new_process()
    real, reads = data._read_csv, []
    monkeypatch.setattr(data, "_read_csv", lambda p: reads.append(p.name) or real(p))
    table = data.read_table("evidence", repo_copy)
    pd.testing.assert_frame_equal(table, expected)
    assert "evidence.csv" not in reads  # neither parsed nor joined again (the vocabularies are)
    pd.testing.assert_frame_equal(data.evidence()[list(expected.columns)], expected)


def test_a_join_with_more_rows_than_the_evidence_is_not_taken_for_it(repo_copy, monkeypatch):
    vocab = repo_copy / "data/mediators.csv"
    lines = vocab.read_text(encoding="utf-8").splitlines(keepends=True)
    il6 = next(line for line in lines if line.startswith("IL-6,"))
    vocab.write_text("".join([*lines, il6]), encoding="utf-8")  # IL-6 twice: rows repeat
    _validated_join(repo_copy)
    path = repo_copy / "data/evidence.csv"
    expected = data._read_csv(path)
    _as_new_process()
    assert len(data.evidence()) > len(expected)
    data._cached_csv.cache_clear()
    pd.testing.assert_frame_equal(data.read_table("evidence", repo_copy), expected)


def test_a_prefix_digest_gives_the_whole_files_digest_without_reading_it_again(
    tmp_path, monkeypatch
):
    import hashlib

    path = tmp_path / "rows.csv"
    path.write_bytes(b"id\n" + b"".join(b"%d\n" % i for i in range(1000)))
    first, whole = provenance.prefix_digests(path, 100)
    assert first == hashlib.sha256(path.read_bytes()[:100]).hexdigest()[:20]

    def no_reading(*args):
        raise AssertionError("read again")

    monkeypatch.setattr(provenance, "_hash_file", no_reading)
    assert (
        provenance.file_digest(path) == whole == hashlib.sha256(path.read_bytes()).hexdigest()[:20]
    )
    path.write_bytes(path.read_bytes() + b"1000\n")  # a changed file is read again
    with pytest.raises(AssertionError, match="read again"):
        provenance.file_digest(path)
