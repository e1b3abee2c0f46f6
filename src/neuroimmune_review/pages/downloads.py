"""The data files the site publishes for download (listed on the About-the-data page).

Its own module because the Sphinx extension copies them at the end of every build: importing
them must not import the charts (``about`` imports render and Altair, 0.4 s of every build).
"""

from .current import href_to

# Published with the site (copied by sphinx_ext at the end of the build), relative to the site root.
DOWNLOADS_DIR = "downloads"
DOWNLOADS = {
    "evidence.csv": "The evidence: one row per finding",
    "interventions.csv": "Vocabulary of interventions, drug classes, conditions and stimuli",
    "mediators.csv": "Vocabulary of cytokines and other mediators",
    "meta_analyses.csv": "Pooled results of published meta-analyses",
    "searches.csv": "Search log: every literature search, its exact query and what it found",
    "screening_queue.csv": "Every record the searches found, with duplicates marked",
    "screening.csv": "Screening decisions: include, or exclude with a reason",
    "reference_map.csv": "The source article's reference numbers and the works they stand for",
    "reference_provenance.csv": "Where each DOI, PMID and PMCID of the bibliography was seen",
    "datapackage.json": "Frictionless Data Package: schema, types, constraints and keys",
    "references.bib": "The bibliography (BibTeX)",
}


def download_href(name: str) -> str:
    """The published download *name* (a key of DOWNLOADS), relative to the page being built."""
    if name not in DOWNLOADS:
        raise KeyError(f"{name!r} is not a download of the site (pages/downloads.py)")
    return f"{href_to(DOWNLOADS_DIR)}/{name}"
