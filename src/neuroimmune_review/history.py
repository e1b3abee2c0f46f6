"""The "What's new" page: what each commit changed in the evidence and the bibliography.

Read from ``git log`` of ``data/evidence.csv``, ``references.bib`` and
``data/reference_map.csv``, newest first. For every commit that touched them, rows are
compared by ``id`` with the commit's first parent (added, changed, re-pointed to another
work, removed), bibliography entries by key, and the source article's reference numbers
by the work the map names for them. Tags that
point at a commit are shown with it. Works without git, outside a checkout and in
shallow clones (the page then says what it cannot show).

The page's code cell calls :func:`whats_new`, which reads :func:`history_state`
through ``provenance.tracked``: the page is re-executed exactly when a new commit
touches the data or a tag is added, not after a prose-only commit.

Long by design: one pass over git history feeds the whole page (reading blobs, comparing rows, references and the reference map, recomputing summary-of-findings verdicts per version, rendering the table); splitting the comparison from the rendering is the next step.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import git, paths, sof
from .bib import SOURCE_ARTICLE_KEY
from .provenance import tracked
from .text import plural as _plural
from .text import split_list

EVIDENCE = "data/evidence.csv"
BIBLIOGRAPHY = "references.bib"
REFERENCE_MAP = "data/reference_map.csv"
TRACKED_FILES = (EVIDENCE, BIBLIOGRAPHY, REFERENCE_MAP)
# Fields that moved out of the BibTeX into data files: dropping them is not a change of the work.
MOVED_BIB_FIELDS = ("reviewref", "source")
# The vocabularies give each mediator its inflammatory role and each drug its class, so an edit
# to them can change a summary-of-findings verdict: their commits are listed too.
VOCABULARIES = ("data/interventions.csv", "data/mediators.csv")
LOGGED = (*TRACKED_FILES, *VOCABULARIES)
_SEP, _END = "\x1f", "\x1e"


# ---------------------------------------------------------------------------
# git, safely (through the shared wrapper, neuroimmune_review.git)


def _text(data: bytes | None) -> str:
    return data.decode("utf-8", errors="replace") if data is not None else ""


@dataclass
class Repository:
    """What git can tell about *root*; ``reason`` is set when it can tell nothing."""

    root: Path
    reason: str = ""
    prefix: str = ""  # path of root inside the work tree ("" at the top)
    shallow: bool = False
    shallow_commits: set[str] = field(default_factory=set)

    @property
    def available(self) -> bool:
        return not self.reason


def repository(root: Path) -> Repository:
    repo = Repository(root)
    if shutil.which("git") is None:
        repo.reason = "git is not installed on the machine that built this page"
        return repo
    inside = _text(git.run(root, "rev-parse", "--is-inside-work-tree")).strip()
    if inside != "true":
        repo.reason = "this copy of the review is not a git checkout"
        return repo
    if git.run(root, "rev-parse", "--verify", "-q", "HEAD") is None:
        repo.reason = "the repository has no commits yet"
        return repo
    repo.prefix = _text(git.run(root, "rev-parse", "--show-prefix")).strip()
    repo.shallow = _text(git.run(root, "rev-parse", "--is-shallow-repository")).strip() == "true"
    if repo.shallow:
        shallow_file = _text(git.run(root, "rev-parse", "--git-path", "shallow")).strip()
        if shallow_file:
            path = Path(shallow_file) if os.path.isabs(shallow_file) else root / shallow_file
            try:
                repo.shallow_commits = set(path.read_text().split())
            except OSError:
                pass
    return repo


def _tags(root: Path) -> dict[str, list[str]]:
    """Commit -> tag names pointing at it (annotated tags are peeled)."""
    out = _text(
        git.run(
            root,
            "for-each-ref",
            "refs/tags",
            f"--format=%(objectname){_SEP}%(*objectname){_SEP}%(refname:short)",
        )
    )
    tags: dict[str, list[str]] = {}
    for line in out.splitlines():
        parts = line.split(_SEP)
        if len(parts) == 3:
            commit = parts[1] or parts[0]
            tags.setdefault(commit, []).append(parts[2])
    return {commit: sorted(names) for commit, names in tags.items()}


def _dirty(root: Path) -> bool:
    out = _text(git.run(root, "status", "--porcelain", "--", *LOGGED))
    return any(line.strip() for line in out.splitlines())


def state(root: Path | None = None) -> dict[str, Any]:
    """Everything the page's content depends on, cheaply: last data commit, tags, clone depth."""
    root = (root or paths.find_root()).resolve()
    repo = repository(root)
    if not repo.available:
        return {"available": False, "reason": repo.reason}
    last = _text(git.run(root, "log", "-1", "--format=%H", "--", *LOGGED)).strip()
    return {
        "available": True,
        "last_data_commit": last,
        "tags": _tags(root),
        "shallow": repo.shallow,
        "dirty": _dirty(root),
    }


@tracked
def history_state() -> dict[str, Any]:
    """Tracked query: the page re-executes when the data's history (or a tag) changes."""
    return state()


# ---------------------------------------------------------------------------
# Comparing versions


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


def _read_blobs(root: Path, names: list[str]) -> list[bytes | None]:
    """Contents of ``rev:path`` objects in one ``git cat-file --batch`` call (None if missing)."""
    if not names:
        return []
    out = git.run(root, "cat-file", "--batch", stdin="".join(f"{n}\n" for n in names).encode())
    if out is None:
        return [None] * len(names)
    results: list[bytes | None] = []
    position = 0
    for _ in names:
        end = out.index(b"\n", position)
        header = out[position:end].split()
        position = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            results.append(out[position : position + size])
            position += size + 1
        else:  # "<name> missing", or not a blob
            results.append(None)
    return results


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
    from .bib import Bibliography, parse_bibliography

    if not data:
        return Bibliography()
    return parse_bibliography(data.decode("utf-8", errors="replace"))


def _work_fields(fields: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in fields.items() if k not in MOVED_BIB_FIELDS}


def _numbers(map_data: bytes | None, bibliography) -> dict[int, str]:
    """Reference number -> key, from a version of the map; before the map existed, from the
    ``reviewref`` fields the bibliography then carried (so that change reads as what it was)."""
    from .bib import parse_number_list

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
    from .data import DRUG_CLASSES

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


# ---------------------------------------------------------------------------
# The page: a Cochrane-style table of changes


def _source(row: dict[str, str], labels: dict[str, str], numbers: bool = False) -> str:
    """The row's source as a label; the source article (or, with *numbers*, any work) with its ref. numbers."""
    keys = split_list(row.get("citation", ""))
    parts = []
    for key in keys:
        label = labels.get(key, key)
        if (key == SOURCE_ARTICLE_KEY or numbers) and row.get("review_ref", "").strip():
            refs = ", ".join(split_list(row["review_ref"]))
            label += f", ref. {refs}"
        parts.append(label)
    return "; ".join(parts) or "no source given"


def _finding(row: dict[str, str]) -> str:
    direction = row.get("direction", "").replace("_", " ") or "?"
    return f"{row.get('intervention', '?') or '?'} → {row.get('mediator', '?') or '?'}, {direction}"


def summarise_row(row: dict[str, str], labels: dict[str, str] | None = None) -> str:
    """'fluoxetine → IL-6, decrease (Sutcigil et al. 2007)', as plain text."""
    direction = row.get("direction", "").replace("_", " ") or "?"
    return (
        f"{row.get('intervention', '?') or '?'} → {row.get('mediator', '?') or '?'}, {direction} "
        f"({_source(row, labels or {})})"
    )


def _e(text) -> str:
    return html.escape(str(text), quote=False)


def _list(title: str, items: list[str]) -> str:
    return f"<p>{_e(title)}</p><ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def _counted(noun: str, counts: list[tuple[int, str]]) -> str:
    """'2 findings added, 1 changed' from [(2, 'added'), (0, 'changed'), (1, 'changed')]."""
    shown = [(n, verb) for n, verb in counts if n]
    if not shown:
        return ""
    (first, verb), rest = shown[0], shown[1:]
    return ", ".join([f"{_plural(first, noun)} {verb}", *(f"{n} {v}" for n, v in rest)])


def change_counts(commit: Commit) -> str:
    """'2 findings added, 1 changed; 1 reference removed' (plain text)."""
    parts = [
        _counted(
            "finding",
            [
                (len(commit.added), "added"),
                (len(commit.changed), "changed"),
                (len(commit.removed), "removed"),
            ],
        ),
        _counted(
            "reference",
            [
                (len(commit.bib_added), "added"),
                (len(commit.bib_changed), "updated"),
                (len(commit.bib_removed), "removed"),
            ],
        ),
        "vocabularies edited" if commit.vocabulary_changed else "",
    ]
    text = "; ".join(p for p in parts if p)
    return text[:1].upper() + text[1:]


def _what_changed(commit: Commit) -> str:
    if commit.boundary:
        return _e(
            f"Earlier history is not in this clone, so this commit is not compared with its parent; at this point "
            f"the data set had {_plural(commit.total_rows, 'finding')} and {_plural(commit.total_refs, 'reference')}."
        )
    if commit.tag_only:
        return "Tagged release; this commit itself did not change the data."
    if commit.empty:
        return "No finding or reference added, changed or removed (formatting or comments only)."
    labels = commit.labels
    sections = []
    if commit.added:
        sections.append(
            _list(
                f"Added {_plural(len(commit.added), 'finding')}:",
                [f"{_e(r.get('id', ''))}: {_e(summarise_row(r, labels))}" for r in commit.added],
            )
        )
    if commit.changed:
        sections.append(
            _list(
                f"Changed {_plural(len(commit.changed), 'finding')}:",
                [
                    f"{_e(new.get('id', ''))}: {_e(summarise_row(new, labels))}; changed: {_e(', '.join(fields))}"
                    for _old, new, fields in commit.changed
                ],
            )
        )
    if commit.repointed:
        sections.append(
            _list(
                f"Re-pointed {_plural(len(commit.repointed), 'finding')} to another source "
                "(the work behind the source article's reference number, where it is now identified):",
                [
                    f"{_e(new.get('id', ''))}: {_e(_finding(new))}: "
                    f"{_e(_source(old, labels))} → {_e(_source(new, labels, numbers=True))}"
                    for old, new in commit.repointed
                ],
            )
        )
    resolved = [(n, new) for n, old, new in commit.numbers if new and not old]
    moved = [(n, old, new) for n, old, new in commit.numbers if new and old]
    unresolved = [(n, old) for n, old, new in commit.numbers if old and not new]
    if resolved:
        sections.append(
            _list(
                f"Identified the work behind {_plural(len(resolved), 'reference number')} of the source article:",
                [f"[{n}] {_e(labels.get(key, key))}" for n, key in resolved],
            )
        )
    if moved:
        sections.append(
            _list(
                f"Re-identified {_plural(len(moved), 'reference number')}:",
                [
                    f"[{n}] {_e(labels.get(new, new))} (was {_e(labels.get(old, old))})"
                    for n, old, new in moved
                ],
            )
        )
    if unresolved:
        sections.append(
            _list(
                f"{_plural(len(unresolved), 'reference number')} no longer identified "
                "(the work did not fit what the article says there):",
                [f"[{n}] was {_e(labels.get(old, old))}" for n, old in unresolved],
            )
        )
    if commit.removed:
        sections.append(
            _list(
                f"Removed {_plural(len(commit.removed), 'finding')}:",
                [f"{_e(r.get('id', ''))}: {_e(summarise_row(r, labels))}" for r in commit.removed],
            )
        )
    for attribute, verb in (
        ("bib_added", "Added"),
        ("bib_changed", "Updated"),
        ("bib_removed", "Removed"),
    ):
        keys = getattr(commit, attribute)
        if keys:
            sections.append(
                _list(
                    f"{verb} {_plural(len(keys), 'reference')}:",
                    [
                        _e(labels.get(k, k))
                        + (f", <em>{_e(commit.titles[k])}</em>" if commit.titles.get(k) else "")
                        for k in keys
                    ],
                )
            )
    if commit.vocabulary_changed:
        sections.append("<p>The intervention or mediator vocabulary was edited.</p>")
    return f"<details><summary>{_e(change_counts(commit))}</summary>{''.join(sections)}</details>"


def _conclusions(commit: Commit) -> str:
    if commit.boundary:
        return "Not compared"
    if commit.tag_only or not commit.conclusions:
        return "No"
    items = "".join(f"<li>{_e(flip)}</li>" for flip in commit.conclusions)
    head = "<strong>First verdicts</strong>" if commit.first_verdicts else "<strong>Yes</strong>"
    if len(commit.conclusions) <= 3:
        return f"{head}<ul>{items}</ul>"
    what = "stated" if commit.first_verdicts else "changed"
    return (
        f"{head}<details><summary>{_plural(len(commit.conclusions), 'verdict')} "
        f"{what}</summary><ul>{items}</ul></details>"
    )


def _event(commit: Commit) -> str:
    tags = "".join(f"<br>Release {_e(t)}" for t in commit.tags)
    return f"{_e(commit.subject)}<br>commit <code>{_e(commit.short)}</code>{tags}"


def whats_new_html(limit: int = 50, root: Path | None = None) -> str:
    """The page: an intro sentence and one table row per commit (newest first); all text escaped."""
    root = (root or paths.find_root()).resolve()
    found, repo = commits(root, limit)
    if not repo.available:
        return (
            f"<p>The history of changes cannot be shown here: {_e(repo.reason)}. "
            "The published site is built from the repository, where this page lists every change.</p>"
        )
    entries = found + _tag_only_commits(root, found)
    if len(entries) > len(found):  # newest first, by commit graph order (timestamps can tie)
        order = {
            sha: i
            for i, sha in enumerate(
                _text(git.run(root, "rev-list", "--topo-order", "--all")).split()
            )
        }
        entries.sort(key=lambda c: order.get(c.sha, len(order)))
    notes = []
    if not found:
        notes.append("No committed change to the evidence or the bibliography yet.")
    else:
        scope = f"the last {len(found)} commits" if len(found) >= limit else "every commit"
        changed = sum(1 for c in found if c.conclusions)
        notes.append(
            "Changes to the evidence (data/evidence.csv), its vocabularies, the bibliography "
            "(references.bib) and the identification of the source article's reference numbers "
            f"(data/reference_map.csv), newest first: {scope} that touched them. "
            f"{_plural(changed, 'change')} altered a summary-of-findings verdict."
        )
    if repo.shallow:
        notes.append(
            "This copy of the repository is a shallow clone, so older changes are not listed."
        )
    if _dirty(root):
        notes.append("Changes not yet committed are not listed.")
    out = "".join(f"<p>{_e(n)}</p>" for n in notes)
    if entries:
        rows = "".join(
            f"<tr><td>{_e(c.date)}</td><td>{_event(c)}</td><td>{_what_changed(c)}</td>"
            f"<td>{_conclusions(c)}</td></tr>"
            for c in entries
        )
        caption = "Changes to the evidence, newest first"
        out += (
            f'<div class="review-table review-whatsnew" role="region" tabindex="0" aria-label="{caption}">'
            f'<table class="table"><caption>{caption}</caption><thead><tr>'
            '<th scope="col">Date</th><th scope="col">Event</th><th scope="col">What changed</th>'
            '<th scope="col">Conclusions changed</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></div>"
        )
    return out


def whats_new(limit: int = 50):
    """For the page: the table, re-executed when the data's history changes."""
    from IPython.display import HTML

    history_state()  # recorded by provenance: the page depends on the data's history
    return HTML(whats_new_html(limit))
