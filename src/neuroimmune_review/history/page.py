"""Rendering the "What's new" page: a Cochrane-style table of changes, one row per commit."""

from __future__ import annotations

import html
from pathlib import Path

from .. import git, paths
from ..bib import SOURCE_ARTICLE_KEY
from ..text import plural, split_list
from .compare import Commit, _tag_only_commits, commits
from .repo import _dirty


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
    return ", ".join([f"{plural(first, noun)} {verb}", *(f"{n} {v}" for n, v in rest)])


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
            f"the data set had {plural(commit.total_rows, 'finding')} and {plural(commit.total_refs, 'reference')}."
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
                f"Added {plural(len(commit.added), 'finding')}:",
                [f"{_e(r.get('id', ''))}: {_e(summarise_row(r, labels))}" for r in commit.added],
            )
        )
    if commit.changed:
        sections.append(
            _list(
                f"Changed {plural(len(commit.changed), 'finding')}:",
                [
                    f"{_e(new.get('id', ''))}: {_e(summarise_row(new, labels))}; changed: {_e(', '.join(fields))}"
                    for _old, new, fields in commit.changed
                ],
            )
        )
    if commit.repointed:
        sections.append(
            _list(
                f"Re-pointed {plural(len(commit.repointed), 'finding')} to another source "
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
                f"Identified the work behind {plural(len(resolved), 'reference number')} of the source article:",
                [f"[{n}] {_e(labels.get(key, key))}" for n, key in resolved],
            )
        )
    if moved:
        sections.append(
            _list(
                f"Re-identified {plural(len(moved), 'reference number')}:",
                [
                    f"[{n}] {_e(labels.get(new, new))} (was {_e(labels.get(old, old))})"
                    for n, old, new in moved
                ],
            )
        )
    if unresolved:
        sections.append(
            _list(
                f"{plural(len(unresolved), 'reference number')} no longer identified "
                "(the work did not fit what the article says there):",
                [f"[{n}] was {_e(labels.get(old, old))}" for n, old in unresolved],
            )
        )
    if commit.removed:
        sections.append(
            _list(
                f"Removed {plural(len(commit.removed), 'finding')}:",
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
                    f"{verb} {plural(len(keys), 'reference')}:",
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
        f"{head}<details><summary>{plural(len(commit.conclusions), 'verdict')} "
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
                (git.text(root, "rev-list", "--topo-order", "--all") or "").split()
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
            f"{plural(changed, 'change')} altered a summary-of-findings verdict."
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
