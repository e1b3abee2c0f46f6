"""Rules of the screening tables (search log, queue, decisions) that a Table Schema cannot express."""

from __future__ import annotations

from ..problems import ERROR, Problem, show


def check_screening(tables: dict, bibliography=None) -> list[Problem]:
    """An exclusion has a reason and an include none; an include names a key of references.bib;
    duplicates are never screened; ``duplicate_of`` points at an earlier record."""
    problems: list[Problem] = []
    queue = tables.get("screening_queue")
    decisions = tables.get("screening")
    known_keys = set(bibliography.entries) if bibliography is not None else None
    duplicates: dict[str, str] = {}
    if queue is not None and {"record_id", "duplicate_of"} <= set(queue.frame.columns):
        seen: set[str] = set()
        for line, record_id, dup in zip(
            queue.frame.index, queue.frame["record_id"], queue.frame["duplicate_of"], strict=True
        ):
            if dup.startswith("R") and dup not in seen:
                problems.append(
                    Problem(
                        queue.path,
                        int(line),
                        "duplicate_of",
                        f"{show(dup)} is not a record listed above this one; expected an earlier record_id",
                    )
                )
            if dup.startswith("bib:") and known_keys is not None and dup[4:] not in known_keys:
                problems.append(
                    Problem(
                        queue.path,
                        int(line),
                        "duplicate_of",
                        f"{show(dup)} names no entry of references.bib; expected bib:KEY of an existing entry",
                    )
                )
            if dup:
                duplicates[record_id] = dup
            seen.add(record_id)
    if decisions is None or not {"record_id", "decision", "reason", "reference"} <= set(
        decisions.frame.columns
    ):
        return problems
    frame = decisions.frame
    for line, record_id, decision, reason, reference in zip(
        frame.index,
        frame["record_id"],
        frame["decision"],
        frame["reason"],
        frame["reference"],
        strict=True,
    ):
        line = int(line)
        if decision == "exclude" and not reason.strip():
            problems.append(
                Problem(
                    decisions.path,
                    line,
                    "reason",
                    f"record {record_id} is excluded without a reason; expected one of the reasons in datapackage.json",
                )
            )
        if decision == "include" and reason.strip():
            problems.append(
                Problem(
                    decisions.path,
                    line,
                    "reason",
                    f"record {record_id} is included but has the reason {show(reason)}; expected an empty reason",
                )
            )
        if decision == "include" and not reference.strip():
            problems.append(
                Problem(
                    decisions.path,
                    line,
                    "reference",
                    f"record {record_id} is included without a reference key; expected its key in references.bib",
                )
            )
        if (
            decision == "include"
            and reference.strip()
            and known_keys is not None
            and reference not in known_keys
        ):
            problems.append(
                Problem(
                    decisions.path,
                    line,
                    "reference",
                    f"{show(reference)} is not a key in references.bib; expected the key of the included record",
                )
            )
        if decision == "exclude" and reference.strip():
            problems.append(
                Problem(
                    decisions.path,
                    line,
                    "reference",
                    f"record {record_id} is excluded but names the reference {show(reference)}; expected it empty",
                )
            )
        if record_id in duplicates:
            problems.append(
                Problem(
                    decisions.path,
                    line,
                    "record_id",
                    f"record {record_id} is a duplicate of {duplicates[record_id]}, removed before screening; "
                    "expected a decision on a record to screen",
                    ERROR,
                )
            )
    return problems
