"""Living search and screening: import with duplicates, bad exports, decisions, validation,
concurrency, ranking and the flow counts (scripts/screen.py, neuroimmune_review.curation.screening)."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from neuroimmune_review.curation import screening
from neuroimmune_review.curation.screening import rank
from neuroimmune_review.pages import prisma
from neuroimmune_review.validate import validate_root

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "screening"
EXPORT = FIXTURES / "search-2026-12-01.ris"
QUERY = (FIXTURES / "query-S001.txt").read_text(encoding="utf-8")
HEADERS = {
    "searches.csv": "id,date,database,query,date_limits,records_found,records_exported,export_file,note\n",
    "screening_queue.csv": "record_id,search_id,pmid,doi,title,authors,year,journal,abstract,duplicate_of\n",
    "screening.csv": "record_id,date,curator,decision,reason,reference,note\n",
}
sys.path.insert(0, str(REPO / "scripts"))
import screen  # noqa: E402


def fresh_copy(tmp_path: Path) -> Path:
    """A copy of the review with empty search and screening tables (before any search)."""
    root = tmp_path / "review"
    root.mkdir()
    for name in ("references.bib", "_toc.yml", "_config.yml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "data", root / "data")
    shutil.copytree(REPO / "book", root / "book")
    for name, header in HEADERS.items():
        (root / "data" / name).write_text(header, encoding="utf-8")
    return root


def snapshot(root: Path) -> dict[str, str]:
    files = [root / "references.bib", *sorted((root / "data").glob("*.csv"))]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def run(root: Path, *args: str, capsys) -> tuple[int, str, str]:
    code = screen.main(["--root", str(root), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def import_fixture(root: Path) -> screening.core.ImportResult:
    return screening.import_search(EXPORT, root, database="PubMed", query=QUERY, date="2026-12-01")


@pytest.fixture
def review(tmp_path) -> Path:
    return fresh_copy(tmp_path)


@pytest.fixture
def imported(review) -> Path:
    import_fixture(review)
    return review


# --- import -------------------------------------------------------------------------------


def test_import_logs_the_search_and_marks_known_works_as_duplicates(review):
    result = import_fixture(review)
    assert result.search_id == "S001"
    assert len(result.records) == 20
    assert {r["record_id"]: r["duplicate_of"] for r in result.duplicates} == {
        "R0003": "bib:sutcigil2007pro",  # same DOI
        "R0004": "bib:fornaro2011increase",
        "R0010": "bib:hannestad2011the",  # same DOI and PMID
        "R0014": "bib:kohler2018peripheral",
    }
    searches = screening.read_table(review, "searches")
    assert searches[0]["query"] == " ".join(QUERY.split())
    assert searches[0]["records_exported"] == "20"
    assert [p for p in validate_root(review) if p.severity == "error"] == []


def test_second_import_of_the_same_export_finds_only_duplicates(imported):
    again = import_fixture(imported)
    assert again.search_id == "S002" and again.new == []
    first_ids = {
        r["record_id"]
        for r in screening.read_table(imported, "screening_queue")
        if r["search_id"] == "S001"
    }
    assert all(
        r["duplicate_of"] in first_ids or r["duplicate_of"].startswith("bib:")
        for r in again.records
    )


def test_duplicates_by_normalised_title_and_within_one_export(review, tmp_path):
    text = EXPORT.read_text(encoding="utf-8").split("\n\n")
    # Record 2 again, with its DOI removed and its title in other case and punctuation, plus a PMID.
    twin = (
        text[1]
        .replace("DO  - 10.1371/journal.pone.0197267", "AN  - 12345678")
        .replace("Changes in the serum levels", "CHANGES IN THE SERUM LEVELS,")
    )
    export = tmp_path / "twin.ris"
    export.write_text("\n\n".join([text[1], twin]) + "\n", encoding="utf-8")
    result = screening.import_search(export, review, database="PubMed", query="q")
    assert [r["duplicate_of"] for r in result.records] == ["", "R0001"]


# --- bad exports ----------------------------------------------------------------------------


def bad(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "case, expected",
    [
        ("truncated", ["record 20 (line", "no 'ER  -' line closes it", "truncated"]),
        ("no-identifier", ["record 2 (line", "Zou et al. 2018", "no PMID or DOI"]),
        ("no-title", ["record 1 (line 1)", "no title"]),
        ("bibtex", ["this is a bibtex file", "MEDLINE (.nbib) or RIS"]),
        ("html", ["cannot tell the format"]),
        ("empty-ris", ["no RIS records found"]),
        ("medline-no-pmid", ["does not start with a PMID line", "record 1"]),
    ],
)
def test_bad_exports_are_refused_with_the_record_named_and_nothing_written(
    imported, tmp_path, capsys, case, expected
):
    text = EXPORT.read_text(encoding="utf-8")
    exports = {
        "truncated": ("cut.ris", text[: text.rindex("ER  - ")]),
        "no-identifier": ("noid.ris", text.replace("DO  - 10.1371/journal.pone.0197267\n", "")),
        "no-title": (
            "notitle.ris",
            text.replace("TI  - Effects of Selective", "T3  - Effects of Selective", 1),
        ),
        "bibtex": ("refs.bib", "@article{a2020x, title={X}, author={A, B}, year={2020}}\n"),
        "html": ("page.txt", "<html><body>Search results</body></html>\n"),
        "empty-ris": ("empty.ris", "\n"),
        "medline-no-pmid": (
            "cut.nbib",
            "TI  - A title of a record cut before its PMID line\nLID - 10.1000/xyz [doi]\n",
        ),
    }
    before = snapshot(imported)
    code, out, err = run(
        imported,
        "import",
        str(bad(tmp_path, *exports[case])),
        "--database",
        "PubMed",
        "--query",
        "q",
        capsys=capsys,
    )
    assert code == 1, out + err
    assert err.startswith("screen import: error: ") and "Traceback" not in err
    for fragment in expected:
        assert fragment in err, err
    assert snapshot(imported) == before


# --- decisions ------------------------------------------------------------------------------


def test_include_adds_the_reference_and_exclusions_need_a_listed_reason(imported, capsys):
    code, out, err = run(imported, "decide", "R0001", "include", "--curator", "AB", capsys=capsys)
    assert code == 0, err
    assert "R0001: include -> references.bib key hou2018effects" in out
    assert "@article{hou2018effects," in (imported / "references.bib").read_text(encoding="utf-8")
    code, out, err = run(
        imported,
        "decide",
        "R0002",
        "R0005",
        "exclude",
        "--reason",
        "wrong_intervention",
        "--curator",
        "AB",
        capsys=capsys,
    )
    assert code == 0, err
    rows = screening.read_table(imported, "screening")
    assert [(r["record_id"], r["decision"], r["reason"], r["reference"]) for r in rows] == [
        ("R0001", "include", "", "hou2018effects"),
        ("R0002", "exclude", "wrong_intervention", ""),
        ("R0005", "exclude", "wrong_intervention", ""),
    ]
    assert "screened 3 of 16" in err
    assert [p for p in validate_root(imported) if p.severity == "error"] == []


@pytest.mark.parametrize(
    "args, expected",
    [
        (["R0002", "exclude"], "an exclusion needs a reason; expected one of: wrong_intervention"),
        (["R0002", "exclude", "--reason", "boring"], "reason 'boring' is not allowed"),
        (["R0002", "include", "--reason", "wrong_outcome"], "an include takes no reason"),
        (
            ["R9999", "exclude", "--reason", "wrong_outcome"],
            "record R9999: not in screening_queue.csv",
        ),
        (["R0003", "include"], "record R0003: a duplicate of bib:sutcigil2007pro"),
        (
            ["R0018", "include"],
            "screening queue, record R0018",
        ),  # no authors: the reference import refuses it
    ],
)
def test_bad_decisions_name_the_record_and_write_nothing(imported, capsys, args, expected):
    before = snapshot(imported)
    code, out, err = run(imported, "decide", *args, "--curator", "AB", capsys=capsys)
    assert code == 1
    assert expected in err, err
    assert "Traceback" not in err
    assert snapshot(imported) == before


def test_a_second_decision_needs_revise_and_the_last_one_counts(imported, capsys):
    assert (
        run(
            imported,
            "decide",
            "R0002",
            "exclude",
            "--reason",
            "wrong_outcome",
            "--curator",
            "AB",
            capsys=capsys,
        )[0]
        == 0
    )
    before = snapshot(imported)
    code, _, err = run(
        imported,
        "decide",
        "R0002",
        "exclude",
        "--reason",
        "wrong_intervention",
        "--curator",
        "CD",
        capsys=capsys,
    )
    assert code == 1 and "already decided (exclude wrong_outcome" in err and "--revise" in err
    assert snapshot(imported) == before
    assert (
        run(
            imported,
            "decide",
            "R0002",
            "exclude",
            "--reason",
            "wrong_intervention",
            "--curator",
            "CD",
            "--revise",
            capsys=capsys,
        )[0]
        == 0
    )
    assert len(screening.read_table(imported, "screening")) == 2  # append-only: both rows kept
    assert prisma.counts(imported)["excluded_by_reason"] == {"wrong_intervention": 1}


def test_a_failed_decision_write_puts_the_bibliography_back(imported, monkeypatch):
    before = snapshot(imported)

    def broken(*args, **kwargs):
        raise screening.CurationError("simulated failure while writing screening.csv")

    monkeypatch.setattr(screening.core, "_write_checked", broken)
    with pytest.raises(screening.CurationError):
        screening.decide(["R0001"], "include", imported, curator="AB")
    assert snapshot(imported) == before


# --- validation of hand edits ---------------------------------------------------------------


def test_validator_names_file_line_field_and_value_of_bad_screening_rows(imported):
    with (imported / "data/screening.csv").open("a", encoding="utf-8") as handle:
        handle.write("R0002,2026-12-01,AB,exclude,,,\n")
        handle.write("R0005,2026-12-01,AB,maybe,,,\n")
        handle.write("R0777,2026-12-01,AB,exclude,wrong_outcome,,\n")
        handle.write("R0006,2026-12-01,AB,include,,nosuchkey2020,\n")
        handle.write("R0003,2026-12-01,AB,exclude,wrong_outcome,,\n")
    errors = {
        (p.path, p.line, p.field): p.message
        for p in validate_root(imported)
        if p.severity == "error"
    }
    assert "excluded without a reason" in errors[("data/screening.csv", 2, "reason")]
    assert (
        "'maybe' is not allowed; expected one of include, exclude"
        in errors[("data/screening.csv", 3, "decision")]
    )
    assert (
        "'R0777' is not a record_id in data/screening_queue.csv"
        in errors[("data/screening.csv", 4, "record_id")]
    )
    assert (
        "'nosuchkey2020' is not a key in references.bib"
        in errors[("data/screening.csv", 5, "reference")]
    )
    assert "is a duplicate of bib:sutcigil2007pro" in errors[("data/screening.csv", 6, "record_id")]


# --- concurrency ----------------------------------------------------------------------------


def test_concurrent_decisions_are_all_kept(imported):
    ids = ["R0002", "R0005", "R0007", "R0009", "R0011", "R0013", "R0015", "R0017"]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(REPO / "scripts/screen.py"),
                "--root",
                str(imported),
                "decide",
                record,
                "exclude",
                "--reason",
                "wrong_population",
                "--curator",
                f"c{i}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i, record in enumerate(ids)
    ]
    procs.append(
        subprocess.Popen(
            [
                sys.executable,
                str(REPO / "scripts/screen.py"),
                "--root",
                str(imported),
                "decide",
                "R0001",
                "include",
                "--curator",
                "inc",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    )
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    rows = screening.read_table(imported, "screening")
    assert sorted(r["record_id"] for r in rows) == sorted([*ids, "R0001"])
    assert [p for p in validate_root(imported) if p.severity == "error"] == []


# --- ranking and counts ---------------------------------------------------------------------


def test_ranked_queue_learns_from_decisions(imported):
    first = [r.row["record_id"] for r in rank.ranked_queue(imported)]
    assert sorted(first) == sorted(
        r["record_id"]
        for r in screening.read_table(imported, "screening_queue")
        if not r["duplicate_of"]
    )
    screening.decide(["R0016"], "exclude", imported, curator="AB", reason="wrong_outcome")
    after = [r.row["record_id"] for r in rank.ranked_queue(imported)]
    assert "R0016" not in after and len(after) == len(first) - 1


def test_ranking_beats_random_order_on_the_fixture():
    result = rank.benchmark(REPO, EXPORT, FIXTURES / "relevance.csv")
    assert result["records"] == 16 and result["relevant"] == 6
    assert result["model"]["wss@95"] > result["random"]["wss@95"] + 0.1
    assert result["model"]["recall@5"] > result["random"]["recall@5"] + 0.2


def test_wss_and_recall_on_known_orders():
    relevant = [True, True, False, False, False, False, False, False, False, False]
    assert rank.recall_at([0, 1, 2], relevant, 2) == 1.0
    assert rank.wss([0, 1, *range(2, 10)], relevant) == pytest.approx(0.8 - 0.05)
    assert rank.wss([*range(9, 1, -1), 0, 1], relevant) == pytest.approx(-0.05)


def test_flow_counts_and_overdue_schedule(imported):
    screening.decide(["R0001"], "include", imported, curator="AB")
    screening.decide(
        ["R0002", "R0005"], "exclude", imported, curator="AB", reason="wrong_intervention"
    )
    c = prisma.counts(imported)
    assert (c["identified"], c["duplicates"], c["screened"], c["awaiting"], c["excluded"]) == (
        20,
        4,
        3,
        13,
        2,
    )
    assert (c["included_screening"], c["included_synthesis"], c["awaiting_extraction"]) == (
        1,
        0,
        ["R0001"],
    )
    s = prisma.state(imported)
    assert (
        prisma.status_line(s) == "Last search: 2026-12-01 (PubMed), 3 records screened, 0 included"
    )
    assert not prisma.overdue(s, 6, today=dt.date(2027, 6, 1))
    assert prisma.overdue(s, 6, today=dt.date(2027, 6, 2))
    assert prisma.overdue({"searches": []}, 6)


def test_overdue_banner_appears_only_after_the_schedule(review):
    from neuroimmune_review.pages.screening import banner_html

    assert "has not been recorded" in banner_html(review, 6)  # no search yet
    screening.import_search(EXPORT, review, database="PubMed", query=QUERY, date="2020-01-01")
    assert banner_html(review, 1200) == ""  # due in 2120
    banner = banner_html(review, 6)
    assert "The literature search is overdue: the last search was on 2020-01-01" in banner
    assert "one every 6 months" in banner
