"""Turning citation keys of the evidence into readable labels and links to the References page."""

from __future__ import annotations

import pandas as pd

from .. import data
from . import current

REFERENCES_PAGE = "book/about/references"
# Matches ``bibtex_cite_id`` in _config.yml, so each entry has a stable anchor.
ANCHOR = "ref-{key}"


def _keys_of(cells: pd.Series) -> list[str]:
    # Each distinct cell split once: at 1000x a chapter's cells repeat each citation many times.
    return sorted(
        {key for cell in cells.drop_duplicates().tolist() for key in data.split_list(cell)}
    )


def label_map(cells: pd.Series) -> dict[str, str]:
    """key -> "Author et al. YEAR" for every key named in *cells*."""
    found = data.citation_labels(keys=_keys_of(cells))
    return {key: info["label"] for key, info in found.items()}


def labels(cells: pd.Series) -> pd.Series:
    """Each ``;``-separated citation cell as readable labels ("A et al. 2007; B 2010")."""
    mapping = label_map(cells)
    # Performance: each distinct cell is split and labelled once (at 1000x a class chapter's
    # cells repeat each citation a thousand times), then mapped back to every row.
    text = {
        cell: "; ".join(mapping.get(k, k) for k in data.split_list(cell))
        for cell in cells.drop_duplicates().tolist()
    }
    return cells.map(text)


def reference_href(key: str) -> str:
    """Link from the page being built to *key*'s entry on the References page."""
    return f"{current.href_to(REFERENCES_PAGE + '.html')}#{ANCHOR.format(key=key)}"


def first_key_hrefs(cells: pd.Series) -> pd.Series:
    """A link per row to its first cited work (tables link the whole label cell)."""
    return cells.map(
        lambda cell: reference_href(data.split_list(cell)[0]) if data.split_list(cell) else ""
    )


def link_lists(cells: pd.Series) -> pd.Series:
    """Each citation cell as a list of (label, link to its References entry), one per work."""
    mapping = label_map(cells)
    return cells.map(
        lambda cell: [(mapping.get(k, k), reference_href(k)) for k in data.split_list(cell)]
    )
