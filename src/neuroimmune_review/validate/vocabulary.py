"""Rules of the vocabularies (``interventions.csv``, ``mediators.csv``) a Table Schema cannot state.

Aliases and synonyms name one entry each, and a pooled group lists the drugs it pools.
"""

from __future__ import annotations

from ..problems import WARNING, Problem, show
from ..text import split_list
from .judge import _messages, judge_distinct
from .reader import CsvTable
from .report import Suggester

# Columns of a vocabulary that hold other spellings of its names, used for "did you mean".
ALIAS_COLUMNS = ("aliases", "synonyms")
POOLED_KIND = "pooled_group"
MEMBERS_COLUMN = "members"


def aliases(table: CsvTable, name_column: str) -> dict[str, str]:
    """Alias -> name from a vocabulary's alias/synonym columns (';'-separated)."""
    found: dict[str, str] = {}
    for column in ALIAS_COLUMNS:
        if column in table.frame and name_column in table.frame:
            for name, cell in zip(table.frame[name_column], table.frame[column], strict=False):
                for alias in split_list(cell):
                    found.setdefault(alias, name)
    return found


def check_aliases(table: CsvTable, name_column: str = "name") -> list[Problem]:
    """An alias or synonym must not be the name of another entry (error: it would point a reader,
    and the "did you mean" hints, at the wrong entry); one shared by two entries is ambiguous
    (warning)."""
    problems: list[Problem] = []
    for column in ALIAS_COLUMNS:
        if column in table.frame and name_column in table.frame and not table.frame.empty:
            problems += _alias_problems(table, column, name_column)
    return problems


def _alias_problems(table: CsvTable, column: str, name_column: str) -> list[Problem]:
    frame = table.frame
    names = set(frame[name_column])
    owners: dict[str, set[str]] = {}
    for name, cell in zip(frame[name_column], frame[column], strict=False):
        for alias in split_list(cell):
            owners.setdefault(alias.casefold(), set()).add(name)

    def clash(pair: str) -> str | None:
        name, cell = pair.split("\x1f", 1)
        clashes = [a for a in split_list(cell) if a in names and a != name]
        if clashes:
            return (
                f"{column} of {show(name)} lists {', '.join(map(show, clashes))}, the name of another "
                f"entry; expected only other spellings of {show(name)} (remove it from {column})"
            )
        return None

    def shared(pair: str) -> str | None:
        name, cell = pair.split("\x1f", 1)
        both = {
            a: sorted(owners[a.casefold()] - {name})
            for a in split_list(cell)
            if len(owners.get(a.casefold(), ())) > 1 and a not in names
        }
        if not both:
            return None
        listed = "; ".join(f"{show(a)} also of {', '.join(map(show, o))}" for a, o in both.items())
        return (
            f"{column} of {show(name)} shared with other entries ({listed}); "
            "expected each alias to name one entry"
        )

    pairs = frame[name_column] + "\x1f" + frame[column]
    return _messages(table.path, column, judge_distinct(pairs, clash)) + _messages(
        table.path, column, judge_distinct(pairs, shared), WARNING
    )


def check_pooled_groups(table: CsvTable) -> list[Problem]:
    """A pooled_group lists >= 2 members, each a drug of this file; its drug_class is set exactly
    when all members share one class, and then equals it; other kinds have no members."""
    frame = table.frame
    if not {"name", "kind", "drug_class", MEMBERS_COLUMN} <= set(frame.columns) or frame.empty:
        return []
    kinds = dict(zip(frame["name"], frame["kind"], strict=False))
    classes = dict(zip(frame["name"], frame["drug_class"], strict=False))
    suggest = Suggester(sorted(kinds))
    separator = "\x1f"

    def judge(triple: str) -> str | None:
        kind, members_cell, drug_class = triple.split(separator)
        members = split_list(members_cell)
        if kind != POOLED_KIND:
            if members:
                return f"members {show(members_cell)} given for kind {show(kind)}; expected members only for kind {POOLED_KIND!r}"
            return None
        if len(members) < 2:
            return (
                f"pooled group has {len(members)} member(s) ({show(members_cell)}); expected at least two "
                "drug names separated by ';'"
            )
        unknown = [m for m in members if m not in kinds]
        if unknown:
            hints = "".join(suggest.hint(m) for m in unknown[:3])
            return f"member(s) {', '.join(map(show, unknown))} not a name in {table.path}{hints}; expected drugs listed in this file"
        not_drugs = [m for m in members if kinds[m] != "drug"]
        if not_drugs:
            return (
                f"member(s) {', '.join(f'{show(m)} (kind {kinds[m]})' for m in not_drugs)} are not drugs; "
                "expected each member to be of kind 'drug'"
            )
        shared = {classes[m] for m in members}
        common = shared.pop() if len(shared) == 1 else ""
        if drug_class != common:
            if common:
                return (
                    f"drug_class {show(drug_class)} but every member is {show(common)}; expected drug_class "
                    f"{show(common)}"
                )
            listed = ", ".join(f"{m}={show(classes[m])}" for m in members)
            return (
                f"drug_class {show(drug_class)} but the members do not share one class ({listed}); expected "
                "drug_class empty"
            )
        return None

    triples = frame["kind"] + separator + frame[MEMBERS_COLUMN] + separator + frame["drug_class"]
    return _messages(table.path, MEMBERS_COLUMN, judge_distinct(triples, judge))
