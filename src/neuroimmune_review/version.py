"""The review's version, its currency stamp and how to cite it.

The version lives in one place, ``__version__`` in ``neuroimmune_review/__init__.py``
(``pyproject.toml`` reads it from there; ``scripts/bump_version.py`` rewrites it together
with ``CITATION.cff``). It follows YEAR.MINOR.PATCH: MINOR goes up when the evidence
or the bibliography changed, PATCH for fixes that leave the data as it was.

The stamp shown on every page, "Evidence as of <date> · version <v> · commit <sha>",
takes the date of the last commit that touched ``data/`` or ``references.bib``
(or the files' modification time when they have uncommitted changes or there is no git).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

from . import git, paths
from .provenance import tracked

PACKAGE_INIT = Path(__file__).with_name("__init__.py")
VERSION_LINE = re.compile(r"""^(__version__\s*=\s*)(["'])([^"']*)\2""", re.MULTILINE)
VERSION_FORMAT = re.compile(r"(\d{4})\.(\d+)\.(\d+)")
DATA_PATHS = ("data", "references.bib")
BOOK_KEY_PREFIX = "livingreview"
EDITORS = "The living-review editors"  # used only when CITATION.cff names no author
ISSUE_FORM = "suggest-a-study.yml"  # .github/ISSUE_TEMPLATE/, the readers' contact route
SOURCE_DOI = "10.1038/s41398-025-03532-y"


# ---------------------------------------------------------------------------
# The version


def init_file(root: Path | None = None) -> Path:
    """``__init__.py`` of the package in *root* (a checkout), else of the imported package."""
    if root is not None:
        candidate = Path(root) / "src" / "neuroimmune_review" / "__init__.py"
        if candidate.is_file():
            return candidate
    return PACKAGE_INIT


def read_version(root: Path | None = None) -> str:
    match = VERSION_LINE.search(init_file(root).read_text(encoding="utf-8"))
    if not match:
        raise ValueError(f"no __version__ = '…' line in {init_file(root)}")
    return match.group(3)


def parse_version(version: str) -> tuple[int, int, int]:
    match = VERSION_FORMAT.fullmatch(version.strip())
    if not match:
        raise ValueError(f"version {version!r} is not YEAR.MINOR.PATCH (e.g. 2026.1.0)")
    year, minor, patch = (int(part) for part in match.groups())
    return year, minor, patch


def bumped(version: str, part: str, today: dt.date | None = None) -> str:
    """The next version: ``minor`` for a data change (a new year starts again at .1.0), ``patch`` for fixes."""
    year, minor, patch = parse_version(version)
    today = today or dt.date.today()
    if part == "minor":
        return f"{today.year}.1.0" if today.year > year else f"{year}.{minor + 1}.0"
    if part == "patch":
        return f"{year}.{minor}.{patch + 1}"
    raise ValueError(f"unknown part {part!r}; expected 'minor' or 'patch'")


# ---------------------------------------------------------------------------
# The stamp


def _data_files(root: Path) -> list[Path]:
    files = [root / "references.bib"] if (root / "references.bib").is_file() else []
    data = root / "data"
    if data.is_dir():
        files += [p for p in sorted(data.rglob("*")) if p.is_file() and not p.name.startswith(".")]
    return files


def _mtime_date(root: Path) -> str:
    times = [p.stat().st_mtime for p in _data_files(root)]
    return dt.date.fromtimestamp(max(times)).isoformat() if times else ""


def _uncommitted(root: Path) -> bool:
    status = git.text(root, "status", "--porcelain", "--", *DATA_PATHS)
    if not status:
        return False
    # Lock and temporary files of the curation scripts are dot-files: not data.
    return any(not Path(line[3:].strip('"')).name.startswith(".") for line in status.splitlines())


def stamp(root: Path | None = None) -> dict[str, Any]:
    """The currency of the evidence in *root*.

    ``date``: day of the last commit that touched ``data/`` or ``references.bib`` (file
    modification time if they have uncommitted changes or there is no git); ``version``;
    ``commit``: the checked-out commit; ``data_commit``: the last commit that changed the
    data; ``uncommitted``: whether the data differ from that commit.
    """
    root = Path(root or paths.find_root()).resolve()
    version = read_version(root)
    is_repo = git.text(root, "rev-parse", "--verify", "-q", "HEAD") is not None
    commit = (
        git.text(root, "rev-parse", "--short=7", "HEAD") if is_repo else None
    ) or os.environ.get("GITHUB_SHA", "")[:7]
    uncommitted = is_repo and _uncommitted(root)
    date = data_commit = ""
    if is_repo:
        last = (
            git.text(root, "log", "-1", "--format=%cs %h", "--abbrev=7", "--", *DATA_PATHS) or ""
        ).split()
        if len(last) == 2:
            date, data_commit = last
    return {
        "date": date if date and not uncommitted else _mtime_date(root),
        "version": version,
        "commit": commit,
        "data_commit": data_commit,
        "uncommitted": bool(uncommitted),
    }


def stamp_text(root: Path | None = None) -> str:
    """'Evidence as of 2026-11-21 · version 2026.1.0 · commit abc1234'."""
    return stamp_text_from(stamp(root))


@tracked
def current_stamp() -> dict[str, Any]:
    """Tracked query for a page that prints the full stamp (changes with every commit)."""
    return stamp()


@tracked
def evidence_state() -> dict[str, Any]:
    """Tracked query for the "How to cite" page: the version and the state of the evidence.

    Keyed on the last commit that changed the data, not on HEAD, so that a prose-only
    commit does not re-execute the page.
    """
    s = stamp()
    return {
        "date": s["date"],
        "version": s["version"],
        "commit": s["data_commit"],
        "uncommitted": s["uncommitted"],
    }


# ---------------------------------------------------------------------------
# Citing the book


def _book_config(root: Path) -> dict[str, Any]:
    import yaml

    try:
        return yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}


def _bibtex_value(text: str) -> str:
    return text.replace("{", "").replace("}", "")


def book_bibtex(root: Path | None = None, current: dict[str, Any] | None = None) -> str:
    """BibTeX for the version of the book being read."""
    root = Path(root or paths.find_root()).resolve()
    s = current or evidence_state()
    config = _book_config(root)
    title = _bibtex_value(
        str(config.get("title") or "Antidepressants and neuroimmune cytokine networks")
    )
    year = (s["date"] or "")[:4] or str(parse_version(s["version"])[0])
    url = _site_url(root, config)
    first_word = re.sub(r"[^a-z]", "", title.split()[0].lower()) if title.split() else "review"
    note = f"Living evidence review, version {s['version']}; evidence as of {s['date'] or 'unknown date'}"
    if s["commit"]:
        note += f" (evidence commit {s['commit']})"
    note += f". Based on Nava et al. (2025), doi:{SOURCE_DOI}"
    fields = [
        ("author", " and ".join(f"{{{_bibtex_value(n)}}}" for n in editors(root))),
        ("title", f"{title}: a living evidence review"),
        ("year", year),
        ("version", s["version"]),
        ("note", note),
    ]
    if url:
        fields.append(("url", url))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{BOOK_KEY_PREFIX}{year}{first_word},\n{body}\n}}\n"


def _site_url(root: Path, config: dict[str, Any] | None = None) -> str:
    config = _book_config(root) if config is None else config
    return str((config.get("html") or {}).get("baseurl") or "").strip() or repository_url(root)


def _title(root: Path) -> str:
    config = _book_config(root)
    title = str(config.get("title") or "Antidepressants and neuroimmune cytokine networks")
    return f"{title}: a living evidence review"


def book_plain(root: Path | None = None, current: dict[str, Any] | None = None) -> str:
    """The citation as one line of plain text (Vancouver-like)."""
    root = Path(root or paths.find_root()).resolve()
    s = current or evidence_state()
    year = (s["date"] or "")[:4] or str(parse_version(s["version"])[0])
    text = f"{', '.join(editors(root))}. {_title(root)} [Internet]. Version {s['version']}"
    text += f"; evidence as of {s['date'] or 'an unknown date'}"
    if s["commit"]:
        text += f", evidence commit {s['commit']}"
    text += f". {year}."
    url = _site_url(root)
    if url:
        text += f" Available from: {url}"
    return (
        text
        + f" Based on: Nava RG, Adri AS, Filgueiras IS, et al. Transl Psychiatry. 2025. doi:{SOURCE_DOI}"
    )


def book_ris(root: Path | None = None, current: dict[str, Any] | None = None) -> str:
    """The citation as an RIS record (reference managers: Zotero, EndNote, Mendeley)."""
    root = Path(root or paths.find_root()).resolve()
    s = current or evidence_state()
    year = (s["date"] or "")[:4] or str(parse_version(s["version"])[0])
    note = f"Living evidence review, version {s['version']}; evidence as of {s['date'] or 'unknown date'}"
    if s["commit"]:
        note += f" (evidence commit {s['commit']})"
    lines = ["TY  - ELEC", *(f"AU  - {name}" for name in editors(root))]
    lines += [f"TI  - {_title(root)}", f"PY  - {year}", f"ET  - {s['version']}"]
    if s["date"]:
        lines.append(f"DA  - {s['date'].replace('-', '/')}")
    url = _site_url(root)
    if url:
        lines.append(f"UR  - {url}")
    lines += [f"N1  - {note}. Based on Nava et al. (2025), doi:{SOURCE_DOI}", "ER  - "]
    return "\n".join(lines) + "\n"


def source_bibtex() -> str:
    """BibTeX of the source article, from ``references.bib`` (house fields only)."""
    from .bib import SOURCE_ARTICLE_KEY
    from .data import references

    entry = references(keys=[SOURCE_ARTICLE_KEY]).get(SOURCE_ARTICLE_KEY, {})
    names = ("author", "title", "journal", "year", "volume", "number", "pages", "doi", "pmid")
    body = ",\n".join(f"  {name} = {{{entry[name]}}}" for name in names if entry.get(name))
    return f"@article{{{SOURCE_ARTICLE_KEY},\n{body}\n}}\n"


def _fenced(code: str, language: str = "bibtex") -> str:
    fence = "````" if "```" in code else "```"
    return f"{fence}{language}\n{code.rstrip()}\n{fence}\n"


def how_to_cite():
    """For the "How to cite" page: one version, one commit, in plain text, BibTeX and RIS."""
    from .render import markdown
    from .text import escape_markdown

    s = evidence_state()
    maintainers()  # the page names the editors and the repository from CITATION.cff
    root = paths.find_root()
    evidence = f"The evidence is as of {s['date'] or 'an unknown date'}"
    if s["commit"]:
        evidence += f" (last changed in evidence commit {s['commit']})"
    if s["uncommitted"]:
        evidence += ", with changes not yet committed"
    text = (
        f"You are reading **version {escape_markdown(s['version'])}** of the review. "
        f"{escape_markdown(evidence)}. The three forms below carry the same version and commit.\n\n"
        # A paragraph, not a code block: a one-line reference would scroll sideways.
        f"**Plain text**\n\n> {escape_markdown(book_plain(root, s))}\n\n"
        f"**BibTeX**\n\n{_fenced(book_bibtex(root, s))}\n"
        f"**RIS** (Zotero, EndNote, Mendeley: save as a `.ris` file and import)\n\n{_fenced(book_ris(root, s), 'text')}"
    )
    return markdown(text)


def source_citation():
    """For the "How to cite" page: BibTeX of the source article."""
    from .render import markdown

    return markdown(_fenced(source_bibtex()))


def stamp_text_from(s: dict[str, Any]) -> str:
    """The one stamp every page shows. Its commit is the last commit that changed the evidence,
    the same id How to cite gives, so a reader never sees two different commits."""
    if s.get("data_commit"):
        commit = f"evidence commit {s['data_commit']}"
    else:  # no git history here (e.g. a CI checkout without it): the build's own commit, if known
        commit = f"commit {s['commit']}" if s.get("commit") else "commit not recorded"
    if s["uncommitted"]:
        commit += " with uncommitted data changes"
    return f"Evidence as of {s['date'] or 'unknown date'} · version {s['version']} · {commit}"


# ---------------------------------------------------------------------------
# Editors, repository and contact (from CITATION.cff)


def citation_cff(root: Path | None = None) -> dict[str, Any]:
    import yaml

    root = Path(root or paths.find_root()).resolve()
    try:
        return yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}


def editors(root: Path | None = None) -> list[str]:
    """The authors CITATION.cff names: persons as "Given Family", entities by their name."""
    names = []
    for author in citation_cff(root).get("authors") or []:
        if not isinstance(author, dict):
            continue
        person = " ".join(
            str(author[k])
            for k in ("given-names", "name-particle", "family-names")
            if author.get(k)
        )
        name = person or str(author.get("name") or "").strip()
        if name:
            names.append(name)
    return names or [EDITORS]


def repository_url(root: Path | None = None) -> str:
    """The public repository: CITATION.cff ``repository-code``, else the host the site is built on
    (GitHub Actions sets GITHUB_SERVER_URL and GITHUB_REPOSITORY), else ``""``. Never guessed."""
    url = str(citation_cff(root).get("repository-code") or "").strip()
    if not url and os.environ.get("GITHUB_REPOSITORY"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        url = f"{server}/{os.environ['GITHUB_REPOSITORY']}"
    return url.rstrip("/") if url.startswith("https://") else ""


def contact_url(root: Path | None = None) -> str:
    """The issue form readers use to reach the editors ("" without a known repository)."""
    url = repository_url(root)
    return f"{url}/issues/new?template={ISSUE_FORM}" if url else ""


@tracked
def maintainers() -> dict[str, Any]:
    """Tracked query for pages that name the editors and link the repository."""
    return {"editors": editors(), "repository": repository_url(), "contact": contact_url()}
