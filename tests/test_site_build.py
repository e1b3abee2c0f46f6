"""The built site (issue #3): every page is there, the class charts show exactly the CSV's rows,
the chapters are in our own words, and no page loads anything from another host.

Runs on ``_build/html`` (``make test`` builds it first; see ``conftest.built_site``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pytest
from conftest import REPO

CLASS_CALL = re.compile(r"""charts\.class_effects\(\s*["']([^"']+)["']\s*\)""")
OVERLAP_TOOL = REPO.parent / "shared" / "tools" / "source_overlap.py"


# --- Every page of the table of contents --------------------------------------------------


def test_every_toc_page_is_built(built_site, toc_docnames):
    missing = [d for d in toc_docnames if not (built_site / f"{d}.html").is_file()]
    assert not missing, f"pages of _toc.yml missing from {built_site}: {missing}"


def test_toc_pages_have_content(built_site, toc_docnames):
    """A page that exists but lost its body (an include that failed quietly) is caught here."""
    thin = []
    for docname in toc_docnames:
        text = (built_site / f"{docname}.html").read_text(encoding="utf-8")
        main = text.split('<article class="bd-article">', 1)[-1]
        if "<h1" not in main or len(re.sub(r"<[^>]+>", " ", main).split()) < 20:
            thin.append(docname)
    assert not thin, f"pages without a heading or body text: {thin}"


# --- Class charts match the CSV -----------------------------------------------------------


def chart_specs(page: Path) -> list[dict]:
    """The Vega specs embedded in a built page (``script.review-chart__spec`` blocks)."""
    text = page.read_text(encoding="utf-8")
    blocks = re.findall(
        r'<script type="application/json" class="review-chart__spec"[^>]*>(.*?)</script>',
        text,
        flags=re.S,
    )
    return [json.loads(block) for block in blocks]


def class_pages() -> dict[str, str]:
    """docname -> drug class, for every chapter that draws ``charts.class_effects(...)``."""
    found = {}
    for source in sorted((REPO / "book").rglob("*.md")):
        match = CLASS_CALL.search(source.read_text(encoding="utf-8"))
        if match:
            found[source.relative_to(REPO).with_suffix("").as_posix()] = match.group(1)
    return found


def csv_rows_per_class() -> pd.Series:
    read = dict(dtype=str, keep_default_na=False, encoding="utf-8")
    evidence = pd.read_csv(REPO / "data" / "evidence.csv", **read)
    interventions = pd.read_csv(REPO / "data" / "interventions.csv", **read)[["name", "drug_class"]]
    joined = evidence.merge(interventions, left_on="intervention", right_on="name", how="left")
    return joined["drug_class"].fillna("").value_counts()


def findings_in_chart_data(spec: dict) -> int:
    """Sum of the count field ``n`` over the data the chart draws.

    The page embeds Vega (compiled from Vega-Lite at build time): data sets are
    ``data[i].values``, and a count computed from another field is a ``formula`` transform.
    Handles plain records (one dict per aggregate) and the columnar, dictionary-coded form of
    ``charts._compact_chart`` (one record of column lists, expanded by ``flatten``; ``n`` is
    computed as ``datum._cK``).
    """
    datasets = [d for d in spec.get("data", []) if isinstance(d.get("values"), list)]
    records = [row for d in datasets for row in d["values"]]
    if records and all("n" in row for row in records):
        return sum(int(row["n"]) for row in records)
    n_source = [
        t["expr"].removeprefix("datum.")
        for d in spec.get("data", [])
        for t in d.get("transform", [])
        if t.get("type") == "formula"
        and t.get("as") == "n"
        and re.fullmatch(r"datum\.\w+", t.get("expr", ""))
    ]
    assert n_source, "cannot find the findings count `n` in the chart's data"
    return sum(int(v) for row in records for v in row[n_source[0]])


def test_every_page_keeps_the_theme_page_scripts(built_site, toc_docnames):
    """Dropping unused assets must not drop the theme's inline scripts (its page name)."""
    missing = [
        d
        for d in toc_docnames
        if f"DOCUMENTATION_OPTIONS.pagename = '{d}';"
        not in (built_site / f"{d}.html").read_text(encoding="utf-8")
    ]
    assert not missing, f"pages without the theme's pagename script: {missing}"


def test_every_drug_class_has_a_chart_page(toc_docnames):
    from neuroimmune_review import data

    pages = class_pages()
    assert sorted(pages.values()) == sorted(data.DRUG_CLASSES), pages
    assert set(pages) <= set(toc_docnames), "a class chapter is not in _toc.yml"


@pytest.mark.parametrize("docname,drug_class", sorted(class_pages().items()))
def test_class_chart_matches_csv(built_site, docname, drug_class):
    expected = int(csv_rows_per_class().get(drug_class, 0))
    specs = [
        s
        for s in chart_specs(built_site / f"{docname}.html")
        if drug_class in str(s.get("title", ""))
    ]
    assert len(specs) == 1, (
        f"{docname}: expected one chart titled with {drug_class!r}, found {len(specs)}"
    )
    spec = specs[0]
    assert spec["usermeta"]["review"]["rows"] == expected, (
        f"{docname}: chart says {spec['usermeta']['review']['rows']} findings, evidence.csv has {expected}"
    )
    drawn = findings_in_chart_data(spec)
    assert drawn == expected, (
        f"{docname}: the chart's data sum to {drawn} findings, evidence.csv has {expected}"
    )


# --- In our own words ---------------------------------------------------------------------


def test_source_overlap_check_passes():
    # The check lives in the workspace's shared/ folder beside the repository (as in CI).
    assert OVERLAP_TOOL.is_file(), (
        f"{OVERLAP_TOOL} is missing: clone the repository next to shared/"
    )
    result = subprocess.run(
        [sys.executable, str(OVERLAP_TOOL), "book/"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


# --- Nothing from another host ------------------------------------------------------------

CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""", re.I)
RESOURCE_ATTRIBUTES = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
    "image": ("href", "xlink:href"),
    "use": ("href", "xlink:href"),
    "frame": ("src",),
}


def is_external(url: str) -> bool:
    url = url.strip()
    if url.startswith("//"):
        return True
    parts = urlsplit(url)
    return bool(parts.netloc) or parts.scheme not in ("", "data")


class ResourceCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str]] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in RESOURCE_ATTRIBUTES.get(tag, ()):
            value = attrs.get(name)
            if not value:
                continue
            candidates = (
                [c.strip().split()[0] for c in value.split(",") if c.strip()]
                if name == "srcset"
                else [value]
            )
            self.urls += [(f"<{tag} {name}>", c) for c in candidates]
        if attrs.get("style"):
            self.urls += [(f"<{tag} style>", m[1] or m[3]) for m in CSS_URL.findall(attrs["style"])]
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.urls += [("<style>", m[1] or m[3]) for m in CSS_URL.findall(data)]


def test_no_page_loads_resources_from_another_host(built_site, site_pages):
    offenders = []
    for page in site_pages:
        collector = ResourceCollector()
        collector.feed((built_site / page).read_text(encoding="utf-8"))
        offenders += [
            f"{page}: {where} -> {url}" for where, url in collector.urls if is_external(url)
        ]
    assert not offenders, "resources from other hosts:\n" + "\n".join(offenders[:50])


def test_stylesheets_load_nothing_from_another_host(built_site):
    offenders = []
    for sheet in sorted(built_site.rglob("*.css")):
        for match in CSS_URL.findall(sheet.read_text(encoding="utf-8", errors="replace")):
            url = match[1] or match[3]
            if is_external(url):
                offenders.append(f"{sheet.relative_to(built_site)}: {url}")
    assert not offenders, "stylesheets pointing to other hosts:\n" + "\n".join(offenders[:50])
