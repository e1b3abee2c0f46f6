"""The version lives in one place; the stamp, CITATION.cff and the book's BibTeX follow it."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import neuroimmune_review
from neuroimmune_review import version
from neuroimmune_review.bib import parse_bibliography

REPO = Path(__file__).resolve().parents[1]
BUMP = REPO / "scripts" / "bump_version.py"
HAS_GIT = shutil.which("git") is not None


def cffconvert() -> str:
    found = shutil.which("cffconvert", path=str(Path(sys.executable).parent)) or shutil.which(
        "cffconvert"
    )
    if not found:
        pytest.fail("cffconvert is not installed (it is pinned in requirements.txt)")
    return found


def git(root: Path, *args: str, date: str | None = None) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.org",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.org",
    }
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    return subprocess.run(
        ["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True
    ).stdout


def test_version_format_and_single_source():
    assert re.fullmatch(r"\d{4}\.\d+\.\d+", neuroimmune_review.__version__)
    assert version.read_version() == neuroimmune_review.__version__
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "neuroimmune_review.__version__"
    }


def test_citation_cff_and_datapackage_agree_with_the_package():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    assert str(cff["version"]) == neuroimmune_review.__version__
    assert cff["license"] == "CC-BY-4.0"
    dois = [ref.get("doi") for ref in cff.get("references", [])] + [
        cff.get("preferred-citation", {}).get("doi")
    ]
    assert "10.1038/s41398-025-03532-y" in dois
    package = json.loads((REPO / "data" / "datapackage.json").read_text(encoding="utf-8"))
    if "version" in package:
        assert package["version"] == neuroimmune_review.__version__


def test_citation_cff_is_valid():
    done = subprocess.run(
        [cffconvert(), "--validate", "-i", str(REPO / "CITATION.cff")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "current,part,today,expected",
    [
        ("2026.1.0", "minor", "2026-05-01", "2026.2.0"),
        ("2026.2.3", "minor", "2026-05-01", "2026.3.0"),
        ("2026.2.3", "patch", "2026-05-01", "2026.2.4"),
        ("2026.4.1", "minor", "2027-01-10", "2027.1.0"),
        ("2026.4.1", "patch", "2027-01-10", "2026.4.2"),
    ],
)
def test_bumped(current, part, today, expected):
    assert version.bumped(current, part, dt.date.fromisoformat(today)) == expected


def test_bad_versions_are_refused():
    with pytest.raises(ValueError):
        version.parse_version("1.2")
    with pytest.raises(ValueError):
        version.bumped("2026.1.0", "major")


def test_bump_script_rewrites_every_place_together(tmp_path):
    (tmp_path / "src" / "neuroimmune_review").mkdir(parents=True)
    (tmp_path / "data").mkdir()
    for rel in ("src/neuroimmune_review/__init__.py", "CITATION.cff", "data/datapackage.json"):
        shutil.copy(REPO / rel, tmp_path / rel)
    before = {
        rel: (tmp_path / rel).read_text(encoding="utf-8")
        for rel in ("src/neuroimmune_review/__init__.py", "CITATION.cff", "data/datapackage.json")
    }
    old = version.read_version(tmp_path)
    done = subprocess.run(
        [sys.executable, str(BUMP), "minor", "--root", str(tmp_path), "--date", "2099-03-04"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    new = done.stdout.strip()
    assert new == "2099.1.0" and version.read_version(tmp_path) == new
    cff = yaml.safe_load((tmp_path / "CITATION.cff").read_text(encoding="utf-8"))
    assert str(cff["version"]) == new and str(cff["date-released"]) == "2099-03-04"
    package = json.loads((tmp_path / "data" / "datapackage.json").read_text(encoding="utf-8"))
    assert package["version"] == new
    # Nothing but the version (and date) lines changed.
    for rel, text in before.items():
        after = (tmp_path / rel).read_text(encoding="utf-8").splitlines()
        changed = [(a, b) for a, b in zip(text.splitlines(), after, strict=False) if a != b]
        assert len(after) == len(text.splitlines())
        assert all(old in a and new in b for a, b in changed if "date-released" not in a), changed
    valid = subprocess.run(
        [cffconvert(), "--validate", "-i", str(tmp_path / "CITATION.cff")],
        capture_output=True,
        text=True,
    )
    assert valid.returncode == 0, valid.stdout + valid.stderr

    patch = subprocess.run(
        [sys.executable, str(BUMP), "patch", "--root", str(tmp_path), "--date", "2099-03-05"],
        capture_output=True,
        text=True,
    )
    assert patch.returncode == 0 and patch.stdout.strip() == "2099.1.1"


def test_bump_script_usage_error():
    done = subprocess.run([sys.executable, str(BUMP), "major"], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr


def make_data_root(root: Path) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "_toc.yml").write_text("root: index\n", encoding="utf-8")
    (root / "data" / "evidence.csv").write_text(
        "id,intervention\nEV0001,fluoxetine\n", encoding="utf-8"
    )
    (root / "references.bib").write_text("", encoding="utf-8")
    return root


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
def test_stamp_uses_the_last_data_commit(tmp_path):
    root = make_data_root(tmp_path / "review")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "data", date="2026-03-01T12:00:00+00:00")
    (root / "README.md").write_text("prose\n", encoding="utf-8")
    git(root, "add", "README.md")
    git(root, "commit", "-qm", "prose", date="2026-04-15T12:00:00+00:00")
    (root / "data" / ".evidence.lock").write_text("", encoding="utf-8")  # curation lock: not data
    head = git(root, "rev-parse", "--short=7", "HEAD").strip()
    data_commit = git(root, "rev-parse", "--short=7", "HEAD~1").strip()
    stamp = version.stamp(root)
    assert stamp == {
        "date": "2026-03-01",
        "version": neuroimmune_review.__version__,
        "commit": head,
        "data_commit": data_commit,
        "uncommitted": False,
    }
    # The stamp names the evidence commit, the same id How to cite gives, not HEAD.
    assert version.stamp_text(root) == (
        f"Evidence as of 2026-03-01 · version {neuroimmune_review.__version__} · evidence commit {data_commit}"
    )
    assert head not in version.stamp_text(root)


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
def test_stamp_with_uncommitted_data_uses_file_times(tmp_path):
    root = make_data_root(tmp_path / "review")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "data", date="2026-03-01T12:00:00+00:00")
    with (root / "data" / "evidence.csv").open("a", encoding="utf-8") as handle:
        handle.write("EV0002,sertraline\n")
    stamp = version.stamp(root)
    assert stamp["uncommitted"] and stamp["date"] == dt.date.today().isoformat()
    assert version.stamp_text(root).endswith("with uncommitted data changes")


def test_stamp_without_git_history(tmp_path, monkeypatch):
    root = make_data_root(tmp_path / "review")
    stamp_time = dt.datetime(2025, 7, 9, 12).timestamp()
    for file in (root / "data" / "evidence.csv", root / "references.bib"):
        os.utime(file, (stamp_time, stamp_time))
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert version.stamp(root)["date"] == "2025-07-09"
    assert version.stamp_text(root) == (
        f"Evidence as of 2025-07-09 · version {neuroimmune_review.__version__} · commit not recorded"
    )
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef")
    assert version.stamp(root)["commit"] == "0123456"


def test_book_bibtex_is_valid_and_current():
    stamp = {"date": "2026-11-21", "version": "2026.3.1", "commit": "abc1234", "uncommitted": False}
    text = version.book_bibtex(REPO, stamp)
    parsed = parse_bibliography(text)
    assert not parsed.failed and len(parsed.entries) == 1
    key, fields = next(iter(parsed.entries.items()))
    assert re.fullmatch(r"[a-z]+2026[a-z]+", key)
    assert fields["version"] == "2026.3.1" and fields["year"] == "2026"
    assert "abc1234" in fields["note"] and "2026-11-21" in fields["note"]
    assert fields["author"] == "{The living-review editors}"
    assert fields["title"].startswith("Antidepressants and neuroimmune cytokine networks")


def test_stamp_queries_are_tracked():
    from neuroimmune_review import provenance

    assert "neuroimmune_review.version.current_stamp" in provenance._QUERIES
    assert "neuroimmune_review.version.evidence_state" in provenance._QUERIES


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
def test_evidence_state_ignores_prose_commits(tmp_path, monkeypatch):
    root = make_data_root(tmp_path / "review")
    monkeypatch.setenv("REVIEW_ROOT", str(root))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "data", date="2026-03-01T12:00:00+00:00")
    before = version.evidence_state()
    (root / "README.md").write_text("prose\n", encoding="utf-8")
    git(root, "add", "README.md")
    git(root, "commit", "-qm", "prose", date="2026-04-15T12:00:00+00:00")
    assert version.evidence_state() == before
    with (root / "data" / "evidence.csv").open("a", encoding="utf-8") as handle:
        handle.write("EV0002,sertraline\n")
    git(root, "commit", "-qam", "more data", date="2026-05-01T12:00:00+00:00")
    after = version.evidence_state()
    assert after["date"] == "2026-05-01" and after["commit"] != before["commit"]


def test_how_to_cite_formats_share_one_version_and_one_commit():
    """Plain text, BibTeX and RIS name the same version, evidence date and commit."""
    from neuroimmune_review.curation.importers import _ris_records

    stamp = {"date": "2026-11-21", "version": "2026.3.1", "commit": "abc1234", "uncommitted": False}
    plain = version.book_plain(REPO, stamp)
    bibtex = version.book_bibtex(REPO, stamp)
    ris = version.book_ris(REPO, stamp)
    for text in (plain, bibtex, ris):
        assert "2026.3.1" in text and "abc1234" in text and "2026-11-21" in text
        assert len(set(re.findall(r"\b20\d\d\.\d+\.\d+\b", text))) == 1  # one version
        assert set(re.findall(r"commit ([0-9a-f]{7})", text)) == {"abc1234"}  # one commit
    assert plain.startswith(", ".join(version.editors(REPO)) + ". Antidepressants")
    ((_, tags),) = list(_ris_records(ris))
    fields = dict(tags)
    assert fields["TY"] == "ELEC" and fields["ET"] == "2026.3.1" and fields["PY"] == "2026"
    assert [v for t, v in tags if t == "AU"] == version.editors(REPO)
    assert fields["TI"].startswith("Antidepressants and neuroimmune cytokine networks")
    assert ris.rstrip().endswith("ER  -")


def test_editors_and_repository_come_from_citation_cff(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    (tmp_path / "CITATION.cff").write_text(
        "cff-version: 1.2.0\nauthors:\n  - given-names: Ada\n    family-names: Lovelace\n"
        "  - name: The living-review editors\nrepository-code: https://example.org/review\n",
        encoding="utf-8",
    )
    assert version.editors(tmp_path) == ["Ada Lovelace", "The living-review editors"]
    assert version.repository_url(tmp_path) == "https://example.org/review"
    assert version.contact_url(tmp_path) == (
        "https://example.org/review/issues/new?template=suggest-a-study.yml"
    )
    (tmp_path / "CITATION.cff").write_text("cff-version: 1.2.0\nauthors: []\n", encoding="utf-8")
    assert version.repository_url(tmp_path) == ""  # never guessed
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "owner/review")
    assert version.repository_url(tmp_path) == "https://github.com/owner/review"
    assert (REPO / ".github" / "ISSUE_TEMPLATE" / version.ISSUE_FORM).is_file()
