"""Curator text cannot run in a reader's browser (issue #5).

A fixture data set, generated at test time from the real data (so it follows schema changes), puts
HTML and JavaScript payloads into every free-text field the site shows: the CSV's ``sample``,
``dose`` and ``note`` and a bibliography title (plus the entry's ``url``). A reduced site (one
class chapter, the References page and "About the data"; the other pages of the toc are one-line
stubs, as the validator checks chapters against the toc) is built from it in a temporary folder.
In the browser: no dialog opens, no injected element or attribute appears, chart tooltips stay
text, and the payloads are shown literally. The real data are only read.

The payloads are listed in ``tests/fixtures/xss/payloads.json``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, WAIT_FOR_CHARTS, PageWatcher, toc_documents

FIXTURE = Path(__file__).parent / "fixtures" / "xss"
PAYLOADS: dict = json.loads((FIXTURE / "payloads.json").read_text(encoding="utf-8"))
TEXT_PAYLOADS: list[str] = PAYLOADS["text"]
BIB_TITLE: str = PAYLOADS["bib_title"]
BIB_URL: str = PAYLOADS["bib_url"]
CLASS = "SSRI"
CLASS_PAGE = "book/antidepressants/ssri"
KEPT_PAGES = [CLASS_PAGE, "book/about/references", "book/about/about-data"]
COPIED = ("_config.yml", "_toc.yml", "references.bib")
READ = dict(dtype=str, keep_default_na=False, encoding="utf-8")


# --- The fixture data set and its site ----------------------------------------------------


def inject_payloads(root: Path, url: bool = True) -> str:
    """Rewrite root/data and root/references.bib with payloads; returns the bib key changed."""
    evidence_path = root / "data" / "evidence.csv"
    evidence = pd.read_csv(evidence_path, **READ)
    interventions = pd.read_csv(root / "data" / "interventions.csv", **READ)
    in_class = set(interventions.loc[interventions["drug_class"] == CLASS, "name"])
    rows = evidence.index[evidence["intervention"].isin(in_class)]
    assert len(rows) >= 3, f"the real data have too few {CLASS} findings for the fixture"
    n = len(TEXT_PAYLOADS)
    for i, row in enumerate(rows):
        # Every payload reaches every field; the id keeps findings distinct for the duplicate check.
        evidence.loc[row, "sample"] = f"{TEXT_PAYLOADS[i % n]} {evidence.loc[row, 'id']}"
        evidence.loc[row, "dose"] = TEXT_PAYLOADS[(i + 1) % n]
        evidence.loc[row, "note"] = TEXT_PAYLOADS[(i + 2) % n]
    evidence.to_csv(evidence_path, index=False, encoding="utf-8")

    # A work cited by the class's findings gets a hostile title and url.
    keys = [
        k.strip() for cell in evidence.loc[rows, "citation"] for k in cell.split(";") if k.strip()
    ]
    key = next(k for k in keys if k != "nava2025modulation")
    bib = (root / "references.bib").read_text(encoding="utf-8")
    start = bib.index(f"{{{key},")
    end = bib.index("\n}", start)
    entry = bib[start:end]
    lines = [line for line in entry.splitlines() if not line.strip().startswith(("title", "url"))]
    lines.insert(1, f"  title = {{{BIB_TITLE}}},")
    if url:
        lines.insert(2, f"  url = {{{BIB_URL}}},")
    (root / "references.bib").write_text(
        bib[:start] + "\n".join(lines) + bib[end:], encoding="utf-8"
    )
    return key


def url_rejected_by_validation(root: Path) -> bool:
    """Does the validator (run first by every build) refuse the ``javascript:`` url?"""
    from neuroimmune_review.validate import validate_root

    return any(
        p.severity == "error"
        and p.path.endswith(".bib")
        and ("url" in p.field or "url" in p.message)
        for p in validate_root(root)
    )


def make_fixture_root(root: Path) -> tuple[str, bool]:
    """The fixture review under *root*: returns (bib key with payloads, url refused by validation)."""
    root.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        shutil.copy2(REPO / name, root / name)
    shutil.copytree(REPO / "data", root / "data", ignore=shutil.ignore_patterns(".*"))
    # The site's template overrides, so the fixture site is built like the real one.
    templates = REPO / "src" / "neuroimmune_review" / "build" / "templates"
    if templates.is_dir():
        shutil.copytree(templates, root / "src" / "neuroimmune_review" / "templates")
    for page in toc_documents(root):
        target = root / f"{page}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        if page in KEPT_PAGES:
            shutil.copy2(REPO / f"{page}.md", target)
        else:
            target.write_text(
                f"# {page.rsplit('/', 1)[-1]}\n\nNot part of the security fixture.\n",
                encoding="utf-8",
            )
    shutil.copy2(REPO / "references.bib", root / "references.bib")
    key = inject_payloads(root, url=True)
    if url_rejected_by_validation(root):
        # A build would stop here, which is safe; build the rest of the fixture without that url.
        shutil.copy2(REPO / "references.bib", root / "references.bib")
        shutil.copytree(
            REPO / "data", root / "data", dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*")
        )
        return inject_payloads(root, url=False), True
    return key, False


@pytest.fixture(scope="module")
def xss_site(tmp_path_factory, build_site):
    root = tmp_path_factory.mktemp("xss-site")
    key, url_refused = make_fixture_root(root)
    return build_site(root), key, url_refused


def test_fixture_leaves_the_real_data_alone(tmp_path):
    before = {
        p: p.read_bytes()
        for p in [REPO / "references.bib", *sorted((REPO / "data").rglob("*.csv"))]
    }
    key, _url_refused = make_fixture_root(tmp_path / "root")
    assert key in (tmp_path / "root" / "references.bib").read_text(encoding="utf-8")
    assert before == {p: p.read_bytes() for p in before}
    changed = pd.read_csv(tmp_path / "root" / "data" / "evidence.csv", **READ)
    for payload in TEXT_PAYLOADS:
        for column in ("sample", "dose", "note"):
            assert changed[column].str.contains(payload, regex=False).any(), (payload, column)


# --- In the browser -----------------------------------------------------------------------

# Executable traces of an injection anywhere in the document.
INJECTED = """() => {
  const found = [];
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.getAttributeNames()) {
      if (/^on/i.test(attr)) found.push(`${el.tagName} has ${attr}="${el.getAttribute(attr)}"`);
      const value = el.getAttribute(attr) || "";
      if (/^(href|src|action|formaction|xlink:href|data)$/i.test(attr) && /^\\s*javascript:/i.test(value))
        found.push(`${el.tagName} ${attr}=${value}`);
    }
  }
  for (const img of document.images) {
    if (/\\/x$/.test(img.src)) found.push(`injected <img src=${img.getAttribute("src")}>`);
  }
  for (const s of document.scripts) {
    const type = (s.type || "").toLowerCase();
    const runs = !type || type === "module" || type.includes("javascript");
    if (runs && s.textContent.includes("alert(")) found.push("executable <script> holding alert(");
  }
  if (window.__xss) found.push("window.__xss was set: " + window.__xss);
  return found;
}"""


def visit(browser, base: str, path: str, action=None) -> dict:
    context = browser.new_context()
    page = context.new_page()
    watcher = PageWatcher(page, base)
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        page.goto(base + path, wait_until="load")
        drawn = page.evaluate(WAIT_FOR_CHARTS)
        extra = action(page) if action else None
        page.wait_for_timeout(300)  # let any delayed handler (onerror of a failed image) fire
        return {
            "dialogs": dialogs,
            "injected": page.evaluate(INJECTED),
            "drawn": drawn,
            "text": page.inner_text("main")
            if page.locator("main").count()
            else page.inner_text("body"),
            "problems": watcher.problems(),
            "extra": extra,
        }
    finally:
        context.close()


def assert_safe(result: dict, where: str) -> None:
    assert not result["dialogs"], f"{where}: a dialog opened: {result['dialogs']}"
    assert not result["injected"], f"{where}: injected markup: {result['injected']}"
    assert result["drawn"], f"{where}: the charts were not drawn"
    # External requests would include an injected <img src=//host/...>; page errors a broken script.
    assert not result["problems"].get("requests to other hosts"), result["problems"]
    assert not result["problems"].get("page errors"), result["problems"]


def hover_marks(page) -> list[dict]:
    """Hover the first marks of the chart and read the tooltip each time."""
    seen = []
    marks = page.locator(".review-chart__canvas svg g.role-mark path")
    for i in range(min(marks.count(), 4)):
        marks.nth(i).hover(force=True)
        page.wait_for_timeout(150)
        seen.append(
            page.evaluate("""() => {
            const tip = document.getElementById("vg-tooltip-element");
            return tip ? {text: tip.textContent, elements: [...tip.querySelectorAll("img, script, iframe, svg, a")]
                .map((e) => e.tagName)} : null; }""")
        )
    return [s for s in seen if s]


def test_class_page_shows_payloads_as_text(browser, serve, xss_site):
    site, _key, _url_refused = xss_site
    with serve(site) as base:
        result = visit(browser, base, f"{CLASS_PAGE}.html", action=hover_marks)
    assert_safe(result, CLASS_PAGE)
    for payload in TEXT_PAYLOADS:
        assert payload in result["text"], f"{CLASS_PAGE}: payload not shown literally: {payload!r}"
    tooltips = result["extra"]
    assert tooltips, "no chart tooltip appeared on hover"
    assert not [t for t in tooltips if t["elements"]], f"markup inside a tooltip: {tooltips}"
    assert any(p in t["text"] for t in tooltips for p in TEXT_PAYLOADS), (
        f"tooltips do not show the sample text literally: {[t['text'][:200] for t in tooltips]}"
    )


def test_references_page_shows_the_title_as_text(browser, serve, xss_site):
    site, key, _url_refused = xss_site
    with serve(site) as base:
        result = visit(browser, base, "book/about/references.html")
    # The entry's javascript: url is the subject of its own test below.
    result["injected"] = [i for i in result["injected"] if i != f"A href={BIB_URL}"]
    assert_safe(result, "references")
    text = result["text"].lower()
    assert BIB_TITLE.lower() in text, f"the hostile title of {key} is not shown literally"


def test_bibliography_url_cannot_become_a_script_link(browser, serve, xss_site):
    """A ``javascript:`` url in references.bib must be refused by validation or not become a link."""
    site, key, url_refused = xss_site
    if url_refused:
        return
    with serve(site) as base:
        context = browser.new_context()
        page = context.new_page()
        PageWatcher(page, base)
        page.goto(base + "book/about/references.html", wait_until="load")
        links = page.evaluate("""() => [...document.querySelectorAll("a[href]")]
            .map((a) => a.getAttribute("href")).filter((h) => /^\\s*javascript:/i.test(h))""")
        context.close()
    assert not links, (
        f"references.bib entry {key} has url = {{{BIB_URL}}}; the validator accepts it and the References "
        f"page renders it as a clickable link {links}. Reject non-http(s) urls in validation."
    )


def test_about_data_page_is_safe(browser, serve, xss_site):
    site, _key, _url_refused = xss_site
    with serve(site) as base:
        result = visit(browser, base, "book/about/about-data.html")
    assert_safe(result, "about-data")


def test_payloads_are_escaped_in_the_html(xss_site):
    site, _key, _url_refused = xss_site
    html = (site / f"{CLASS_PAGE}.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html and "<script>alert(1)" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
