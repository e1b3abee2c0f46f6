"""HTML validity and links of the built site (issue #5).

* The Nu Html Checker (npm package ``vnu-jar``, run with Java in one invocation over every page)
  reports no error, except the theme/tool errors documented in ``tests/html_allowlist.md``.
* Every internal link and anchor resolves (offline: files and ids in the built HTML).
* DOI links are well formed: ``https://doi.org/10.NNNN/...``.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import pytest
from conftest import REPO, toc_documents

VNU_JAR = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
ALLOWLIST = Path(__file__).with_name("html_allowlist.md")
DOI_URL = re.compile(r"^https://doi\.org/10\.\d{4,9}/[^\s\"<>]+$")
DOI_FIELD = re.compile(r"^10\.\d{4,9}/\S+$")


# --- Nu Html Checker ----------------------------------------------------------------------


def load_allowlist() -> list[dict[str, str]]:
    """Rows of the Markdown table in html_allowlist.md: file glob, message regex, reason."""
    rows = []
    for line in ALLOWLIST.read_text(encoding="utf-8").splitlines():
        cells = (
            [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        )
        if len(cells) != 3 or cells[0] in ("file", "") or set(cells[0]) <= set("-"):
            continue
        file, message, reason = (c.strip("`") if i < 2 else c for i, c in enumerate(cells))
        rows.append({"file": file, "message": message, "reason": reason})
    return rows


def test_allowlist_is_short_documented_and_spares_project_pages():
    rows = load_allowlist()
    assert len(rows) <= 10, "the allowlist is meant to stay short: fix the site instead"
    content_pages = [f"{d}.html" for d in toc_documents(REPO)]
    for row in rows:
        re.compile(row["message"])
        assert len(row["reason"]) >= 30, f"allowlist entry without a reason: {row}"
        hit = [p for p in content_pages if fnmatch.fnmatch(p, row["file"])]
        assert not hit, (
            f"allowlist entry {row['file']!r} covers project pages {hit[:5]}: fix them instead"
        )


@pytest.fixture(scope="module")
def vnu_messages(built_site, site_pages) -> list[dict]:
    java = shutil.which("java")
    if java is None:
        pytest.fail("java not found: install a JRE (make system-deps)", pytrace=False)
    if not VNU_JAR.is_file():
        pytest.fail(
            f"{VNU_JAR} missing: run `npm ci` in the repository (make test does)", pytrace=False
        )
    result = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *site_pages],
        cwd=built_site,
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        report = json.loads(result.stderr or result.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"vnu did not answer in JSON (exit {result.returncode}):\n{result.stderr[-3000:]}"
        )
    for message in report["messages"]:
        url = message.get("url", "")
        message["page"] = (
            Path(unquote(urlsplit(url).path)).resolve().relative_to(built_site).as_posix()
            if url.startswith("file:")
            else url
        )
    return report["messages"]


def test_nu_html_checker_finds_no_errors(vnu_messages):
    allow = load_allowlist()
    errors = [
        m
        for m in vnu_messages
        if m.get("type") in ("error", "non-document-error") or m.get("subType") == "fatal"
    ]
    unexplained = [
        m
        for m in errors
        if not any(
            fnmatch.fnmatch(m["page"], a["file"]) and re.search(a["message"], m.get("message", ""))
            for a in allow
        )
    ]
    lines = [
        f"{m['page']}:{m.get('lastLine', '?')}: {m.get('message')}\n    {m.get('extract', '')[:160]!r}"
        for m in unexplained[:40]
    ]
    assert not unexplained, f"{len(unexplained)} HTML error(s):\n" + "\n".join(lines)


# --- Links and anchors --------------------------------------------------------------------


class LinkCollector(HTMLParser):
    LINKING = {
        "a": "href",
        "area": "href",
        "link": "href",
        "script": "src",
        "img": "src",
        "iframe": "src",
        "source": "src",
        "form": "action",
    }

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        name = self.LINKING.get(tag)
        if name and attrs.get(name) is not None:
            self.links.append((tag, attrs[name]))


def parse_pages(site: Path, pages) -> dict[str, LinkCollector]:
    parsed = {}
    for page in pages:
        collector = LinkCollector()
        collector.feed((site / page).read_text(encoding="utf-8"))
        parsed[page] = collector
    return parsed


@pytest.fixture(scope="module")
def parsed_pages(built_site, site_pages) -> dict[str, LinkCollector]:
    return parse_pages(built_site, site_pages)


def broken_links(site: Path, parsed_pages: dict[str, LinkCollector]) -> tuple[int, list[str]]:
    """How many internal links the pages hold, and the ones whose file or anchor is missing."""
    broken = []
    checked = 0
    for page, collector in parsed_pages.items():
        for tag, href in collector.links:
            parts = urlsplit(href.strip())
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:")):
                continue
            if tag == "form":
                continue
            target = (
                page
                if not parts.path
                else (PurePosixPath(page).parent / unquote(parts.path)).as_posix()
            )
            resolved = (site / target).resolve()
            checked += 1
            if resolved.is_dir():
                resolved = resolved / "index.html"
            if site.resolve() not in resolved.parents and resolved != site.resolve():
                broken.append(f"{page}: {href} leaves the site")
                continue
            if not resolved.is_file():
                broken.append(f"{page}: <{tag}> {href} -> missing file")
                continue
            fragment = unquote(parts.fragment)
            if fragment and resolved.suffix == ".html":
                key = resolved.relative_to(site.resolve()).as_posix()
                ids = parsed_pages[key].ids if key in parsed_pages else set()
                if fragment not in ids:
                    broken.append(f"{page}: {href} -> no id {fragment!r} in {key}")
    return checked, broken


# The weekly workflow runs this test on its clean rebuild (its "Check links" step).
def test_internal_links_and_anchors_resolve(built_site, parsed_pages):
    checked, broken = broken_links(built_site, parsed_pages)
    assert checked > 100, f"only {checked} internal links found: is the site complete?"
    assert not broken, f"{len(broken)} broken internal link(s):\n" + "\n".join(broken[:60])


def test_link_check_finds_missing_files_and_anchors(tmp_path):
    site = tmp_path / "html"
    (site / "about").mkdir(parents=True)
    (site / "_static").mkdir()
    (site / "_static" / "logo.png").write_bytes(b"png")
    (site / "index.html").write_text(
        '<a href="about/data.html#files">ok</a><a href="https://example.org/x">external</a>'
        '<img src="_static/logo.png"><a href="#top" id="top">self</a>',
        encoding="utf-8",
    )
    data = site / "about" / "data.html"
    data.write_text('<h2 id="files">Files</h2><a href="../index.html">home</a>', encoding="utf-8")
    pages = ["index.html", "about/data.html"]
    assert broken_links(site, parse_pages(site, pages)) == (4, [])
    data.write_text(
        '<h2 id="files">Files</h2><a href="../missing.html">gone</a>'
        '<a href="../index.html#nowhere">bad anchor</a><a href="../../x.html">out</a>',
        encoding="utf-8",
    )
    _, broken = broken_links(site, parse_pages(site, pages))
    assert broken == [
        "about/data.html: <a> ../missing.html -> missing file",
        "about/data.html: ../index.html#nowhere -> no id 'nowhere' in index.html",
        "about/data.html: ../../x.html leaves the site",
    ]


def test_doi_links_are_well_formed(parsed_pages):
    bad, found = [], 0
    for page, collector in parsed_pages.items():
        for _tag, href in collector.links:
            if "doi.org" in href or href.lower().startswith("doi:"):
                found += 1
                if not DOI_URL.match(href):
                    bad.append(f"{page}: {href}")
    assert found, "no DOI links at all: the References page should have them"
    assert not bad, "malformed DOI links:\n" + "\n".join(sorted(set(bad))[:40])


def test_bibliography_dois_are_well_formed():
    from neuroimmune_review.bib import load_bibliography

    entries = load_bibliography(REPO / "references.bib").entries
    bad = {
        key: e["doi"]
        for key, e in entries.items()
        if e.get("doi") and not DOI_FIELD.match(e["doi"])
    }
    assert not bad, f"DOIs in references.bib that are not 10.NNNN/...: {bad}"
