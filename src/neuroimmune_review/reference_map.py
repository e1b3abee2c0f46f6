"""Which work each reference number of the source article stands for, and where identifiers were seen.

Two tables of ``data/`` keep what a bibliography user does not want in the BibTeX:

- ``reference_map.csv``: one row per reference number 1-224 of the source article (Nava et al.
  2025): the BibTeX key of the work it was identified as (empty while unresolved), the confidence
  of that identification, the citation group as printed, the chapter where the number is cited,
  and the evidence for the identification;
- ``reference_provenance.csv``: one row per identifier (DOI, PMID, PMCID, publisher URL) of an entry
  of ``references.bib``: its canonical record and whether the value was seen on that canonical
  host or only in a secondary source.

The validator, the pages and the curation scripts read them through this module.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from . import paths

MAP_RESOURCE = "reference_map"
PROVENANCE_RESOURCE = "reference_provenance"
MAP_FILE = "reference_map.csv"
PROVENANCE_FILE = "reference_provenance.csv"
MAP_COLUMNS = ["ref", "key", "confidence", "group", "chapter", "evidence"]
PROVENANCE_COLUMNS = ["key", "field", "value", "record", "seen"]
IDENTIFIER_FIELDS = ("doi", "pmid", "pmcid")
UNRESOLVED = "unresolved"
SECONDARY = "secondary"
CANONICAL = "canonical"

# The canonical record of each kind of identifier. Provenance names these and nothing else:
# a mirror, proxy, raw-IP host, aggregator or user-upload site is never a record.
_CANONICAL_URL = {
    "doi": "https://doi.org/{}",
    "pmid": "https://pubmed.ncbi.nlm.nih.gov/{}/",
    "pmcid": "https://www.ncbi.nlm.nih.gov/pmc/articles/{}/",
}
# Hosts a provenance record may be on: the identifier registries and the publishers' own sites.
# A host is allowed when it is one of these or a subdomain of one (www.nature.com).
CANONICAL_HOSTS = (
    "doi.org",
    "pubmed.ncbi.nlm.nih.gov",
    "www.ncbi.nlm.nih.gov",
    "pmc.ncbi.nlm.nih.gov",
    "europepmc.org",
    # publishers' landing pages
    "academic.oup.com",
    "bmj.com",
    "bmjopen.bmj.com",
    "cambridge.org",
    "cell.com",
    "frontiersin.org",
    "hindawi.com",
    "jamanetwork.com",
    "journals.lww.com",
    "journals.plos.org",
    "journals.sagepub.com",
    "karger.com",
    "link.springer.com",
    "mdpi.com",
    "nature.com",
    "onlinelibrary.wiley.com",
    "royalsocietypublishing.org",
    "sciencedirect.com",
    "tandfonline.com",
    "thieme-connect.com",
    "dovepress.com",
    "biomedcentral.com",
    "elifesciences.org",
    "jneurosci.org",
    "pnas.org",
    "science.org",
    "neurosci.cn",
)
_IP_HOST = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$|^\[?[0-9a-f:]+\]?$", re.IGNORECASE)
PMCID_PATTERN = re.compile(r"^PMC\d+$")


def canonical_record(field: str, value: str) -> str:
    """The canonical URL of an identifier: doi.org, PubMed or PMC ('' for an unknown field)."""
    template = _CANONICAL_URL.get(field)
    return template.format(value.strip()) if template else ""


def host_problem(url: str) -> str | None:
    """Why *url* is not a canonical record (None if it is): not https, raw IP, or a host off the list."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host:
        return "is not an https:// address"
    if _IP_HOST.match(host):
        return f"is on the raw IP address {host}, not a canonical host"
    if port := parts.port:
        return f"names port {port}; a canonical record is on the standard https port"
    if any(host == allowed or host.endswith("." + allowed) for allowed in CANONICAL_HOSTS):
        return None
    return (
        f"is on {host}, which is not a canonical host (PubMed, doi.org, PMC or a publisher's own site; "
        "the list is CANONICAL_HOSTS in neuroimmune_review/reference_map.py)"
    )


def expand_group(text: str) -> list[int]:
    """'156-158' -> [156, 157, 158]; '7,8' -> [7, 8]; '' -> []; raises ValueError on anything else."""
    numbers: list[int] = []
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        match = re.fullmatch(r"(\d+)\s*[-–]\s*(\d+)", part)
        if match:
            start, end = int(match.group(1)), int(match.group(2))
            if end < start:
                raise ValueError(part)
            numbers += range(start, end + 1)
        elif part.isascii() and part.isdigit():
            numbers.append(int(part))
        else:
            raise ValueError(part)
    return numbers


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def load_map(root: Path | None = None) -> pd.DataFrame:
    """``data/reference_map.csv`` as text columns, plus ``number`` (int)."""
    frame = _read(paths.data_dir(root) / MAP_FILE)
    frame["number"] = pd.to_numeric(frame["ref"], errors="coerce").astype("Int64")
    return frame


def load_provenance(root: Path | None = None) -> pd.DataFrame:
    """``data/reference_provenance.csv`` as text columns."""
    return _read(paths.data_dir(root) / PROVENANCE_FILE)


def keys_by_number(reference_map: pd.DataFrame) -> dict[int, list[str]]:
    """Resolved number -> [key] (a list, so callers can treat a number as naming several works)."""
    resolved = reference_map[reference_map["key"].str.strip() != ""]
    return {
        int(number): [key.strip()]
        for number, key in zip(resolved["ref"], resolved["key"], strict=True)
        if str(number).isdigit()
    }


def numbers_by_key(reference_map: pd.DataFrame) -> dict[str, list[int]]:
    """Key -> the sorted reference numbers it resolves."""
    result: dict[str, list[int]] = {}
    for number, keys in keys_by_number(reference_map).items():
        for key in keys:
            result.setdefault(key, []).append(number)
    return {key: sorted(numbers) for key, numbers in result.items()}


def coverage_by_chapter(reference_map: pd.DataFrame, chapters: list[str]) -> pd.DataFrame:
    """Resolved and unresolved numbers per chapter, in *chapters* order (chapters without numbers dropped).

    Columns: chapter, resolved, unresolved, total, unresolved_numbers (list of int).
    """
    frame = reference_map.assign(resolved=reference_map["key"].str.strip() != "")
    order = {chapter: index for index, chapter in enumerate(chapters)}
    grouped = frame.groupby("chapter", sort=False)
    table = pd.DataFrame(
        {
            "resolved": grouped["resolved"].sum().astype(int),
            "total": grouped.size().astype(int),
            "unresolved_numbers": grouped.apply(
                lambda g: sorted(int(n) for n in g.loc[~g["resolved"], "ref"]),
                include_groups=False,
            ),
        }
    ).reset_index()
    table["unresolved"] = table["total"] - table["resolved"]
    table["position"] = table["chapter"].map(lambda c: order.get(c, len(order)))
    table = table.sort_values(["position", "chapter"]).drop(columns="position")
    return table[["chapter", "resolved", "unresolved", "total", "unresolved_numbers"]].reset_index(
        drop=True
    )
