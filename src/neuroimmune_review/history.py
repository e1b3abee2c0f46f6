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
"""

from __future__ import annotations

import csv
import html
import io
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import paths
from .bib import SOURCE_ARTICLE_KEY
from .provenance import tracked

EVIDENCE = "data/evidence.csv"
BIBLIOGRAPHY = "references.bib"
REFERENCE_MAP = "data/reference_map.csv"
TRACKED_FILES = (EVIDENCE, BIBLIOGRAPHY, REFERENCE_MAP)
# Fields that moved out of the BibTeX into data files: dropping them is not a change of the work.
MOVED_BIB_FIELDS = ("reviewref", "source")
_SEP, _END = "\x1f", "\x1e"


# ---------------------------------------------------------------------------
# git, safely


def _git(root: Path, *args: str, stdin: bytes | None = None) -> bytes | None:
    """Output of a git command in *root*, or None if git is missing or the command fails."""
    if shutil.which("git") is None:
        return None
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=root,
            input=stdin,
            capture_output=True,
            timeout=120,
            env=env,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


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
    inside = _text(_git(root, "rev-parse", "--is-inside-work-tree")).strip()
    if inside != "true":
        repo.reason = "this copy of the review is not a git checkout"
        return repo
    if _git(root, "rev-parse", "--verify", "-q", "HEAD") is None:
        repo.reason = "the repository has no commits yet"
        return repo
    repo.prefix = _text(_git(root, "rev-parse", "--show-prefix")).strip()
    repo.shallow = _text(_git(root, "rev-parse", "--is-shallow-repository")).strip() == "true"
    if repo.shallow:
        shallow_file = _text(_git(root, "rev-parse", "--git-path", "shallow")).strip()
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
        _git(
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
    out = _text(_git(root, "status", "--porcelain", "--", *TRACKED_FILES))
    return any(line.strip() for line in out.splitlines())


def state(root: Path | None = None) -> dict[str, Any]:
    """Everything the page's content depends on, cheaply: last data commit, tags, clone depth."""
    root = (root or paths.find_root()).resolve()
    repo = repository(root)
    if not repo.available:
        return {"available": False, "reason": repo.reason}
    last = _text(_git(root, "log", "-1", "--format=%H", "--", *TRACKED_FILES)).strip()
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
        )


def _read_blobs(root: Path, names: list[str]) -> list[bytes | None]:
    """Contents of ``rev:path`` objects in one ``git cat-file --batch`` call (None if missing)."""
    if not names:
        return []
    out = _git(root, "cat-file", "--batch", stdin="".join(f"{n}\n" for n in names).encode())
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
        _git(
            root,
            "log",
            f"-n{int(limit)}",
            f"--format=%H{_SEP}%P{_SEP}%ct{_SEP}%cs{_SEP}%s{_END}",
            "--",
            *TRACKED_FILES,
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
        for path in TRACKED_FILES:
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
    width = 2 * len(TRACKED_FILES)
    for index, commit in enumerate(found):
        new_csv, old_csv, new_bib, old_bib, new_map, old_map = contents[
            width * index : width * index + width
        ]
        commit.tags = tags.get(commit.sha, [])
        if commit.boundary:
            commit.total_rows, commit.total_refs = len(_rows(new_csv)), len(_bib(new_bib).entries)
            continue
        _compare(commit, old_csv, new_csv, old_bib, new_bib, current_labels, old_map, new_map)
    return found, repo


def _tag_only_commits(root: Path, listed: list[Commit]) -> list[Commit]:
    """Tags on commits that did not touch the data, within the period shown."""
    listed_shas = {c.sha for c in listed}
    tags = {sha: names for sha, names in _tags(root).items() if sha not in listed_shas}
    if not tags:
        return []
    out = _text(
        _git(
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
# Markdown


_MARKDOWN_SPECIAL = {ord(c): f"\\{c}" for c in "\\`*_{}[]()#+!|<>~"}


def _escape(text: str) -> str:
    """Text from the data made inert in Markdown: HTML-escaped, then Markdown punctuation escaped.

    Quotes are left alone: an entity such as ``&#x27;`` would be broken by escaping its ``#``.
    """
    return html.escape(str(text), quote=False).translate(_MARKDOWN_SPECIAL)


def _source(row: dict[str, str], labels: dict[str, str], numbers: bool = False) -> str:
    """The row's source as a label; the source article (or, with *numbers*, any work) with its ref. numbers."""
    keys = [k.strip() for k in row.get("citation", "").split(";") if k.strip()]
    parts = []
    for key in keys:
        label = labels.get(key, key)
        if (key == SOURCE_ARTICLE_KEY or numbers) and row.get("review_ref", "").strip():
            refs = ", ".join(r.strip() for r in row["review_ref"].split(";") if r.strip())
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


def _items(lines: list[str], max_items: int) -> list[str]:
    shown = [f"  - {line}" for line in lines[:max_items]]
    if len(lines) > max_items:
        shown.append(f"  - … and {len(lines) - max_items} more")
    return shown


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _commit_markdown(commit: Commit, max_items: int) -> list[str]:
    tags = "".join(f" · tag {_escape(t)}" for t in commit.tags)
    lines = [f"**{commit.date} · commit {commit.short}{tags}** — {_escape(commit.subject)}", ""]
    if commit.boundary:
        lines.append(
            f"- Earlier history is not in this clone, so this commit is not compared with its parent; at this point "
            f"the data set had {_plural(commit.total_rows, 'finding')} and {_plural(commit.total_refs, 'reference')}."
        )
    elif commit.tag_only:
        lines.append("- Tagged release; this commit itself did not change the data.")
    elif commit.empty:
        lines.append(
            "- No finding or reference added, changed or removed (formatting or comments only)."
        )
    labels = commit.labels
    if commit.added:
        lines.append(f"- Added {_plural(len(commit.added), 'finding')}:")
        lines += _items(
            [
                f"{_escape(r.get('id', ''))}: {_escape(summarise_row(r, labels))}"
                for r in commit.added
            ],
            max_items,
        )
    if commit.changed:
        lines.append(f"- Changed {_plural(len(commit.changed), 'finding')}:")
        lines += _items(
            [
                f"{_escape(new.get('id', ''))}: {_escape(summarise_row(new, labels))}; changed: {_escape(', '.join(fields))}"
                for _old, new, fields in commit.changed
            ],
            max_items,
        )
    if commit.repointed:
        lines.append(
            f"- Re-pointed {_plural(len(commit.repointed), 'finding')} to another source "
            "(the work behind the source article's reference number, where it is now identified):"
        )
        lines += _items(
            [
                f"{_escape(new.get('id', ''))}: {_escape(_finding(new))}: "
                f"{_escape(_source(old, labels))} → {_escape(_source(new, labels, numbers=True))}"
                for old, new in commit.repointed
            ],
            max_items,
        )
    resolved = [(n, new) for n, old, new in commit.numbers if new and not old]
    moved = [(n, old, new) for n, old, new in commit.numbers if new and old]
    unresolved = [(n, old) for n, old, new in commit.numbers if old and not new]
    if resolved:
        lines.append(
            f"- Identified the work behind {_plural(len(resolved), 'reference number')} of the source article:"
        )
        lines += _items(
            [f"\\[{n}\\] {_escape(labels.get(key, key))}" for n, key in resolved], max_items
        )
    if moved:
        lines.append(f"- Re-identified {_plural(len(moved), 'reference number')}:")
        lines += _items(
            [
                f"\\[{n}\\] {_escape(labels.get(new, new))} (was {_escape(labels.get(old, old))})"
                for n, old, new in moved
            ],
            max_items,
        )
    if unresolved:
        lines.append(
            f"- {_plural(len(unresolved), 'reference number')} no longer identified "
            "(the work did not fit what the article says there):"
        )
        lines += _items(
            [f"\\[{n}\\] was {_escape(labels.get(old, old))}" for n, old in unresolved], max_items
        )
    if commit.removed:
        lines.append(f"- Removed {_plural(len(commit.removed), 'finding')}:")
        lines += _items(
            [
                f"{_escape(r.get('id', ''))}: {_escape(summarise_row(r, labels))}"
                for r in commit.removed
            ],
            max_items,
        )
    for attribute, verb in (
        ("bib_added", "Added"),
        ("bib_changed", "Updated"),
        ("bib_removed", "Removed"),
    ):
        keys = getattr(commit, attribute)
        if keys:
            lines.append(f"- {verb} {_plural(len(keys), 'reference')}:")
            lines += _items(
                [
                    f"{_escape(labels.get(k, k))}"
                    + (f", *{_escape(commit.titles[k])}*" if commit.titles.get(k) else "")
                    + f" ({_escape(k)})"
                    for k in keys
                ],
                max_items,
            )
    lines.append("")
    return lines


def whats_new_markdown(limit: int = 50, root: Path | None = None, max_items: int = 25) -> str:
    """The page's Markdown: one block per commit (newest first), all text from the data escaped."""
    root = (root or paths.find_root()).resolve()
    found, repo = commits(root, limit)
    if not repo.available:
        return (
            f"The history of changes cannot be shown here: {_escape(repo.reason)}. "
            "The published site is built from the repository, where this page lists every change."
        )
    entries = found + _tag_only_commits(root, found)
    if len(entries) > len(found):  # newest first, by commit graph order (timestamps can tie)
        order = {
            sha: i
            for i, sha in enumerate(_text(_git(root, "rev-list", "--topo-order", "--all")).split())
        }
        entries.sort(key=lambda c: order.get(c.sha, len(order)))
    lines = []
    if not found:
        lines.append("No committed change to the evidence or the bibliography yet.")
        lines.append("")
    else:
        lines.append(
            "Changes to the evidence (`data/evidence.csv`), the bibliography (`references.bib`) and the "
            "identification of the source article's reference numbers (`data/reference_map.csv`), newest first; "
            f"{'the last ' + str(len(found)) + ' commits' if len(found) >= limit else 'every commit'} that touched them."
        )
        lines.append("")
    if repo.shallow:
        lines.append(
            "This copy of the repository is a shallow clone, so older changes are not listed."
        )
        lines.append("")
    if _dirty(root):
        lines.append("Changes not yet committed are not listed.")
        lines.append("")
    for commit in entries:
        lines += _commit_markdown(commit, max_items)
    return "\n".join(lines).rstrip() + "\n"


def whats_new(limit: int = 50):
    """For the page: the Markdown, re-executed when the data's history changes."""
    from .render import markdown

    history_state()  # recorded by provenance: the page depends on the data's history
    return markdown(whats_new_markdown(limit))
