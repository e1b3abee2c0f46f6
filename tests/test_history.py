"""The "What's new" page: changes per commit from the git history of the evidence and bibliography."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from neuroimmune_review import history, provenance

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

HEADER = "id,intervention,mediator,direction,evidence_type,species,sample,dose,citation,review_ref,chapter,note\n"
ROW1 = "EV0001,fluoxetine,IL-6,decrease,clinical,human,serum,,sutcigil2007pro,,book/antidepressants/ssri,\n"
ROW2 = "EV0002,sertraline,TNF-α,decrease,clinical,human,plasma,,nava2025modulation,99;101,book/antidepressants/ssri,\n"
ROW3 = "EV0003,ketamine,IL-10,increase,preclinical_in_vivo,rat,serum,,kohler2018peripheral,,book/antidepressants/nmda,\n"
NAVA = """@article{nava2025modulation,
  author = {Nava, R. G. and Adri, A. S. and Filgueiras, I. S. and others},
  title = {Modulation of neuroimmune cytokine networks by antidepressants},
  journal = {Translational Psychiatry},
  year = {2025}
}
"""
SUTCIGIL = """
@article{sutcigil2007pro,
  author = {Sutcigil, Levent and Oktenli, Cagatay and Musabak, Ugur},
  title = {Pro- and anti-inflammatory cytokine balance in major depression},
  journal = {Clinical and Developmental Immunology},
  year = {2007}
}
"""
KOHLER = """
@article{kohler2018peripheral,
  author = {Köhler, Cristiano A. and Freitas, Thiago H.},
  title = {Peripheral alterations in cytokine and chemokine levels},
  journal = {Molecular Neurobiology},
  year = {2018}
}
"""


def git(root: Path, *args: str, date: str = "2026-01-01T12:00:00+00:00") -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Curator",
        "GIT_AUTHOR_EMAIL": "curator@example.org",
        "GIT_COMMITTER_NAME": "Curator",
        "GIT_COMMITTER_EMAIL": "curator@example.org",
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
    }
    return subprocess.run(
        ["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True
    ).stdout


def write(root: Path, evidence: str, bib: str) -> None:
    (root / "data" / "evidence.csv").write_text(evidence, encoding="utf-8")
    (root / "references.bib").write_text(bib, encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Four commits: initial data; a finding and a reference added; a finding changed and one removed
    with its reference; a prose-only commit. Tags on the second and the last."""
    root = tmp_path / "review"
    (root / "data").mkdir(parents=True)
    (root / "_toc.yml").write_text("root: book/index\n", encoding="utf-8")
    # The enums (directions, claim types) the summaries use come from the data package.
    shutil.copy(REPO / "data" / "datapackage.json", root / "data" / "datapackage.json")
    git(root, "init", "-q", "-b", "main")
    write(root, HEADER + ROW1 + ROW2, NAVA + SUTCIGIL)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "Initial evidence", date="2026-01-01T12:00:00+00:00")
    write(root, HEADER + ROW1 + ROW2 + ROW3, NAVA + SUTCIGIL + KOHLER)
    git(
        root,
        "commit",
        "-qam",
        "Add Köhler 2018 <meta-analysis> *ketamine*",
        date="2026-02-01T12:00:00+00:00",
    )
    git(root, "tag", "-a", "v2026.2.0", "-m", "release", date="2026-02-01T12:00:00+00:00")
    write(root, HEADER + ROW1.replace("decrease", "no_change") + ROW3, NAVA + SUTCIGIL)
    git(root, "commit", "-qam", "Recode EV0001, withdraw EV0002", date="2026-03-01T12:00:00+00:00")
    (root / "notes.md").write_text("prose\n", encoding="utf-8")
    git(root, "add", "notes.md")
    git(root, "commit", "-qm", "Prose only", date="2026-04-01T12:00:00+00:00")
    git(root, "tag", "v2026.2.1")
    return root


def rows(page: str) -> list[str]:
    """The table rows of the page's HTML, newest first."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [r for r in body.split("<tr>") if r]


def test_commits_newest_first_with_rows_and_references(repo):
    found, info = history.commits(repo)
    assert info.available and not info.shallow
    assert [c.subject for c in found] == [
        "Recode EV0001, withdraw EV0002",
        "Add Köhler 2018 <meta-analysis> *ketamine*",
        "Initial evidence",
    ]
    recode, add, initial = found
    assert [r["id"] for r in initial.added] == ["EV0001", "EV0002"] and initial.bib_added == [
        "nava2025modulation",
        "sutcigil2007pro",
    ]
    assert [r["id"] for r in add.added] == ["EV0003"] and add.bib_added == ["kohler2018peripheral"]
    assert add.tags == ["v2026.2.0"]
    assert [(new["id"], fields) for _old, new, fields in recode.changed] == [
        ("EV0001", ["direction"])
    ]
    assert [r["id"] for r in recode.removed] == ["EV0002"] and recode.bib_removed == [
        "kohler2018peripheral"
    ]


def test_table_rows_labels_and_details(repo):
    text = history.whats_new_html(root=repo)
    parts = rows(text)
    shas = [git(repo, "rev-parse", "--short=7", f"HEAD~{i}").strip() for i in range(4)]
    assert [p.split("</td>")[0] for p in parts] == [
        "<td>2026-04-01",
        "<td>2026-03-01",
        "<td>2026-02-01",
        "<td>2026-01-01",
    ]
    for part, sha in zip(parts, shas, strict=True):
        assert f"commit <code>{sha}</code>" in part
    prose, recode, add, initial = parts
    assert "Release v2026.2.1" in prose and "this commit itself did not change the data" in prose
    assert "Release v2026.2.0" in add
    assert "<summary>1 finding changed, 1 removed; 1 reference removed</summary>" in recode
    assert (
        "<li>EV0001: fluoxetine → IL-6, no change (Sutcigil et al. 2007); changed: direction</li>"
        in recode
    )
    assert (
        "<li>EV0002: sertraline → TNF-α, decrease (Nava et al. 2025, ref. 99, 101)</li>" in recode
    )
    # References by author-year label and title; BibTeX keys are not shown.
    assert (
        "<li>Köhler &amp; Freitas 2018, <em>Peripheral alterations in cytokine and chemokine levels</em></li>"
        in recode
    )
    assert "kohler2018peripheral" not in text and "sutcigil2007pro" not in text
    assert "<li>EV0003: ketamine → IL-10, increase (Köhler &amp; Freitas 2018)</li>" in add
    assert "Add Köhler 2018 &lt;meta-analysis&gt; *ketamine*" in add
    assert "<summary>2 findings added; 2 references added</summary>" in initial
    # Every change is listed: nothing is cut off with "… and N more".
    assert "more</li>" not in text
    # The fixture has no vocabularies, so no version states a verdict: no conclusion changed.
    assert all(p.rstrip().endswith("<td>No</td></tr>") or "<td>No</td>" in p for p in parts)


def test_text_from_data_and_commits_is_escaped(repo):
    evil = (
        HEADER
        + ROW1
        + "EV0009,<script>alert(1)</script>,IL-6 [x](javascript:y),increase,clinical,,s,,*k*,,c,\n"
    )
    write(repo, evil, NAVA + SUTCIGIL)
    git(
        repo,
        "commit",
        "-qam",
        "<img src=x onerror=alert(1)> `code` [link](http://x)",
        date="2026-05-01T12:00:00+00:00",
    )
    text = history.whats_new_html(root=repo)
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text


def test_limit(repo):
    text = history.whats_new_html(limit=1, root=repo)
    assert "the last 1 commits" in text
    assert "Initial evidence" not in text


# --- "Conclusions changed" is computed -------------------------------------------------------

INTERVENTIONS = "name,kind,drug_class\nfluoxetine,drug,SSRI\nsertraline,drug,SSRI\n"
MEDIATORS = (
    "name,family,inflammatory_role\nIL-6,cytokine,pro\nTNF-α,cytokine,pro\nIL-10,cytokine,anti\n"
)
BIB = "".join(
    f"@article{{{key},\n  author = {{{name}, A.}},\n  title = {{T {key}}},\n  year = {{2020}}\n}}\n"
    for key, name in (
        ("a2020", "Alpha"),
        ("b2020", "Beta"),
        ("c2020", "Gamma"),
        ("d2020", "Delta"),
        ("e2020", "Eps"),
        ("f2020", "Phi"),
    )
)


def finding(ident: int, drug: str, mediator: str, direction: str, key: str) -> str:
    return f"EV{ident:04d},{drug},{mediator},{direction},clinical,human,serum,,{key},,book/antidepressants/ssri,\n"


@pytest.fixture
def verdict_repo(tmp_path: Path) -> Path:
    """Three versions: SSRIs lower IL-6 (3 sources); a prose-neutral recode that keeps the verdict;
    two new sources report increases, so the pro-inflammatory verdict flips to conflicting."""
    root = tmp_path / "verdicts"
    (root / "data").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "data" / "interventions.csv").write_text(INTERVENTIONS, encoding="utf-8")
    (root / "data" / "mediators.csv").write_text(MEDIATORS, encoding="utf-8")
    base = [
        finding(1, "fluoxetine", "IL-6", "decrease", "a2020"),
        finding(2, "sertraline", "IL-6", "decrease", "b2020"),
        finding(3, "fluoxetine", "TNF-α", "decrease", "c2020"),
    ]
    write(root, HEADER + "".join(base), BIB)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "Three sources", date="2026-01-01T12:00:00+00:00")
    # The same result fanned out to a second drug and duplicated: no new source, no new verdict.
    fanned = base + [
        finding(4, "sertraline", "TNF-α", "decrease", "c2020"),
        finding(5, "sertraline", "TNF-α", "decrease", "c2020"),
    ]
    write(root, HEADER + "".join(fanned), BIB)
    git(root, "commit", "-qam", "Fan-out", date="2026-02-01T12:00:00+00:00")
    contrary = fanned + [
        finding(6, "fluoxetine", "IL-6", "increase", "d2020"),
        finding(7, "sertraline", "TNF-α", "increase", "e2020"),
        finding(8, "fluoxetine", "IL-10", "decrease", "d2020"),
    ]
    write(root, HEADER + "".join(contrary), BIB)
    git(root, "commit", "-qam", "Two contrary sources", date="2026-03-01T12:00:00+00:00")
    flipped = contrary + [finding(9, "fluoxetine", "IL-6", "increase", "f2020")]
    write(root, HEADER + "".join(flipped), BIB)
    git(root, "commit", "-qam", "A third contrary source", date="2026-04-01T12:00:00+00:00")
    return root


def test_conclusions_changed_is_computed_and_names_the_flip(verdict_repo):
    found, _ = history.commits(verdict_repo)
    flipped, contrary, fanout, first = found
    assert "SSRI: pro-inflammatory cytokines: new verdict, net decrease" in first.conclusions
    assert (
        "SSRI: overall reading: new verdict, anti-inflammatory, certainty moderate"
        in first.conclusions
    )
    # The same result fanned out to another drug and duplicated adds no source: no verdict moves.
    assert fanout.conclusions == []
    # 3 of 5 source votes: still a net decrease, but the certainty drops for inconsistency.
    assert contrary.conclusions == [
        "SSRI: anti-inflammatory cytokines: new verdict, net decrease",
        "SSRI: overall reading: anti-inflammatory, certainty moderate → anti-inflammatory, certainty low",
    ]
    # 3 decreases against 3 increases: the direction itself flips, and the flip is named.
    assert "SSRI: pro-inflammatory cytokines: net decrease → conflicting" in flipped.conclusions
    page = rows(history.whats_new_html(root=verdict_repo))
    assert first.first_verdicts and not contrary.first_verdicts
    assert "<strong>First verdicts</strong>" in page[3]
    assert "<strong>Yes</strong>" in page[0] and "net decrease → conflicting" in page[0]
    assert "<strong>Yes</strong>" in page[1]
    assert page[2].endswith("<td>No</td></tr>")
    assert "3 changes altered a summary-of-findings verdict" in history.whats_new_html(
        root=verdict_repo
    )


def test_a_verdict_that_flips_direction_is_named():
    old = {"SSRI: pro-inflammatory cytokines": "net decrease"}
    new = {"SSRI: pro-inflammatory cytokines": "conflicting"}
    from neuroimmune_review import sof

    assert sof.flips(old, new) == ["SSRI: pro-inflammatory cytokines: net decrease → conflicting"]
    assert sof.flips(old, old) == []


def test_shallow_clone(repo, tmp_path):
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(clone)],
        check=True,
        capture_output=True,
    )
    text = history.whats_new_html(root=clone)
    assert "shallow clone" in text
    assert "Earlier history is not in this clone" in text
    assert "the data set had 2 findings and 2 references" in text
    assert history.state(clone)["shallow"] is True


def test_deeper_shallow_clone_compares_what_it_has(repo, tmp_path):
    clone = tmp_path / "shallow2"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "3", f"file://{repo}", str(clone)],
        check=True,
        capture_output=True,
    )
    found, info = history.commits(clone)
    assert info.shallow
    assert [c.boundary for c in found] == [False, True]
    assert found[0].changed and found[0].removed


def test_not_a_checkout(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    root = tmp_path / "copy"
    (root / "data").mkdir(parents=True)
    text = history.whats_new_html(root=root)
    assert "cannot be shown here" in text and "not a git checkout" in text
    assert history.state(root) == {
        "available": False,
        "reason": "this copy of the review is not a git checkout",
    }


def test_no_git_installed(repo, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    text = history.whats_new_html(root=repo)
    assert "git is not installed" in text


def test_no_commits_yet(tmp_path):
    root = tmp_path / "fresh"
    (root / "data").mkdir(parents=True)
    git(root, "init", "-q")
    assert "no commits yet" in history.whats_new_html(root=root)


def test_only_prose_commits(tmp_path):
    root = tmp_path / "prose"
    root.mkdir()
    git(root, "init", "-q")
    (root / "README.md").write_text("x\n", encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "readme")
    assert "No committed change to the evidence" in history.whats_new_html(root=root)


def test_page_is_tracked_and_goes_stale_only_when_the_data_history_changes(repo, monkeypatch):
    monkeypatch.setenv("REVIEW_ROOT", str(repo))
    monkeypatch.setattr(provenance, "_page", None)
    provenance.begin_page("book/about/whats-new")
    try:
        output = history.whats_new(limit=10)
    finally:
        monkeypatch.setattr(provenance, "_page", None)
    assert "EV0003" in output.data
    record = json.loads(
        provenance.record_path("book/about/whats-new", repo).read_text(encoding="utf-8")
    )
    assert any("neuroimmune_review.history.history_state" in key for key in record["inputs"])
    docs = ["book/about/whats-new"]
    assert provenance.stale_pages(repo, docs) == []

    (repo / "notes.md").write_text("more prose\n", encoding="utf-8")
    git(repo, "commit", "-qam", "More prose", date="2026-06-01T12:00:00+00:00")
    assert provenance.stale_pages(repo, docs) == []  # prose-only commit: page unchanged

    with (repo / "data" / "evidence.csv").open("a", encoding="utf-8") as handle:
        handle.write(ROW2.replace("EV0002", "EV0004"))
    assert provenance.stale_pages(repo, docs) == ["book/about/whats-new"]  # uncommitted data change
    git(repo, "commit", "-qam", "Add EV0004", date="2026-06-02T12:00:00+00:00")
    assert provenance.stale_pages(repo, docs) == ["book/about/whats-new"]


def test_new_tag_makes_the_page_stale(repo, monkeypatch):
    monkeypatch.setenv("REVIEW_ROOT", str(repo))
    before = history.state(repo)
    git(repo, "tag", "v2026.3.0", "HEAD~1")
    assert history.state(repo) != before


# ---------------------------------------------------------------------------
# Reference numbers: the move to data/reference_map.csv and re-pointed findings

MAP_HEADER = "ref,key,confidence,group,chapter,evidence\n"


def test_repointed_findings_and_identified_numbers_read_well(tmp_path):
    root = tmp_path / "review"
    (root / "data").mkdir(parents=True)
    (root / "_toc.yml").write_text("root: book/index\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    # Before: numbers in the BibTeX (reviewref); EV0002 cites the source article at 99;101.
    legacy = SUTCIGIL.replace(
        "year = {2007}", "year = {2007},\n  reviewref = {101},\n  source = {a mirror}"
    )
    write(root, HEADER + ROW1 + ROW2, NAVA + legacy)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "Numbers in the bib")
    # After: the numbers move to the map, 99 is newly identified, and EV0002 is split per work.
    (root / "data" / "reference_map.csv").write_text(
        MAP_HEADER
        + '99,kohler2018peripheral,probable,"99,101",book/antidepressants/ssri,x\n'
        + '101,sutcigil2007pro,exact,"99,101",book/antidepressants/ssri,x\n',
        encoding="utf-8",
    )
    row2 = ROW2.replace("nava2025modulation,99;101", "kohler2018peripheral,99")
    row4 = ROW2.replace("EV0002", "EV0004").replace(
        "nava2025modulation,99;101", "sutcigil2007pro,101"
    )
    write(root, HEADER + ROW1 + row2 + row4, NAVA + SUTCIGIL + KOHLER)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "Map and re-pointing", date="2026-02-01T12:00:00+00:00")

    newest, _oldest = history.commits(root)[0]
    assert [(old["citation"], new["citation"]) for old, new in newest.repointed] == [
        ("nava2025modulation", "kohler2018peripheral")
    ]
    assert newest.changed == []
    assert newest.numbers == [(99, "", "kohler2018peripheral")]  # 101 was already resolved
    assert newest.bib_changed == []  # dropping reviewref/source is not a change of the work
    assert newest.bib_added == ["kohler2018peripheral"]
    text = history.whats_new_html(root=root)
    assert "<p>Re-pointed 1 finding to another source" in text
    assert (
        "<li>EV0002: sertraline → TNF-α, decrease: Nava et al. 2025, ref. 99, 101 → "
        "Köhler &amp; Freitas 2018, ref. 99</li>"
    ) in text
    assert (
        "<p>Identified the work behind 1 reference number of the source article:</p><ul><li>[99] Köhler"
        in text
    )
    assert "<li>EV0004: sertraline → TNF-α, decrease" in text
    assert "Updated" not in text


def test_number_no_longer_identified_is_listed(tmp_path):
    root = tmp_path / "review"
    (root / "data").mkdir(parents=True)
    (root / "_toc.yml").write_text("root: book/index\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    write(root, HEADER + ROW1, NAVA + SUTCIGIL)
    (root / "data" / "reference_map.csv").write_text(
        MAP_HEADER + "140,sutcigil2007pro,exact,,book/antidepressants/ndri,x\n", encoding="utf-8"
    )
    git(root, "add", "-A")
    git(root, "commit", "-qm", "One number")
    (root / "data" / "reference_map.csv").write_text(
        MAP_HEADER + "140,,unresolved,,book/antidepressants/ndri,did not fit\n", encoding="utf-8"
    )
    git(root, "commit", "-qam", "Doubtful identity settled", date="2026-02-01T12:00:00+00:00")
    text = history.whats_new_html(root=root)
    assert "1 reference number no longer identified" in text
    assert "<li>[140] was Sutcigil et al. 2007</li>" in text
