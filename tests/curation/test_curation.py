"""Adding findings and references: validation before writing, atomic appends, byte preservation."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import importlib.util
import io
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from neuroimmune_review import curation
from neuroimmune_review.bib import load_bibliography, parse_bibliography
from neuroimmune_review.validate import validate_root

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "curation"
ADD_EVIDENCE = REPO / "scripts" / "add_evidence.py"
ADD_REFERENCE = REPO / "scripts" / "add_reference.py"
HEADER = "id,claim_type,intervention,comparator,mediator,direction,reported_as,evidence_type,species,sample,dose,citation,review_ref,chapter,note"

SOURCE_ENTRY = """@article{nava2025modulation,
  author = {Nava, R. G. and Adri, A. S. and Filgueiras, I. S. and others},
  title = {Modulation of neuroimmune cytokine networks by antidepressants: implications in mood regulation},
  journal = {Translational Psychiatry},
  year = {2025},
  doi = {10.1038/s41398-025-03532-y},
  pmid = {40849324}
}
"""
STUDY_ENTRY = """@article{example2001fluoxetine,
  author = {Example, Ann and Sample, Bo},
  title = {Fluoxetine and interleukin-6 in a small test cohort},
  journal = {Journal of Test Fixtures},
  year = {2001},
  doi = {10.5555/fixture.2001.1},
  pmid = {11111111}
}
"""
FIXTURE_ROWS = [
    'EV0001,intervention_effect,fluoxetine,before treatment,IL-6,decrease,reduced,clinical,human,"serum, fixture cohort A",20 mg/day,example2001fluoxetine,,'
    "book/antidepressants/ssri,fixture row",
    'EV0002,intervention_effect,sertraline,before treatment,TNF-α,decrease,reduced,clinical,human,"plasma, fixture cohort B",,nava2025modulation,,'
    "book/antidepressants/ssri,",
    "EV0003,intervention_effect,fluoxetine,vehicle or untreated,IL-10,increase,raised,in_vitro,,fixture culture,,example2001fluoxetine,,book/antidepressants/ssri,",
]


def make_root(
    tmp_path: Path, *, real_data: bool = False, newline: str = "\n", bib: str | None = None
) -> Path:
    """A review root in tmp_path: _toc.yml and data/ copied from the repository.

    Unless *real_data*, evidence.csv holds three fixture rows and references.bib two entries,
    so the baseline is valid whatever state the real data set is in.
    """
    root = tmp_path / "review"
    root.mkdir()
    shutil.copy(REPO / "_toc.yml", root / "_toc.yml")
    shutil.copytree(REPO / "data", root / "data", ignore=shutil.ignore_patterns(".*"))
    if real_data:
        shutil.copy(REPO / "references.bib", root / "references.bib")
    else:
        # Only the evidence and its vocabularies: other tables cite works the tiny bibliography lacks.
        package_file = root / "data" / "datapackage.json"
        package = json.loads(package_file.read_text(encoding="utf-8"))
        keep = {"evidence", "interventions", "mediators"}
        package["resources"] = [r for r in package["resources"] if r["name"] in keep]
        package_file.write_text(json.dumps(package, indent=2, ensure_ascii=False), encoding="utf-8")
        (root / "data" / "evidence.csv").write_bytes(
            newline.join([HEADER, *FIXTURE_ROWS, ""]).encode()
        )
        text = bib if bib is not None else SOURCE_ENTRY + "\n" + STUDY_ENTRY
        (root / "references.bib").write_bytes(text.replace("\n", newline).encode())
    return root


def snapshot(root: Path) -> dict[str, str]:
    """Digest of every file under root, except the lock file (created on first use)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != curation.LOCK_NAME
    }


def run(
    script: Path, *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(script), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        timeout=300,
    )


def new_row(sample: str, **overrides: str) -> dict[str, str]:
    row = {
        "claim_type": "intervention_effect",
        "intervention": "fluoxetine",
        "comparator": "before treatment",
        "mediator": "IL-6",
        "direction": "decrease",
        "reported_as": "reduced",
        "evidence_type": "clinical",
        "species": "human",
        "sample": sample,
        "citation": "nava2025modulation",
        "chapter": "book/antidepressants/ssri",
    }
    row.update(overrides)
    return row


def rows_of(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))


def test_fixture_root_is_valid(tmp_path):
    root = make_root(tmp_path)
    assert [p for p in validate_root(root) if p.severity == "error"] == []


# ---------------------------------------------------------------------------
# add_evidence


def test_single_finding_from_flags(tmp_path):
    root = make_root(tmp_path)
    evidence = root / "data" / "evidence.csv"
    before = evidence.read_bytes()
    done = run(
        ADD_EVIDENCE,
        "--root",
        str(root),
        "--claim-type",
        "intervention_effect",
        "--comparator",
        "before treatment",
        "--reported-as",
        "unchanged",
        "--intervention",
        "sertraline",
        "--mediator",
        "IL-6",
        "--direction",
        "no_change",
        "--evidence-type",
        "clinical",
        "--species",
        "human",
        "--sample",
        "serum, flag test",
        "--citation",
        "example2001fluoxetine",
        "--chapter",
        "book/antidepressants/ssri",
        "--note",
        "added from flags",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["EV0004"]
    after = evidence.read_bytes()
    assert after.startswith(before)
    assert after[len(before) :] == (
        b'EV0004,intervention_effect,sertraline,before treatment,IL-6,no_change,unchanged,clinical,human,"serum, flag test",,example2001fluoxetine,,'
        b"book/antidepressants/ssri,added from flags\n"
    )


def test_rows_from_stdin_without_id_column_get_next_ids(tmp_path):
    root = make_root(tmp_path)
    text = (
        "intervention,mediator,direction,evidence_type,sample,citation,chapter,claim_type,comparator,reported_as\n"
        + "".join(
            f"fluoxetine,IL-6,decrease,clinical,stdin cohort {i},nava2025modulation,book/antidepressants/ssri,intervention_effect,before treatment,reduced\n"
            for i in range(3)
        )
    )
    done = run(ADD_EVIDENCE, "--root", str(root), "--from-csv", "-", stdin=text)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["EV0004", "EV0005", "EV0006"]
    rows = rows_of(root / "data" / "evidence.csv")
    assert [r["id"] for r in rows] == [f"EV{i:04d}" for i in range(1, 7)]
    assert rows[-1]["sample"] == "stdin cohort 2" and rows[-1]["species"] == ""


def test_rows_from_csv_file_keep_given_ids(tmp_path):
    root = make_root(tmp_path)
    new = tmp_path / "new.csv"
    new.write_text(
        "id,intervention,mediator,direction,evidence_type,sample,citation,chapter,claim_type,comparator,reported_as\n"
        "EV0100,fluoxetine,IL-6,increase,clinical,file cohort 1,nava2025modulation,book/antidepressants/ssri,intervention_effect,before treatment,reduced\n"
        ",fluoxetine,IL-6,increase,clinical,file cohort 2,nava2025modulation,book/antidepressants/ssri,intervention_effect,before treatment,reduced\n",
        encoding="utf-8",
    )
    done = run(ADD_EVIDENCE, "--root", str(root), "--from-csv", str(new))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["EV0100", "EV0101"]


def test_crlf_file_keeps_its_bytes_and_line_endings(tmp_path):
    root = make_root(tmp_path, newline="\r\n")
    evidence = root / "data" / "evidence.csv"
    before = evidence.read_bytes()
    assert b"\r\n" in before
    result = curation.add_evidence([new_row("crlf cohort"), new_row("crlf cohort 2")], root)
    assert result.ids == ["EV0004", "EV0005"]
    after = evidence.read_bytes()
    assert after.startswith(before)
    added = after[len(before) :]
    assert added.count(b"\r\n") == 2 and added.count(b"\n") == 2  # no bare LF
    assert added.startswith(
        b"EV0004,intervention_effect,fluoxetine,before treatment,IL-6,decrease,"
    )


def test_crlf_field_with_line_break_stays_crlf(tmp_path):
    root = make_root(tmp_path, newline="\r\n")
    evidence = root / "data" / "evidence.csv"
    before = evidence.read_bytes()
    curation.add_evidence([new_row("multi-line note cohort", note="first line\nsecond line")], root)
    added = evidence.read_bytes()[len(before) :]
    assert added.endswith(b"\r\n")
    assert rows_of(evidence)[-1]["note"] == "first line\nsecond line"


def test_missing_trailing_newline_is_completed_not_rewritten(tmp_path):
    root = make_root(tmp_path)
    evidence = root / "data" / "evidence.csv"
    evidence.write_bytes(evidence.read_bytes().rstrip(b"\n"))
    before = evidence.read_bytes()
    curation.add_evidence([new_row("no newline cohort")], root)
    after = evidence.read_bytes()
    assert after.startswith(before + b"\n")
    assert after.endswith(b"\n")
    assert [r["id"] for r in rows_of(evidence)] == ["EV0001", "EV0002", "EV0003", "EV0004"]


def test_bom_and_quoting_of_existing_rows_untouched(tmp_path):
    root = make_root(tmp_path)
    evidence = root / "data" / "evidence.csv"
    # Unusual but valid quoting that a rewrite through a CSV writer would change.
    evidence.write_bytes(evidence.read_bytes().replace(b"fixture row", b'"fixture row"'))
    before = evidence.read_bytes()
    curation.add_evidence([new_row("quoting cohort")], root)
    assert evidence.read_bytes().startswith(before)


def test_invalid_rows_write_nothing_and_report_validator_messages(tmp_path):
    root = make_root(tmp_path)
    before = snapshot(root)
    text = (
        "intervention,mediator,direction,evidence_type,sample,citation,chapter,claim_type,comparator,reported_as\n"
        "fluoxetine,IL-6,up,clinical,bad cohort 1,nava2025modulation,book/antidepressants/ssri,intervention_effect,before treatment,reduced\n"
        "fluoxetin,IL-6,decrease,clinical,bad cohort 2,nokey2020,book/antidepressants/ssri,intervention_effect,before treatment,reduced\n"
    )
    done = run(ADD_EVIDENCE, "--root", str(root), "--from-csv", "-", stdin=text)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "'up' is not allowed" in done.stderr
    assert "did you mean 'fluoxetine'" in done.stderr
    assert "nokey2020" in done.stderr
    assert "new row 2" in done.stderr
    assert done.stdout == ""
    assert snapshot(root) == before
    assert not [p for p in (root / "data").iterdir() if p.suffix == ".tmp"]


def test_duplicate_finding_is_refused(tmp_path):
    root = make_root(tmp_path)
    before = snapshot(root)
    duplicate = new_row(
        "serum, fixture cohort A", citation="example2001fluoxetine", dose="20 mg/day"
    )
    with pytest.raises(curation.CurationError) as error:
        curation.add_evidence([duplicate], root)
    assert "evidence.csv" in str(error.value)
    assert snapshot(root) == before


def test_unknown_column_and_malformed_input(tmp_path):
    root = make_root(tmp_path)
    before = snapshot(root)
    done = run(
        ADD_EVIDENCE,
        "--root",
        str(root),
        "--from-csv",
        "-",
        stdin="intervention,mediator,colour\nfluoxetine,IL-6,blue\n",
    )
    assert done.returncode == 1 and "unknown column(s) colour" in done.stderr
    done = run(
        ADD_EVIDENCE,
        "--root",
        str(root),
        "--from-csv",
        "-",
        stdin="intervention,mediator\nfluoxetine,IL-6,extra\n",
    )
    assert done.returncode == 1 and "has 3 fields; expected 2" in done.stderr
    done = run(
        ADD_EVIDENCE, "--root", str(root), "--from-csv", "-", stdin="intervention,mediator\n"
    )
    assert done.returncode == 1 and "no rows" in done.stderr
    assert snapshot(root) == before


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--from-csv", "-", "--intervention", "fluoxetine"],
        ["--from-csv", "does-not-exist.csv"],
        ["--no-such-flag"],
    ],
)
def test_usage_errors_exit_2_without_traceback(tmp_path, args):
    root = make_root(tmp_path)
    done = run(ADD_EVIDENCE, "--root", str(root), *args, stdin="")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "usage:" in done.stderr


def test_dry_run_writes_nothing(tmp_path):
    root = make_root(tmp_path)
    before = snapshot(root)
    done = run(
        ADD_EVIDENCE,
        "--root",
        str(root),
        "--dry-run",
        "--claim-type",
        "intervention_effect",
        "--comparator",
        "before treatment",
        "--reported-as",
        "reduced",
        "--intervention",
        "fluoxetine",
        "--mediator",
        "IL-6",
        "--direction",
        "decrease",
        "--evidence-type",
        "clinical",
        "--sample",
        "dry cohort",
        "--citation",
        "nava2025modulation",
        "--chapter",
        "book/antidepressants/ssri",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["EV0004"] and "would add" in done.stderr
    assert snapshot(root) == before


def test_existing_errors_do_not_block_a_valid_row(tmp_path):
    root = make_root(tmp_path)
    evidence = root / "data" / "evidence.csv"
    evidence.write_bytes(evidence.read_bytes().replace(b"IL-10,increase", b"IL-10,upwards"))
    before = evidence.read_bytes()
    done = run(
        ADD_EVIDENCE,
        "--root",
        str(root),
        "--claim-type",
        "intervention_effect",
        "--comparator",
        "before treatment",
        "--reported-as",
        "reduced",
        "--intervention",
        "fluoxetine",
        "--mediator",
        "IL-6",
        "--direction",
        "decrease",
        "--evidence-type",
        "clinical",
        "--sample",
        "unrelated cohort",
        "--citation",
        "nava2025modulation",
        "--chapter",
        "book/antidepressants/ssri",
    )
    assert done.returncode == 0, done.stderr
    assert "already had 1 error" in done.stderr
    assert evidence.read_bytes().startswith(before)


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_withdrawn_ids_are_never_reused(tmp_path):
    root = make_root(tmp_path)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "fixture")
    evidence = root / "data" / "evidence.csv"
    lines = evidence.read_bytes().splitlines(keepends=True)
    evidence.write_bytes(b"".join(lines[:-1]))  # withdraw EV0003
    _git(root, "commit", "-qam", "withdraw EV0003")
    assert curation.add_evidence([new_row("after withdrawal")], root).ids == ["EV0004"]
    with pytest.raises(curation.CurationError, match="never reused"):
        curation.add_evidence([new_row("reusing", id="EV0003")], root)


def _load_cli():
    spec = importlib.util.spec_from_file_location("add_evidence_cli", ADD_EVIDENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cli_args(root: Path, i: int) -> list[str]:
    return [
        "--root",
        str(root),
        "--claim-type",
        "intervention_effect",
        "--comparator",
        "before treatment",
        "--reported-as",
        "reduced",
        "--intervention",
        "fluoxetine",
        "--mediator",
        "IL-6",
        "--direction",
        "decrease",
        "--evidence-type",
        "clinical",
        "--species",
        "human",
        "--sample",
        f"concurrency cohort {i}",
        "--citation",
        "nava2025modulation",
        "--chapter",
        "book/antidepressants/ssri",
    ]


def _invoke_cli(args: list[str]) -> tuple[int, str, str]:
    """Run the CLI's main() in a forked worker process, capturing its output."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = _CLI.main(args)
        except SystemExit as exit_:
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


_CLI = _load_cli()


def _check_concurrent_result(
    root: Path, before: bytes, original_ids: list[str], outcomes, n: int
) -> None:
    failures = [err for code, _out, err in outcomes if code != 0]
    assert not failures, failures[0]
    printed = [out.strip() for _code, out, _err in outcomes]
    assert len(set(printed)) == n
    evidence = root / "data" / "evidence.csv"
    after = evidence.read_bytes()
    assert after.startswith(before)
    rows = rows_of(evidence)
    ids = [r["id"] for r in rows]
    assert len(rows) == len(original_ids) + n
    assert len(set(ids)) == len(ids)
    assert set(ids) - set(original_ids) == set(printed)
    assert {r["sample"] for r in rows[len(original_ids) :]} == {
        f"concurrency cohort {i}" for i in range(n)
    }
    assert not [p for p in (root / "data").iterdir() if p.suffix == ".tmp"]


def test_fifty_concurrent_invocations_lose_no_row(tmp_path):
    """Fifty processes run add_evidence's CLI at once against a copy of the real data set."""
    root = make_root(tmp_path, real_data=True)
    evidence = root / "data" / "evidence.csv"
    before = evidence.read_bytes()
    original_ids = [r["id"] for r in rows_of(evidence)]
    started = time.monotonic()
    with multiprocessing.get_context("fork").Pool(50) as pool:
        outcomes = pool.map(_invoke_cli, [_cli_args(root, i) for i in range(50)], chunksize=1)
    elapsed = time.monotonic() - started
    _check_concurrent_result(root, before, original_ids, outcomes, 50)
    print(f"50 concurrent add_evidence processes took {elapsed:.1f} s")


def test_concurrent_script_subprocesses_lose_no_row(tmp_path):
    """The same through separate interpreters running scripts/add_evidence.py."""
    root = make_root(tmp_path, real_data=True)
    evidence = root / "data" / "evidence.csv"
    before = evidence.read_bytes()
    original_ids = [r["id"] for r in rows_of(evidence)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda i: run(ADD_EVIDENCE, *_cli_args(root, i)), range(10)))
    _check_concurrent_result(
        root, before, original_ids, [(r.returncode, r.stdout, r.stderr) for r in results], 10
    )


# ---------------------------------------------------------------------------
# References: parsing and house style


def test_medline_import_to_house_style():
    records = curation.read_reference_file(FIXTURES / "pubmed-two-records.nbib")
    assert [curation.base_key(r.fields) for r in records] == [
        "sutcigil2007pro",
        "wiedlocha2018effect",
    ]
    sutcigil, wiedlocha = (r.fields for r in records)
    assert sutcigil == {
        "author": "Sutcigil, Levent and Oktenli, Cagatay and Musabak, Ugur",
        "title": "Pro- and anti-inflammatory cytokine balance in major depression: effect of sertraline therapy",
        "journal": "Clinical & developmental immunology",
        "year": "2007",
        "volume": "2007",
        "pages": "76396",
        "doi": "10.1155/2007/76396",
        "pmid": "99000001",
    }
    assert wiedlocha["author"].startswith("Więdłocha, Magdalena and ")
    assert wiedlocha["pages"] == "217--226"
    assert wiedlocha["doi"] == "10.1016/j.pnpbp.2017.04.026"  # the [doi] LID, not the [pii] one
    assert wiedlocha["year"] == "2018" and wiedlocha["number"] == "Pt C"


def test_ris_import_to_house_style():
    records = curation.read_reference_file(FIXTURES / "nature-and-springer.ris")
    kohler = records[0].fields
    assert curation.base_key(kohler) == "kohler2018peripheral"
    assert kohler["author"] == "Köhler, Cristiano A. and Freitas, Thiago H. and Stubbs, Brendon"
    assert kohler["journal"] == "Molecular Neurobiology"
    assert kohler["doi"] == "10.1007/s12035-017-0632-1"  # prefix dropped, lower-cased
    assert kohler["pmid"] == "28612257"  # from the PubMed URL
    assert kohler["pages"] == "4195--4206" and kohler["number"] == "5" and kohler["year"] == "2018"
    assert records[1].fields["doi"] == "10.1038/s41398-025-03532-y"


def test_bibtex_import_to_house_style():
    (record,) = curation.read_reference_file(FIXTURES / "one-entry.bib")
    assert record.fields == {
        "author": "Example, Jane Q. and van Beethoven, Ludwig and {World Health Organization}",
        "title": "{Exercise} and interleukin-6: a made-up test record",
        "journal": "Journal of Test Fixtures",
        "year": "2099",
        "volume": "1",
        "number": "2",
        "pages": "10--19",
        "doi": "10.5555/test.2099.001",
    }
    assert curation.base_key(record.fields) == "example2099exercise"
    entry = curation.format_entry("example2099exercise", record)
    parsed = parse_bibliography(entry)
    assert parsed.entries["example2099exercise"]["doi"] == "10.5555/test.2099.001"


@pytest.mark.parametrize(
    "author,title,year,key",
    [
        ("Więdłocha, M.", "Effect of antidepressant treatment", "2018", "wiedlocha2018effect"),
        (
            "Sutcigil, Levent",
            "Pro- and anti-inflammatory cytokine balance",
            "2007",
            "sutcigil2007pro",
        ),
        ("Øster, Ñandú and Other, A.", "The blood–brain barrier", "2021", "oster2021the"),
        (
            "O'Sullivan, J. B.",
            "Noradrenaline reuptake inhibitors limit",
            "2009",
            "osullivan2009noradrenaline",
        ),
        ("Watkins, L. R.", "Cytokine-to-brain communication", "1995", "watkins1995cytokinetobrain"),
        ("Zhang, J.", "5-HT and R (-)-ketamine", "2014", "zhang2014ht"),
        ("de Lima, Kalil", "Neuromodulation", "2021", "delima2021neuromodulation"),
    ],
)
def test_key_convention(author, title, year, key):
    assert curation.base_key({"author": author, "title": title, "year": year}) == key


def test_key_collision_gets_a_letter():
    assert (
        curation.unique_key("smith2020cytokines", {"smith2020cytokines"}) == "smith2020cytokinesb"
    )
    assert (
        curation.unique_key("smith2020cytokines", {"smith2020cytokines", "smith2020cytokinesb"})
        == "smith2020cytokinesc"
    )


@pytest.mark.parametrize(
    "raw,bare",
    [
        ("https://doi.org/10.1038/S41398-025-03532-Y", "10.1038/s41398-025-03532-y"),
        ("http://dx.doi.org/10.1155/2007/76396", "10.1155/2007/76396"),
        ("doi:10.1016/J.PNPBP.2017.04.026", "10.1016/j.pnpbp.2017.04.026"),
        ("10.1007/s12035-017-0632-1 [doi]", "10.1007/s12035-017-0632-1"),
    ],
)
def test_doi_normalisation(raw, bare):
    assert curation.normalise_doi(raw) == bare


# ---------------------------------------------------------------------------
# References: adding


def test_import_appends_new_entries_after_existing_bytes(tmp_path):
    root = make_root(tmp_path)
    bib = root / "references.bib"
    before = bib.read_bytes()
    done = run(ADD_REFERENCE, "--root", str(root), str(FIXTURES / "pubmed-two-records.nbib"))
    assert done.returncode == 0, done.stderr
    assert "added sutcigil2007pro" in done.stdout and "added wiedlocha2018effect" in done.stdout
    after = bib.read_bytes()
    assert after.startswith(before)
    assert after[len(before) :].startswith(
        b"\n@article{sutcigil2007pro,\n  author = {Sutcigil, Levent and"
    )
    entries = load_bibliography(bib).entries
    assert entries["wiedlocha2018effect"]["pmid"] == "99000002"
    assert list(entries)[:2] == ["nava2025modulation", "example2001fluoxetine"]


def test_import_into_crlf_bibliography_keeps_crlf(tmp_path):
    root = make_root(tmp_path, newline="\r\n")
    bib = root / "references.bib"
    before = bib.read_bytes()
    curation.add_references(curation.read_reference_file(FIXTURES / "one-entry.bib"), root)
    after = bib.read_bytes()
    assert after.startswith(before)
    added = after[len(before) :]
    assert added.count(b"\n") == added.count(b"\r\n") > 5


def test_duplicates_by_doi_pmid_and_key_add_nothing(tmp_path):
    root = make_root(tmp_path)
    before = snapshot(root)
    same_doi = curation.Record(
        "article",
        {
            "author": "Someone, Else",
            "title": "Another title",
            "year": "2001",
            "doi": "10.5555/FIXTURE.2001.1",
        },
        "doi record",
    )
    same_pmid = curation.Record(
        "article",
        {"author": "Someone, Else", "title": "Third title", "year": "2001", "pmid": "11111111"},
        "pmid record",
    )
    same_key = curation.Record(
        "article",
        {
            "author": "Example, A.",
            "year": "2001",
            "title": "Fluoxetine and interleukin-6 in a small test cohort.",
        },
        "key record",
    )
    result = curation.add_references(
        [curation.normalise(r) for r in (same_doi, same_pmid, same_key)], root
    )
    assert result.added == []
    assert [(d.existing_key, d.reason.split()[0]) for d in result.duplicates] == [
        ("example2001fluoxetine", "DOI"),
        ("example2001fluoxetine", "PMID"),
        ("example2001fluoxetine", "key"),
    ]
    assert snapshot(root) == before


def test_duplicate_report_from_the_cli(tmp_path):
    root = make_root(tmp_path)
    done = run(ADD_REFERENCE, "--root", str(root), str(FIXTURES / "nature-and-springer.ris"))
    assert done.returncode == 0, done.stderr
    assert "duplicate: nature-and-springer.ris, record 2" in done.stdout
    assert "as nava2025modulation (same DOI 10.1038/s41398-025-03532-y); not added" in done.stdout
    assert "added kohler2018peripheral" in done.stdout
    assert set(load_bibliography(root / "references.bib").entries) == {
        "nava2025modulation",
        "example2001fluoxetine",
        "kohler2018peripheral",
    }


def test_same_key_different_work_gets_suffix(tmp_path):
    root = make_root(tmp_path)
    other = curation.Record(
        "article",
        {
            "author": "Example, Ann",
            "year": "2001",
            "journal": "Other Journal",
            "title": "Fluoxetine in a different study altogether",
        },
        "record",
    )
    result = curation.add_references([curation.normalise(other)], root)
    assert [key for key, _ in result.added] == ["example2001fluoxetineb"]


def test_duplicates_within_one_import(tmp_path):
    root = make_root(tmp_path)
    records = curation.read_reference_file(FIXTURES / "pubmed-two-records.nbib")
    result = curation.add_references(records + records[:1], root)
    assert [key for key, _ in result.added] == ["sutcigil2007pro", "wiedlocha2018effect"]
    assert len(result.duplicates) == 1 and result.duplicates[0].within_import


def test_invalid_entry_is_rolled_back(tmp_path):
    root = make_root(tmp_path)
    before = snapshot(root)
    bad = tmp_path / "bad.bib"
    bad.write_text(
        "@article{x, author = {Bad, Pmid}, title = {A record with a bad PMID}, year = {2020},"
        " pmid = {PMC1234567}}\n",
        encoding="utf-8",
    )
    done = run(ADD_REFERENCE, "--root", str(root), str(bad))
    assert done.returncode == 1
    assert "PMC1234567" in done.stderr and "left as it was" in done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(root) == before


def test_incomplete_or_unreadable_input_writes_nothing(tmp_path):
    root = make_root(tmp_path)
    before = snapshot(root)
    no_title = tmp_path / "no-title.ris"
    no_title.write_text("TY  - JOUR\nAU  - Nobody, N.\nPY  - 2020\nER  - \n", encoding="utf-8")
    done = run(ADD_REFERENCE, "--root", str(root), str(no_title))
    assert done.returncode == 1 and "no title" in done.stderr
    unknown = tmp_path / "notes.txt"
    unknown.write_text("just some notes\n", encoding="utf-8")
    done = run(ADD_REFERENCE, "--root", str(root), str(unknown))
    assert done.returncode == 1 and "cannot tell the format" in done.stderr
    done = run(ADD_REFERENCE, "--root", str(root), str(tmp_path / "missing.nbib"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert snapshot(root) == before


def test_stdin_import_with_format(tmp_path):
    root = make_root(tmp_path)
    text = (FIXTURES / "pubmed-two-records.nbib").read_text(encoding="utf-8")
    done = run(ADD_REFERENCE, "--root", str(root), "--format", "medline", "-", stdin=text)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("added ") == 2


def test_lock_serialises_writers(tmp_path):
    root = make_root(tmp_path)
    lock = root / "data" / curation.LOCK_NAME
    with curation.exclusive_lock(root):
        assert lock.exists()
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR);"
                "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)",
                str(lock),
            ],
            stderr=subprocess.PIPE,
        )
        assert child.wait(timeout=60) != 0  # the lock is held: a non-blocking attempt fails
    assert os.path.exists(lock)


def test_csv_file_as_plain_positional_argument(tmp_path):
    root = make_root(tmp_path)
    new = tmp_path / "new.csv"
    new.write_text(
        "claim_type,intervention,comparator,mediator,direction,reported_as,evidence_type,sample,citation,chapter\n"
        "intervention_effect,fluoxetine,placebo,IL-6,no_change,did not change,clinical,positional cohort,"
        "nava2025modulation,book/antidepressants/ssri\n",
        encoding="utf-8",
    )
    done = run(ADD_EVIDENCE, "--root", str(root), str(new))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["EV0004"]
    assert rows_of(root / "data" / "evidence.csv")[-1]["reported_as"] == "did not change"
    both = run(ADD_EVIDENCE, "--root", str(root), str(new), "--from-csv", str(tmp_path / "x.csv"))
    assert both.returncode == 2 and "either as FILE or as --from-csv" in both.stderr


def test_rows_are_never_appended_to_a_v1_evidence_file(tmp_path):
    root = make_root(tmp_path)
    evidence = root / "data" / "evidence.csv"
    v1 = "id,intervention,mediator,direction,evidence_type,species,sample,dose,citation,review_ref,chapter,note\n"
    evidence.write_text(
        v1
        + "EV0001,fluoxetine,IL-6,decrease,clinical,human,serum,,example2001fluoxetine,,book/antidepressants/ssri,\n",
        encoding="utf-8",
    )
    before = snapshot(root)
    with pytest.raises(curation.CurationError, match="v1 evidence model") as error:
        curation.add_evidence([new_row("v1 cohort")], root)
    assert "convert_evidence_v1.py" in str(error.value)
    assert snapshot(root) == before
