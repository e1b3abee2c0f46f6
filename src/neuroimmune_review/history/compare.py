"""Comparing versions: what each commit changed in the evidence, the bibliography and the
reference map, and which summary-of-findings verdicts flipped.

Rows are compared by ``id`` with the commit's first parent (added, changed, re-pointed to
another work, removed), bibliography entries by key, and the source article's reference
numbers by the work the map names for them.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from .. import git, paths
from .repo import (
    _END,
    _SEP,
    BIBLIOGRAPHY,
    LOGGED,
    Repository,
    _read_blobs,
    _tags,
    _text,
    repository,
)

# Fields that moved out of the BibTeX into data files: dropping them is not a change of the work.
MOVED_BIB_FIELDS = ("reviewref", "source")


@dataclass
class Commit:
    sha: str
    parents: list[str]
    timestamp: int
    date: str
    subject: str
    tags: list[str] = field(default_factory=list)
    added: list[dict[str, str]] = field(default_factory=list)
    changed: list[tuple[dict[str, str], dict[str, str], list[str]]] = field(default_factory=list)
    # Rows whose citation changed: (old row, new row), e.g. from the source article to a primary work.
    repointed: list[tuple[dict[str, str], dict[str, str]]] = field(default_factory=list)
    removed: list[dict[str, str]] = field(default_factory=list)
    # Reference numbers of the source article: (number, old key, new key); "" = unresolved.
    numbers: list[tuple[int, str, str]] = field(default_factory=list)
    bib_added: list[str] = field(default_factory=list)
    bib_changed: list[str] = field(default_factory=list)
    bib_removed: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # citation key -> short label
    titles: dict[str, str] = field(default_factory=dict)  # bib key -> title
    boundary: bool = False  # shallow clone: parent not available, nothing compared
    total_rows: int = 0  # at a boundary: how many findings and references there were
    total_refs: int = 0
    tag_only: bool = False  # a tagged commit that did not touch the data
    vocabulary_changed: bool = False  # interventions.csv or mediators.csv edited
    conclusions: list[str] = field(
        default_factory=list
    )  # summary-of-findings verdicts that flipped

    @property
    def short(self) -> str:
        return self.sha[:7]

    @property
    def empty(self) -> bool:
        return not (
            self.added
            or self.changed
            or self.repointed
            or self.numbers
            or self.removed
            or self.bib_added
            or self.bib_changed
            or self.bib_removed
            or self.boundary
            or self.vocabulary_changed
        )


def _rows(data: bytes | None) -> dict[str, dict[str, str]]:
    if not data:
        return {}
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    rows: dict[str, dict[str, str]] = {}
    try:
        for row in csv.DictReader(io.StringIO(text, newline="")):
            ident = (row.get("id") or "").strip()
            if ident:
                rows[ident] = {k: (v or "") for k, v in row.items() if k is not None}
    except csv.Error:
        pass  # a malformed committed version: compare what could be read
    return rows


def _bib(data: bytes | None):
    from ..bib import Bibliography, parse_bibliography

    if not data:
        return Bibliography()
    return parse_bibliography(data.decode("utf-8", errors="replace"))


def _work_fields(fields: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in fields.items() if k not in MOVED_BIB_FIELDS}


def _numbers(map_data: bytes | None, bibliography) -> dict[int, str]:
    """Reference number -> key, from a version of the map; before the map existed, from the
    ``reviewref`` fields the bibliography then carried (so that change reads as what it was)."""
    from ..bib import parse_number_list

    numbers: dict[int, str] = {}
    if map_data:
        text = map_data.decode("utf-8", errors="replace").lstrip("\ufeff")
        try:
            for row in csv.DictReader(io.StringIO(text, newline="")):
                ref, key = (row.get("ref") or "").strip(), (row.get("key") or "").strip()
                if ref.isdigit() and key:
                    numbers[int(ref)] = key
        except csv.Error:
            pass
        return numbers
    for key, fields in bibliography.entries.items():
        for number in parse_number_list(fields.get("reviewref", ""))[0]:
            numbers.setdefault(number, key)
    return numbers


def _compare(
    commit: Commit,
    old_csv,
    new_csv,
    old_bib,
    new_bib,
    labels: dict[str, str],
    old_map: bytes | None = None,
    new_map: bytes | None = None,
) -> None:
    old_rows, new_rows = _rows(old_csv), _rows(new_csv)
    commit.added = [new_rows[i] for i in new_rows if i not in old_rows]
    commit.removed = [old_rows[i] for i in old_rows if i not in new_rows]
    for ident in new_rows:
        if ident in old_rows and new_rows[ident] != old_rows[ident]:
            fields = [
                k for k in new_rows[ident] if new_rows[ident].get(k) != old_rows[ident].get(k)
            ]
            fields += [k for k in old_rows[ident] if k not in new_rows[ident]]
            if "citation" in fields:
                commit.repointed.append((old_rows[ident], new_rows[ident]))
            else:
                commit.changed.append((old_rows[ident], new_rows[ident], fields))
    old, new = _bib(old_bib), _bib(new_bib)
    commit.bib_added = [k for k in new.entries if k not in old.entries]
    commit.bib_removed = [k for k in old.entries if k not in new.entries]
    commit.bib_changed = [
        k
        for k in new.entries
        if k in old.entries and _work_fields(new.entries[k]) != _work_fields(old.entries[k])
    ]
    old_numbers, new_numbers = _numbers(old_map, old), _numbers(new_map, new)
    commit.numbers = [
        (n, old_numbers.get(n, ""), new_numbers.get(n, ""))
        for n in sorted(set(old_numbers) | set(new_numbers))
        if old_numbers.get(n, "") != new_numbers.get(n, "")
    ]
    commit.labels.update(labels)  # today's labels for keys the commit's own versions lack
    for bibliography in (old, new):  # labels: the newer version wins
        for key in bibliography.entries:
            commit.labels[key] = bibliography.short_label(key)
            commit.titles[key] = bibliography.entries[key].get("title", "")


def commits(root: Path | None = None, limit: int = 50) -> tuple[list[Commit], Repository]:
    """The last *limit* commits that touched the evidence or the bibliography, compared with their parents."""
    root = (root or paths.find_root()).resolve()
    repo = repository(root)
    if not repo.available:
        return [], repo
    log = _text(
        git.run(
            root,
            "log",
            f"-n{int(limit)}",
            f"--format=%H{_SEP}%P{_SEP}%ct{_SEP}%cs{_SEP}%s{_END}",
            "--",
            *LOGGED,
        )
    )
    found: list[Commit] = []
    for record in log.split(_END):
        parts = record.strip("\n").split(_SEP)
        if len(parts) != 5:
            continue
        sha, parents, timestamp, date, subject = parts
        found.append(Commit(sha, parents.split(), int(timestamp), date, subject))
    names = []
    for commit in found:
        parent = commit.parents[0] if commit.parents else None
        commit.boundary = not commit.parents and commit.sha in repo.shallow_commits
        for path in LOGGED:
            full = repo.prefix + path
            names.append(f"{commit.sha}:{full}")
            names.append(f"{parent}:{full}" if parent else "")
    blobs = _read_blobs(root, [n for n in names if n])
    blob_iter = iter(blobs)
    contents = [next(blob_iter) if n else None for n in names]
    tags = _tags(root)
    current = (
        _bib(_read_blobs(root, [f"HEAD:{repo.prefix}{BIBLIOGRAPHY}"])[0]) if found else _bib(None)
    )
    current_labels = {key: current.short_label(key) for key in current.entries}
    from .. import sof  # imports pandas, which the git-state query of every build does not need

    width = 2 * len(LOGGED)
    verdicts = _VerdictCache()
    for index, commit in enumerate(found):
        (new_csv, old_csv, new_bib, old_bib, new_map, old_map, new_iv, old_iv, new_md, old_md) = (
            contents[width * index : width * index + width]
        )
        commit.tags = tags.get(commit.sha, [])
        if commit.boundary:
            commit.total_rows, commit.total_refs = len(_rows(new_csv)), len(_bib(new_bib).entries)
            continue
        _compare(commit, old_csv, new_csv, old_bib, new_bib, current_labels, old_map, new_map)
        commit.vocabulary_changed = (new_iv, new_md) != (old_iv, old_md)
        before = verdicts.keys(old_csv, old_iv, old_md)
        commit.conclusions = sof.flips(before, verdicts.keys(new_csv, new_iv, new_md))
        commit.first_verdicts = bool(commit.conclusions) and not before
    return found, repo


class _VerdictCache:
    """Summary-of-findings verdicts of a version of the data, computed once per distinct version.

    Each commit is compared with its parent, so every version is needed twice; hashing the
    three files' contents makes the second time free."""

    def __init__(self):
        self._seen: dict[tuple, dict[str, str]] = {}

    def keys(self, evidence: bytes | None, interventions: bytes | None, mediators: bytes | None):
        key = tuple(
            hashlib.sha1(b or b"").hexdigest() for b in (evidence, interventions, mediators)
        )
        if key not in self._seen:
            self._seen[key] = verdicts_of(evidence, interventions, mediators)
        return self._seen[key]


def _frame(content: bytes | None):
    import pandas as pd

    if not content:
        return pd.DataFrame()
    try:
        return pd.read_csv(
            io.BytesIO(content), dtype=str, keep_default_na=False, encoding="utf-8-sig"
        )
    except (ValueError, UnicodeDecodeError):  # a malformed committed version states no verdict
        return pd.DataFrame()


def verdicts_of(
    evidence: bytes | None, interventions: bytes | None, mediators: bytes | None
) -> dict[str, str]:
    """The summary-of-findings verdicts a version of the three data files states ({} if unreadable)."""
    from .. import sof
    from ..data import DRUG_CLASSES

    frames = [_frame(evidence), _frame(interventions), _frame(mediators)]
    needed = (
        {"intervention", "mediator", "direction", "citation", "review_ref", "evidence_type"},
        {"name", "drug_class"},
        {"name", "family", "inflammatory_role"},
    )
    if any(not cols <= set(frame.columns) for cols, frame in zip(needed, frames, strict=True)):
        return {}
    return sof.verdict_keys(sof.verdicts_from_frames(*frames, DRUG_CLASSES))


def _tag_only_commits(root: Path, listed: list[Commit]) -> list[Commit]:
    """Tags on commits that did not touch the data, within the period shown."""
    listed_shas = {c.sha for c in listed}
    tags = {sha: names for sha, names in _tags(root).items() if sha not in listed_shas}
    if not tags:
        return []
    out = _text(
        git.run(
            root, "log", "--no-walk=unsorted", f"--format=%H{_SEP}%ct{_SEP}%cs{_SEP}%s{_END}", *tags
        )
    )
    oldest = min((c.timestamp for c in listed), default=0)
    extra = []
    for record in out.split(_END):
        parts = record.strip("\n").split(_SEP)
        if len(parts) == 4 and int(parts[1]) >= oldest:
            extra.append(
                Commit(
                    parts[0],
                    [],
                    int(parts[1]),
                    parts[2],
                    parts[3],
                    tags=tags.get(parts[0], []),
                    tag_only=True,
                )
            )
    return extra
