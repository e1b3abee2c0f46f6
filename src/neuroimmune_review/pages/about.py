"""The "About the data" page: data dictionary, downloads and the reference quality report."""

from __future__ import annotations

import html
import json
import posixpath

import pandas as pd

from .. import data, paths, provenance
from ..render import Table, escape_markdown, markdown

# Published with the site (copied by sphinx_ext at the end of the build), relative to the site root.
DOWNLOADS_DIR = "downloads"
DOWNLOADS = {
    "evidence.csv": "The evidence: one row per finding",
    "interventions.csv": "Vocabulary of interventions, drug classes, conditions and stimuli",
    "mediators.csv": "Vocabulary of cytokines and other mediators",
    "meta_analyses.csv": "Pooled results of published meta-analyses",
    "datapackage.json": "Frictionless Data Package: schema, types, constraints and keys",
    "references.bib": "The bibliography (BibTeX)",
}


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


def resources() -> list[str]:
    return [r["name"] for r in datapackage()["resources"]]


def downloads():
    """Links to the data files published with the site."""
    from IPython.display import HTML

    here = provenance.current_docname() or "book/index"
    base = posixpath.relpath(DOWNLOADS_DIR, posixpath.dirname(here))
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
    from ..bib import format_number_ranges, load_bibliography, reference_report

    data.references()  # records the bibliography as an input of this page
    report = reference_report(load_bibliography(paths.bib_path()), data.evidence())
    lines = [
        f"The bibliography holds **{report['entry_count']} entries**. Of the source article's "
        f"{report['reference_count']} reference numbers, **{report['resolved_count']} are resolved** to a work "
        f"confirmed in a public record ({report['resolved_percent']}%) and {report['unresolved_count']} are not yet.",
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
