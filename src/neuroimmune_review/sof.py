"""Summary of findings: what the data say each antidepressant class does, and how sure that is.

In the spirit of Cochrane's summary-of-findings tables, computed from ``data/`` alone:

* per mediator family and inflammatory role (``mediators.csv`` ``family`` and
  ``inflammatory_role``): the net direction of change, its pro-/anti-inflammatory reading,
  the number of independent sources and their evidence types;
* per class: a net *inflammatory reading* over the pro- and anti-inflammatory mediators,
  a plain-language bottom line and a certainty label from :data:`CERTAINTY_RULE`.

Everything here is pure pandas on three DataFrames (evidence, interventions, mediators), so
the "What's new" page can recompute the verdicts of every past version from ``git show``
(:func:`verdicts_from_frames`) and name the ones that flipped. No altair, no page output:
:mod:`neuroimmune_review.pages.summaries` draws the tables.

Counting follows the evidence model: votes are of independent sources, never of rows, so a
pooled result fanned out into per-drug rows, or a duplicated row, cannot add a vote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import data
from .bib import SOURCE_ARTICLE_KEY
from .text import split_list

VOTED = ("decrease", "increase", "no_change")


def role_order() -> list[str]:
    """Inflammatory roles in display order (mediators.inflammatory_role in datapackage.json)."""
    from . import data

    return data.enum(table="mediators", field="inflammatory_role")


def role_adjectives() -> dict[str, str]:
    """'pro' -> 'pro-inflammatory' …: the role labels of datapackage.json."""
    from . import data

    return data.labels("mediators", "inflammatory_role")


# What a net direction of a mediator group means for inflammation.
READING = {
    ("pro", "decrease"): "anti-inflammatory",
    ("pro", "increase"): "pro-inflammatory",
    ("anti", "increase"): "anti-inflammatory",
    ("anti", "decrease"): "pro-inflammatory",
}
CLINICAL = "clinical"
EXPERIMENTAL = ("preclinical_in_vivo", "ex_vivo", "in_vitro")
LEVELS = ("very low", "low", "moderate")  # no verdict can reach "high": see CERTAINTY_RULE
AGREEMENT_THRESHOLD = 0.75
MIN_SOURCES = 3
CERTAINTY_NAME = "Certainty (simple GRADE-inspired rule, not a GRADE assessment)"
CERTAINTY_RULE = (
    "Certainty is a simple rule inspired by GRADE, not a GRADE assessment. "
    "It starts at moderate when at least one source supporting the net direction is clinical, "
    "at low when the supporting sources are experimental only (animals, ex vivo or cultured cells), "
    "and at very low when their evidence type is not stated. "
    f"It drops one level when fewer than {int(AGREEMENT_THRESHOLD * 100)}% of the directions the sources "
    "report support the net direction (inconsistency; a source that reports both directions counts for "
    "both), and one level when fewer than "
    f"{MIN_SOURCES} independent sources support it (few sources); it never goes below very low. "
    "No verdict can be rated high: the data are vote counts of directions taken from a narrative "
    "review, without effect sizes or an assessment of each study's risk of bias. "
    "Where the sources conflict and no direction wins, the certainty is not rated."
)


# ---------------------------------------------------------------------------
# Sources


def source_ids(citation: str, review_ref: str) -> list[str]:
    """The independent sources of one row (evidence model v2 counting rule).

    The citation key, unless it is the source article: then the article plus the sorted set
    of its reference numbers (an unresolved reference), or the article itself when the row
    has no number (the review's own claim). Rows of the v1 model may cite several keys; each
    primary key is then a source.
    """
    keys = split_list(citation)
    primary = sorted({k for k in keys if k != SOURCE_ARTICLE_KEY})
    if primary:
        return primary
    # One rule for the source article's unresolved references: data.source_id.
    return [data.source_id({"citation": SOURCE_ARTICLE_KEY, "review_ref": review_ref})]


# ---------------------------------------------------------------------------
# Verdicts


@dataclass
class Verdict:
    """The net direction (or reading) of a set of findings, counted by independent source."""

    net: str  # decrease / increase / no_change / conflicting / none
    supporting: int  # sources reporting the net direction
    voting: int  # source votes: each source once per direction it reports
    sources: int  # all independent sources of the rows (voted or not)
    rows: int
    evidence_types: list[str] = field(default_factory=list)  # of all sources, display order
    supporting_types: list[str] = field(default_factory=list)
    certainty: str = "not rated"
    reasons: list[str] = field(default_factory=list)  # why the certainty was lowered


def net_direction(votes: Mapping[str, int]) -> str:
    """The net of directed votes: the largest of decrease/increase (ties with no change allowed),
    no change if it outnumbers both, "conflicting" on a tie, "none" with no vote.  The one rule
    the summary of findings and the meta-analysis comparison share."""
    dec, inc, nc = (votes.get(d, 0) for d in VOTED)
    if dec == inc == nc == 0:
        return "none"
    if dec > inc and dec >= nc:
        return "decrease"
    if inc > dec and inc >= nc:
        return "increase"
    if nc > max(dec, inc):
        return "no_change"
    return "conflicting"


def certainty(supporting_types: set[str], supporting: int, voting: int) -> tuple[str, list[str]]:
    """The certainty label of a net direction and the reasons it was lowered (CERTAINTY_RULE)."""
    if supporting == 0:
        return "not rated", []
    if CLINICAL in supporting_types:
        level, reasons = 2, []
    elif supporting_types & set(EXPERIMENTAL):
        level, reasons = 1, ["experimental evidence only"]
    else:
        level, reasons = 0, ["evidence type not stated"]
    return _lowered(level, reasons, supporting, voting)


def agree(n: int) -> str:
    """'1 of 3 source votes agrees', '2 of 3 … agree'."""
    return "agrees" if n == 1 else "agree"


def _lowered(level: int, reasons: list[str], supporting: int, voting: int):
    reasons = list(reasons)
    if supporting / voting < AGREEMENT_THRESHOLD:
        level -= 1
        reasons.append(f"inconsistent: {supporting} of {voting} source votes {agree(supporting)}")
    if supporting < MIN_SOURCES:
        level -= 1
        reasons.append(f"{supporting} supporting source" + ("" if supporting == 1 else "s"))
    return LEVELS[max(level, 0)], reasons


def _type_order(types) -> list[str]:
    order = (CLINICAL, *EXPERIMENTAL, "unspecified")
    # Performance: a column's distinct values first (set() over a pandas string column
    # iterates it element by element: a second per class at 1000x).
    distinct = types.unique() if isinstance(types, pd.Series) else types
    return sorted(set(distinct), key=lambda t: order.index(t) if t in order else len(order))


def verdict(pairs: pd.DataFrame, vote_column: str = "direction") -> Verdict:
    """Verdict of a frame with one row per (source, vote, evidence_type) and a ``rows`` count.

    ``pairs`` holds columns ``source``, ``evidence_type``, *vote_column*; a source counts
    once per distinct vote, however many rows carry it.
    """
    if pairs.empty:
        return Verdict("none", 0, 0, 0, 0)
    # Performance: a class verdict asks this of ~60 small frames (one per mediator family and
    # role); pandas' filters and groupbys on each were most of the home page's verdicts.  The
    # same counts from each column's values once: distinct sources ignore missing ones, as
    # ``nunique`` does, and votes are in the sorted order of the groupby they replace.
    sources = pairs["source"].tolist()
    votes_of = pairs[vote_column].tolist()
    types = pairs["evidence_type"].to_numpy()
    voted = [i for i, vote in enumerate(votes_of) if isinstance(vote, str) and vote in VOTED]
    by_vote: dict[str, set] = {}
    for i in voted:
        by_vote.setdefault(votes_of[i], set())
        if not _missing(sources[i]):
            by_vote[votes_of[i]].add(sources[i])
    votes = {vote: len(by_vote[vote]) for vote in sorted(by_vote)}
    net = net_direction(votes)
    support = [i for i in voted if votes_of[i] == net] if net in VOTED else []
    # (the column's own scalars, as its unique() gives them)
    supporting_types = set(pd.unique(types[np.asarray(support, dtype=np.intp)]))
    # A source that reports both directions votes for both: agreement is of source votes.
    n_support = len({sources[i] for i in support if not _missing(sources[i])})
    n_voting = sum(votes.values())
    label, reasons = certainty(supporting_types, n_support, n_voting)
    if net == "conflicting":
        label, reasons = "not rated", ["sources conflict"]
    return Verdict(
        net=net,
        supporting=int(n_support),
        voting=int(n_voting),
        sources=len({source for source in sources if not _missing(source)}),
        rows=_row_count(pairs),
        evidence_types=_type_order(pairs["evidence_type"]),
        supporting_types=_type_order(supporting_types),
        certainty=label,
        reasons=reasons,
    )


def _missing(value) -> bool:
    """What ``nunique`` leaves out: a missing value (None, NaN, pd.NA)."""
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def class_rows(joined: pd.DataFrame, drug_class: str) -> pd.DataFrame:
    """The findings synthesised for a class: its drugs, pooled groups and class entry, and
    (evidence model v2) only intervention effects. Versions before v2 had no claim type."""
    rows = joined[joined["drug_class"] == drug_class]
    if "claim_type" in rows.columns:
        rows = rows[rows["claim_type"] == "intervention_effect"]
    return rows


# What a class verdict reads of a finding.  Performance: findings alike in all of these are
# counted once, with their number (``n_rows``), before sources are worked out and votes
# counted (at 1000x, 357,000 rows are ~2,000 distinct findings).
_FINDING = ["citation", "review_ref", "direction", "evidence_type", "family"]
_FINDING += ["inflammatory_role", "mediator"]


def _distinct_findings(rows: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """One row per distinct finding (of *by* + ``_FINDING``), with ``n_rows``, its rows."""
    if "n_rows" in rows:
        return rows
    # (A past version's evidence may lack a column: its verdicts are of no rows then.)
    columns = [c for c in (*(by or []), *_FINDING) if c in rows.columns]
    if rows.empty:
        return pd.DataFrame(columns=[*columns, "n_rows"])
    return rows.groupby(columns, sort=False, dropna=False).size().reset_index(name="n_rows")


def _row_count(pairs: pd.DataFrame) -> int:
    """The findings behind *pairs* (one row per finding and source)."""
    if "n_rows" in pairs:
        return int(pairs.drop_duplicates("row")["n_rows"].sum())
    return int(pairs["row"].nunique()) if "row" in pairs else len(pairs)


def _pairs(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (finding, source): the unit the votes are counted over.

    *rows* may be distinct findings with their ``n_rows`` (:func:`_distinct_findings`); the
    pairs then carry it, and ``row`` numbers the distinct findings.
    """
    columns = ["row", "source", "direction", "evidence_type", "family", "inflammatory_role"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    if "n_rows" in rows:
        columns.append("n_rows")
    # Performance: the sources are worked out once per distinct (citation, review_ref), not
    # per row (357,000 rows at 1000x, a few hundred distinct pairs), and joined back.
    keys = rows[["citation", "review_ref"]].drop_duplicates()
    keys = keys.assign(
        source=[
            source_ids(c, r)
            for c, r in zip(keys["citation"].tolist(), keys["review_ref"].tolist(), strict=True)
        ]
    )
    frame = (
        rows.assign(row=range(len(rows)))
        .merge(keys, on=["citation", "review_ref"], how="left", sort=False)
        .explode("source")
    )
    return frame[[*columns, "mediator"]]


@dataclass
class GroupVerdict:
    family: str
    role: str
    mediators: list[str]
    verdict: Verdict
    reading: str


@dataclass
class ClassVerdict:
    drug_class: str
    groups: list[GroupVerdict]
    reading: Verdict  # net inflammatory reading over pro- and anti-inflammatory mediators
    rows: int
    sources: int
    evidence_types: list[str]
    unvoted_rows: int  # mixed / changed_unspecified rows, shown but not voted

    @property
    def net_reading(self) -> str:
        return READING_NAMES.get(self.reading.net, "none")


# The class reading reuses the direction vote: "decrease" of inflammation = anti-inflammatory.
READING_NAMES = {
    "decrease": "anti-inflammatory",
    "increase": "pro-inflammatory",
    "no_change": "no change",
    "conflicting": "conflicting",
    "none": "none",
}


def _group_reading(role: str, net: str) -> str:
    if role == "pleiotropic":
        return "no single reading (mediators with pro- and anti-inflammatory roles)"
    if role not in ("pro", "anti"):
        return "not classed as pro- or anti-inflammatory"
    if net in ("decrease", "increase"):
        return READING[(role, net)]
    return {"no_change": "no inflammatory shift", "conflicting": "unclear (sources conflict)"}.get(
        net, "no direction reported"
    )


def class_verdict(joined: pd.DataFrame, drug_class: str) -> ClassVerdict:
    """The summary of findings of one class, from evidence joined with its vocabularies."""
    return _verdict_of_rows(class_rows(joined, drug_class), drug_class)


def class_verdicts(
    joined: pd.DataFrame, classes: list[str] | tuple[str, ...]
) -> dict[str, ClassVerdict]:
    """:func:`class_verdict` of every class in *classes*, splitting *joined* once."""
    # Performance: one filter and one groupby over the evidence instead of one full-table
    # filter per class (the rows of each class are the same as class_rows gives).
    # Only the columns a verdict reads: a filter of the whole join copied its 22 columns.
    effects = joined[[c for c in ("drug_class", *_FINDING) if c in joined.columns]]
    if "claim_type" in joined.columns:
        effects = effects[(joined["claim_type"] == "intervention_effect").to_numpy()]
    findings = _distinct_findings(effects, ["drug_class"])
    by_class = dict(iter(findings.groupby("drug_class", sort=False)))
    return {c: _verdict_of_rows(by_class.get(c, findings.iloc[0:0]), c) for c in classes}


def _verdict_of_rows(rows: pd.DataFrame, drug_class: str) -> ClassVerdict:
    rows = _distinct_findings(rows)
    pairs = _pairs(rows)
    # Performance: one groupby instead of two full-table filters per (role, family).
    by_group = (
        dict(iter(pairs.groupby(["inflammatory_role", "family"], sort=False))) if len(pairs) else {}
    )
    groups = []
    for role in role_order():
        for family in sorted(f for r, f in by_group if r == role):
            part = by_group[(role, family)]
            v = verdict(part)
            groups.append(
                GroupVerdict(
                    family,
                    role,
                    sorted(set(part["mediator"].unique())),
                    v,
                    _group_reading(role, v.net),
                )
            )
    # Each vote on a pro-inflammatory mediator, or the opposite vote on an anti-inflammatory
    # one, is a vote for or against inflammation; "decrease" here means less inflammation.
    flip = {"increase": "decrease", "decrease": "increase", "no_change": "no_change"}
    reading_pairs = pairs[pairs["inflammatory_role"].isin(("pro", "anti"))].copy()
    direction = reading_pairs["direction"].astype(object)
    reading_pairs["inflammation"] = direction.where(
        reading_pairs["inflammatory_role"] == "pro", direction.map(flip).fillna(direction)
    )
    return ClassVerdict(
        drug_class=drug_class,
        groups=groups,
        reading=verdict(reading_pairs, "inflammation"),
        rows=int(rows["n_rows"].sum()),
        sources=int(pairs["source"].nunique()),
        evidence_types=_type_order(pairs["evidence_type"]),
        unvoted_rows=int(rows["n_rows"][~rows["direction"].isin(VOTED)].sum()),
    )


def join(
    evidence: pd.DataFrame, interventions: pd.DataFrame, mediators: pd.DataFrame
) -> pd.DataFrame:
    """Evidence rows with each intervention's class and each mediator's family and role."""
    iv = interventions.reindex(columns=["name", "drug_class"]).rename(
        columns={"name": "intervention"}
    )
    md = mediators.reindex(columns=["name", "family", "inflammatory_role"]).rename(
        columns={"name": "mediator"}
    )
    return (
        evidence.merge(iv, on="intervention", how="left")
        .merge(md, on="mediator", how="left")
        .fillna("")
    )


def verdicts_from_frames(
    evidence: pd.DataFrame,
    interventions: pd.DataFrame,
    mediators: pd.DataFrame,
    classes: list[str] | tuple[str, ...],
) -> dict[str, ClassVerdict]:
    return class_verdicts(join(evidence, interventions, mediators), classes)


def verdict_keys(verdicts: dict[str, ClassVerdict]) -> dict[str, str]:
    """The conclusions a version states, as comparable strings: per class its net reading and
    certainty, and per mediator group its net direction. "What's new" diffs these."""
    keys: dict[str, str] = {}
    for name, cv in verdicts.items():
        if cv.reading.net != "none":
            keys[f"{name}: overall reading"] = f"{cv.net_reading}, certainty {cv.reading.certainty}"
        for g in cv.groups:
            if g.verdict.net == "none":
                continue
            label = f"{name}: {role_adjectives().get(g.role, g.role)} {plural_family(g.family)}"
            keys[label] = DIRECTION_WORDS.get(g.verdict.net, g.verdict.net)
    return keys


DIRECTION_WORDS = {
    "decrease": "net decrease",
    "increase": "net increase",
    "no_change": "no change",
    "conflicting": "conflicting",
    "none": "no direction reported",
}


def plural_family(family: str) -> str:
    irregular = {
        "group": "groups of mediators",
        "cell population": "cell populations",
        "ratio": "ratios",
        "metabolite": "metabolites",
    }
    if family in irregular:
        return irregular[family]
    return family if family.endswith("s") else f"{family}s"


def flips(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """The conclusions that changed between two versions, named ("SSRI: … net decrease → conflicting").

    A verdict that appears or disappears counts only if it states a direction (a class gaining
    its first finding is a change of conclusion; a group with no direction either side is not).
    """
    out = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if before is None:
            out.append(f"{key}: new verdict, {after}")
        elif after is None:
            out.append(f"{key}: verdict withdrawn (was {before})")
        else:
            out.append(f"{key}: {before} → {after}")
    return out
