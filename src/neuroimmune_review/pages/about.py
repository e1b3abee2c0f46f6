"""The "About the data" page: data dictionary, downloads and the reference quality report."""

from __future__ import annotations

import functools
import html
import json
from pathlib import Path

import altair as alt
import pandas as pd

from .. import data, paths, provenance
from ..render import Figure, Table, markdown
from ..text import escape_markdown
from . import current, palette
from .downloads import DOWNLOADS, DOWNLOADS_DIR
from .suggest import SUGGEST_FORM, suggest_form_url  # noqa: F401 - SUGGEST_FORM: its old home


@provenance.tracked(reads=("data/datapackage.json",))
def datapackage() -> dict:
    return json.loads((paths.data_dir() / "datapackage.json").read_text(encoding="utf-8"))


def _allowed(field: dict) -> str:
    constraints = field.get("constraints", {})
    if "enum" in constraints:
        return ", ".join(constraints["enum"])
    if "pattern" in constraints:
        return f"pattern {constraints['pattern']}"
    return ""


def data_dictionary(resource: str) -> Table:
    """One resource's fields as described in data/datapackage.json."""
    package = datapackage()
    spec = next(r for r in package["resources"] if r["name"] == resource)
    fields = spec["schema"]["fields"]
    frame = pd.DataFrame(
        {
            "Field": [f["name"] for f in fields],
            "Type": [f.get("type", "string") for f in fields],
            "Required": ["yes" if f.get("constraints", {}).get("required") else "" for f in fields],
            "Allowed values": [_allowed(f) for f in fields],
            "Description": [f.get("description", "") for f in fields],
        }
    )
    return Table(frame, f"Data dictionary: {spec.get('path', resource)}")


def claim_type_counts() -> Table:
    """Rows and distinct sources of each claim type, in the order of data/datapackage.json."""
    from .counts import sources_and_rows, sources_phrase

    rows = data.evidence()
    labels = data.claim_type_labels()
    # Performance: one grouping instead of one filtered copy of the join per claim type (each
    # copied every column of 357,000 rows at 1000x: 0.4 s); the same counts as sources_phrase.
    counts = rows.groupby("claim_type", sort=False)["source_id"].agg(["nunique", "size"])
    frame = pd.DataFrame(
        {
            "Claim type": list(labels.values()),
            "Value in claim_type": list(labels),
            "Sources (rows)": [
                sources_and_rows(int(counts.at[c, "nunique"]), int(counts.at[c, "size"]))
                if c in counts.index
                else sources_and_rows(0, 0)
                for c in labels
            ],
            "Counted by the syntheses of what antidepressants do": [
                "yes" if c == "intervention_effect" else "no" for c in labels
            ],
        }
    )
    return Table(frame, f"Claim types in the evidence ({sources_phrase(rows)} in all)")


def resources() -> list[str]:
    return [r["name"] for r in datapackage()["resources"]]


def downloads():
    """Links to the data files published with the site."""
    from IPython.display import HTML

    base = current.href_to(DOWNLOADS_DIR)
    present = [
        name
        for name in DOWNLOADS
        if (
            paths.find_root() / ("references.bib" if name.endswith(".bib") else f"data/{name}")
        ).is_file()
    ]
    items = "".join(
        f'<li><a href="{html.escape(base)}/{html.escape(name)}" download>{html.escape(name)}</a>: '
        f"{html.escape(DOWNLOADS[name])}</li>"
        for name in present
    )
    return HTML(f'<ul class="review-downloads">{items}</ul>')


def reference_quality():
    """How many of the source article's reference numbers are resolved to a confirmed work."""
    from ..bib import format_number_ranges, reference_report
    from ..reference_map import keys_by_number

    data.references()  # records the bibliography as an input of this page
    mapping = reference_map()
    report = reference_report(
        data.bibliography(), data.evidence(), keys_by_number=keys_by_number(mapping)
    )
    confidence = mapping["confidence"].value_counts()
    lines = [
        f"The bibliography holds **{report['entry_count']} entries**. Of the source article's "
        f"{report['reference_count']} reference numbers, **{report['resolved_count']} are resolved** to a work "
        f"confirmed in a public record ({report['resolved_percent']}%): {int(confidence.get('exact', 0))} exactly "
        "(an author the article names, or a single-number citation whose finding matches the record) and "
        f"{int(confidence.get('probable', 0))} probably (the work fits, but the number sits in a group citation "
        f"or the match rests on the topic). {report['unresolved_count']} are not yet resolved.",
        "",
        f"{report['source_only_count']} of {report['evidence_rows']} findings still cite only the source article, "
        "because the primary study behind their reference number has not been confirmed; they keep the number in "
        "`review_ref`, so the gap stays visible.",
    ]
    if report["unresolved"]:
        lines += [
            "",
            "Unresolved reference numbers: "
            + escape_markdown(format_number_ranges(report["unresolved"]))
            + ".",
        ]
    return markdown("\n".join(lines))


def data_dictionaries():
    """The dictionary of every resource in the data package, so new tables appear automatically."""
    from IPython.display import HTML

    return HTML("".join(data_dictionary(name)._repr_html_() for name in resources()))


# ---------------------------------------------------------------------------
# The source article's reference numbers: coverage per chapter and what is still open

# Resolved and unresolved bars (Okabe-Ito blue and grey; the legend also names them).
COVERAGE_COLOURS = {"Resolved": palette.BLUE, "Unresolved": "#BBBBBB"}


@provenance.tracked(reads=("data/reference_map.csv",))
def reference_map() -> pd.DataFrame:
    """Tracked query: the map of the source article's reference numbers (data/reference_map.csv)."""
    from ..reference_map import MAP_RESOURCE

    return data.table(name=MAP_RESOURCE)


def _toc_chapters() -> list[str]:
    """Chapter files in _toc.yml order."""
    toc = paths.find_root() / "_toc.yml"
    stat = toc.stat()
    return list(_chapters_of_toc(str(toc), stat.st_mtime_ns, stat.st_size))


# Performance: About the data asks twice per execution, and PyYAML's pure-Python parse of the
# table of contents was ~10 ms each; kept while the file's path, mtime and size are unchanged.
@functools.lru_cache(maxsize=4)
def _chapters_of_toc(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    import yaml

    def walk(node):
        if isinstance(node, dict):
            for name, value in node.items():
                if name in ("file", "root") and isinstance(value, str):
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    toc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return tuple(dict.fromkeys(walk(toc)))


def chapter_title(chapter: str) -> str:
    """The first heading of a chapter's page ('book/antidepressants/ssri' -> 'Selective …')."""
    page = paths.find_root() / f"{chapter}.md"
    try:
        for line in page.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    except OSError:
        pass
    return chapter.rsplit("/", 1)[-1].replace("-", " ")


def coverage_table() -> pd.DataFrame:
    """Resolved and unresolved reference numbers per chapter, in book order, with chapter titles."""
    from ..reference_map import coverage_by_chapter

    table = coverage_by_chapter(reference_map(), _toc_chapters())
    return table.assign(title=table["chapter"].map(chapter_title))


def reference_coverage() -> Figure:
    """Bar chart: per chapter, how many of the reference numbers cited there are resolved."""
    table = coverage_table()
    long = table.melt(
        id_vars=["title"], value_vars=["resolved", "unresolved"], var_name="status", value_name="n"
    )
    long["status"] = long["status"].str.capitalize()
    order = table["title"].tolist()
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("title:N", sort=order, title=None, axis=alt.Axis(labelLimit=320)),
            x=alt.X("n:Q", stack="zero", title="Reference numbers of the source article"),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(
                    domain=list(COVERAGE_COLOURS), range=list(COVERAGE_COLOURS.values())
                ),
                legend=alt.Legend(title=None, orient="top"),
            ),
            order=alt.Order("status:N"),
            tooltip=[
                alt.Tooltip("title:N", title="Chapter"),
                alt.Tooltip("status:N", title="Status"),
                alt.Tooltip("n:Q", title="Numbers"),
            ],
        )
        .properties(width=320, height=alt.Step(18))
    )
    resolved, total = int(table["resolved"].sum()), int(table["total"].sum())
    description = (
        f"{resolved} of the {total} reference numbers are resolved to a work. Per chapter: "
        + "; ".join(
            f"{row.title}: {row.resolved} of {row.total}" for row in table.itertuples(index=False)
        )
        + "."
    )
    return Figure(
        chart=chart,
        title="Reference numbers of the source article resolved to a work, by chapter",
        description=description,
        data=long,
    )


def suggest_link(number: int, chapter_name: str, form: str) -> str:
    """The issue form prefilled for reference number *number* ("" without a form)."""
    from urllib.parse import urlencode

    if not form:
        return ""
    query = urlencode(
        {
            "title": f"[Study]: reference {number} of the source article",
            "review_ref": str(number),
            "notes": f"Proposed identification of reference number {number} of Nava et al. 2025, "
            f"cited in the chapter '{chapter_name}'.",
        }
    )
    return f"{form}&{query}"


def unresolved_references():
    """Per chapter, the numbers still unresolved, each linked to the prefilled "Suggest a study" form."""
    from IPython.display import HTML

    from ..bib import format_number_ranges

    table = coverage_table()
    form = suggest_form_url()
    items = []
    for row in table.itertuples(index=False):
        if not row.unresolved_numbers:
            continue
        if form:
            numbers = ", ".join(
                f'<a href="{html.escape(suggest_link(n, row.title, form), quote=True)}" '
                f'aria-label="Suggest the work behind reference {n}">{n}</a>'
                for n in row.unresolved_numbers
            )
        else:
            numbers = html.escape(format_number_ranges(row.unresolved_numbers))
        items.append(
            f"<li><strong>{html.escape(row.title)}</strong> ({row.unresolved} of {row.total}): {numbers}</li>"
        )
    if not items:
        return HTML("<p>Every reference number of the source article is resolved.</p>")
    if form:
        lead = (
            "Each number opens the <em>Suggest a study</em> form with the number filled in; name the "
            "work and where you saw its record."
        )
    else:
        lead = (
            "To propose the work behind a number, use the repository's <em>Suggest a study</em> issue "
            "form and give the number (the address of the repository is not known to this build)."
        )
    return HTML(f'<p>{lead}</p><ul class="review-unresolved">{"".join(items)}</ul>')


# ---------------------------------------------------------------------------
# The References page: how each entry was identified and where its identifiers were seen


@provenance.tracked(reads=("data/reference_provenance.csv",))
def reference_provenance() -> pd.DataFrame:
    """Tracked query: where each identifier was seen (data/reference_provenance.csv)."""
    from ..reference_map import PROVENANCE_RESOURCE

    return data.table(name=PROVENANCE_RESOURCE)


def identification_table() -> pd.DataFrame:
    """One row per bibliography entry: article numbers with confidence, identifiers with where seen."""
    from ..bib import SOURCE_ARTICLE_KEY

    data.references()  # records the bibliography as an input of this page
    bibliography = data.bibliography()
    mapping = reference_map()
    resolved = mapping[mapping["key"] != ""]
    numbers = {
        key: "; ".join(f"{r.ref} ({r.confidence})" for r in group.itertuples(index=False))
        for key, group in resolved.groupby("key", sort=False)
    }
    provenance_rows = reference_provenance()
    identifiers = {
        key: "; ".join(
            f"{data.labels('reference_provenance', 'field').get(r.field, r.field)} {r.value}"
            + (" (seen only in a secondary source)" if r.seen == "secondary" else "")
            for r in group.itertuples(index=False)
        )
        for key, group in provenance_rows.groupby("key", sort=False)
    }
    keys = sorted(
        bibliography.entries,
        key=lambda k: (k != SOURCE_ARTICLE_KEY, bibliography.short_label(k).casefold(), k),
    )
    return pd.DataFrame(
        {
            "key": keys,
            "Entry": [bibliography.short_label(k) for k in keys],
            "Reference number(s) in the source article": [
                "the source article itself"
                if k == SOURCE_ARTICLE_KEY
                else numbers.get(k, "none (cited for its own results)")
                for k in keys
            ],
            "Identifiers": [identifiers.get(k, "none seen in a record") for k in keys],
        }
    )


def reference_identifications() -> Table:
    """The References page's table: confidence, article numbers and identifier provenance per entry."""
    from .citations import reference_href

    frame = identification_table()
    hrefs = frame["key"].map(reference_href)
    return Table(
        frame.drop(columns="key"),
        "How each entry was identified: its reference number(s) in the source article with the "
        "confidence of the identification, and where each identifier was seen",
        links={"Entry": hrefs},
    )


def maintainers():
    """For the home page: who edits the review (CITATION.cff), its repository and how to reach them."""
    from ..version import maintainers as query

    info = query()
    names = escape_markdown(info["editors"])
    lines = [f"**Editors:** {names} (as named in the repository's `CITATION.cff`)."]
    if info["repository"]:
        lines.append(
            f"**Repository:** [{escape_markdown(info['repository'])}]({info['repository']}), where the data, "
            "the chapters and their full history are public."
        )
        lines.append(
            f"**Contact:** to suggest a study or report an error, use the [suggest-a-study form]({info['contact']}) "
            "of the repository's issue tracker; the editors answer there, in public."
        )
    else:
        lines.append(
            "**Repository and contact:** this copy was built outside the hosted repository, so its address is "
            "not known here; the published site links the repository and its suggest-a-study issue form "
            "(set `repository-code` in `CITATION.cff` to show them in every build)."
        )
    return markdown("\n\n".join(lines))
