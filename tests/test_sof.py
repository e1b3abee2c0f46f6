"""Summary of findings: the certainty rule, the counting of independent sources, the readings."""

from __future__ import annotations

import pandas as pd
import pytest

from neuroimmune_review import sof

INTERVENTIONS = pd.DataFrame(
    {
        "name": [
            "fluoxetine",
            "sertraline",
            "paroxetine",
            "escitalopram",
            "SSRIs, pooled",
            "imipramine",
        ],
        "drug_class": ["SSRI", "SSRI", "SSRI", "SSRI", "SSRI", "TCA"],
    }
)
MEDIATORS = pd.DataFrame(
    {
        "name": ["IL-6", "TNF-α", "IL-10", "IL-2", "CREB"],
        "family": ["cytokine", "cytokine", "cytokine", "cytokine", "transcription factor"],
        "inflammatory_role": ["pleiotropic", "pro", "anti", "pleiotropic", "n/a"],
    }
)


def rows(*findings, claim_type: str | None = None) -> pd.DataFrame:
    """(intervention, mediator, direction, evidence_type, citation[, review_ref]) tuples."""
    records = []
    for f in findings:
        intervention, mediator, direction, evidence_type, citation, *ref = f
        records.append(
            {
                "intervention": intervention,
                "mediator": mediator,
                "direction": direction,
                "evidence_type": evidence_type,
                "citation": citation,
                "review_ref": ref[0] if ref else "",
            }
        )
    frame = pd.DataFrame(records)
    if claim_type:
        frame["claim_type"] = claim_type
    return frame


def ssri(evidence: pd.DataFrame) -> sof.ClassVerdict:
    return sof.verdicts_from_frames(evidence, INTERVENTIONS, MEDIATORS, ["SSRI"])["SSRI"]


def tnf(cv: sof.ClassVerdict) -> sof.Verdict:
    (group,) = [g for g in cv.groups if g.role == "pro"]
    return group.verdict


@pytest.mark.parametrize(
    ("types", "supporting", "voting", "expected"),
    [
        ({"clinical"}, 3, 3, "moderate"),
        ({"clinical", "in_vitro"}, 4, 5, "moderate"),  # 80% agree, 4 sources
        ({"clinical"}, 3, 4, "moderate"),  # exactly 75% is consistent
        ({"clinical"}, 3, 5, "low"),  # 60%: inconsistent
        ({"clinical"}, 2, 2, "low"),  # fewer than 3 sources
        ({"clinical"}, 2, 4, "very low"),  # both
        ({"preclinical_in_vivo"}, 5, 5, "low"),  # experimental only starts at low
        ({"in_vitro", "ex_vivo"}, 1, 2, "very low"),  # never below very low
        ({"unspecified"}, 9, 9, "very low"),
        (set(), 0, 3, "not rated"),
    ],
)
def test_certainty_rule(types, supporting, voting, expected):
    assert sof.certainty(types, supporting, voting)[0] == expected


def test_certainty_reasons_are_stated():
    assert sof.certainty({"in_vitro"}, 1, 2)[1] == [
        "experimental evidence only",
        "inconsistent: 1 of 2 source votes agrees",
        "1 supporting source",
    ]
    assert "not a GRADE assessment" in sof.CERTAINTY_RULE and "never" in sof.CERTAINTY_RULE


def test_no_verdict_is_rated_high():
    assert sof.certainty({"clinical"}, 100, 100)[0] == "moderate"


def test_fan_out_and_duplicates_do_not_raise_the_source_count():
    one = rows(("SSRIs, pooled", "TNF-α", "decrease", "clinical", "a2020"))
    fanned = rows(
        *[
            (d, "TNF-α", "decrease", "clinical", "a2020")
            for d in ("fluoxetine", "sertraline", "paroxetine", "escitalopram")
        ],
        ("fluoxetine", "TNF-α", "decrease", "clinical", "a2020"),  # and a duplicate row
    )
    single, many = ssri(one), ssri(fanned)
    assert (tnf(single).sources, tnf(single).supporting, tnf(single).voting) == (1, 1, 1)
    assert (tnf(many).sources, tnf(many).supporting, tnf(many).voting) == (1, 1, 1)
    assert tnf(many).rows == 5 and many.sources == 1
    assert tnf(single).certainty == tnf(many).certainty == "low"  # one clinical source
    assert sof.verdict_keys({"SSRI": single}) == sof.verdict_keys({"SSRI": many})


def test_unresolved_references_count_once_per_number():
    evidence = rows(
        ("fluoxetine", "TNF-α", "decrease", "clinical", "nava2025modulation", "12"),
        ("sertraline", "TNF-α", "decrease", "clinical", "nava2025modulation", "12"),
        ("sertraline", "TNF-α", "decrease", "clinical", "nava2025modulation", "40;41"),
        ("paroxetine", "TNF-α", "decrease", "clinical", "nava2025modulation", "41;40"),
    )
    assert tnf(ssri(evidence)).sources == 2
    assert sof.source_ids("nava2025modulation", "41;40") == ["nava2025modulation#40,41"]
    assert sof.source_ids("nava2025modulation", "") == ["nava2025modulation"]


def test_readings_follow_the_inflammatory_role():
    evidence = rows(
        ("fluoxetine", "TNF-α", "decrease", "clinical", "a"),
        ("fluoxetine", "IL-10", "increase", "clinical", "b"),
        ("fluoxetine", "IL-6", "decrease", "clinical", "c"),
        ("fluoxetine", "CREB", "increase", "clinical", "d"),
    )
    cv = ssri(evidence)
    readings = {(g.role, g.family): g.reading for g in cv.groups}
    assert readings[("pro", "cytokine")] == "anti-inflammatory"
    assert readings[("anti", "cytokine")] == "anti-inflammatory"
    assert readings[("pleiotropic", "cytokine")].startswith("no single reading")
    assert readings[("n/a", "transcription factor")] == "not classed as pro- or anti-inflammatory"
    # The class reading counts TNF-α down and IL-10 up: 2 sources, both anti-inflammatory.
    assert cv.net_reading == "anti-inflammatory" and cv.reading.supporting == 2
    raised = ssri(rows(("fluoxetine", "IL-10", "decrease", "clinical", "a")))
    assert raised.net_reading == "pro-inflammatory"


def test_conflict_is_not_rated_and_other_classes_stay_apart():
    evidence = rows(
        ("fluoxetine", "TNF-α", "decrease", "clinical", "a"),
        ("sertraline", "TNF-α", "increase", "clinical", "b"),
        ("imipramine", "TNF-α", "increase", "clinical", "c"),  # a TCA: not an SSRI vote
    )
    v = tnf(ssri(evidence))
    assert (v.net, v.certainty, v.voting) == ("conflicting", "not rated", 2)


def test_only_intervention_effects_are_counted_under_model_v2():
    evidence = pd.concat(
        [
            rows(
                ("fluoxetine", "TNF-α", "decrease", "clinical", "a"),
                claim_type="intervention_effect",
            ),
            rows(
                ("fluoxetine", "TNF-α", "increase", "clinical", "b"),
                claim_type="proposed_mechanism",
            ),
            rows(("fluoxetine", "TNF-α", "increase", "clinical", "c"), claim_type="association"),
        ]
    )
    v = tnf(ssri(evidence))
    assert (v.net, v.sources) == ("decrease", 1)


def test_mixed_and_unstated_directions_are_sources_without_a_vote():
    evidence = rows(
        ("fluoxetine", "TNF-α", "decrease", "clinical", "a"),
        ("fluoxetine", "TNF-α", "changed_unspecified", "clinical", "b"),
        ("fluoxetine", "TNF-α", "mixed", "clinical", "c"),
    )
    cv = ssri(evidence)
    assert (tnf(cv).sources, tnf(cv).voting, cv.unvoted_rows) == (3, 1, 2)


def test_findings_alike_are_counted_once_with_their_number_of_rows(monkeypatch):
    """Verdicts count distinct findings with their rows (sof._distinct_findings): the review's
    evidence twice over gives the same verdicts with every row count doubled."""
    from pathlib import Path

    from neuroimmune_review import data

    monkeypatch.setenv("REVIEW_ROOT", str(Path(__file__).resolve().parents[1]))
    once = data.evidence()
    twice = pd.concat([once, once], ignore_index=True)
    single = sof.class_verdicts(once, data.DRUG_CLASSES)
    double = sof.class_verdicts(twice, data.DRUG_CLASSES)
    for name, cv in single.items():
        other = double[name]
        assert (other.rows, other.unvoted_rows) == (2 * cv.rows, 2 * cv.unvoted_rows)
        assert other.reading.rows == 2 * cv.reading.rows
        assert [g.verdict.rows for g in other.groups] == [2 * g.verdict.rows for g in cv.groups]
        halved = [(g.family, g.role, g.mediators, g.reading) for g in other.groups]
        assert halved == [(g.family, g.role, g.mediators, g.reading) for g in cv.groups]
        assert sof.verdict_keys({name: cv}) == sof.verdict_keys({name: other})
        # ... and the rows of each class as class_verdict is given them agree.
        assert sof.class_verdict(once, name) == cv
    assert sum(cv.rows for cv in single.values()) > 100  # the review's findings were read


def _pandas_verdict(pairs: pd.DataFrame, vote_column: str = "direction") -> sof.Verdict:
    """The verdict as it was computed with pandas' filters and groupbys (the reference)."""
    if pairs.empty:
        return sof.Verdict("none", 0, 0, 0, 0)
    voted = pairs[pairs[vote_column].isin(sof.VOTED)]
    votes = voted.groupby(vote_column)["source"].nunique().to_dict()
    net = sof.net_direction(votes)
    support = voted[voted[vote_column] == net] if net in sof.VOTED else voted.iloc[0:0]
    supporting_types = set(support["evidence_type"].unique())
    n_support, n_voting = support["source"].nunique(), sum(votes.values())
    label, reasons = sof.certainty(supporting_types, n_support, n_voting)
    if net == "conflicting":
        label, reasons = "not rated", ["sources conflict"]
    return sof.Verdict(
        net=net,
        supporting=int(n_support),
        voting=int(n_voting),
        sources=int(pairs["source"].nunique()),
        rows=sof._row_count(pairs),
        evidence_types=sof._type_order(pairs["evidence_type"]),
        supporting_types=sof._type_order(supporting_types),
        certainty=label,
        reasons=reasons,
    )


def test_a_verdict_counts_as_pandas_did_on_random_pairs():
    import random

    generator = random.Random(15)
    directions = [*sof.VOTED, "mixed", "changed_unspecified", None, float("nan")]
    types = ["clinical", "preclinical_in_vivo", "in_vitro", "unspecified", float("nan")]
    sources = ["s1", "s2", "s3", "s4", "s5", float("nan"), None]
    for _ in range(400):
        n = generator.randint(1, 14)
        pairs = pd.DataFrame(
            {
                "row": [generator.randint(0, 6) for _ in range(n)],
                "source": [generator.choice(sources) for _ in range(n)],
                "direction": [generator.choice(directions) for _ in range(n)],
                "evidence_type": [generator.choice(types) for _ in range(n)],
                "n_rows": [generator.randint(1, 4) for _ in range(n)],
            }
        )
        if generator.random() < 0.3:
            pairs = pairs.drop(columns="n_rows")
        assert repr(sof.verdict(pairs)) == repr(_pandas_verdict(pairs))


def test_every_class_verdict_of_the_review_counts_as_pandas_did(monkeypatch):
    from neuroimmune_review import data

    joined = data.evidence()
    fast = sof.class_verdicts(joined, data.drug_classes())
    monkeypatch.setattr(sof, "verdict", _pandas_verdict)
    assert repr(fast) == repr(sof.class_verdicts(joined, data.drug_classes()))
