"""Chart builders draw exactly the findings of the data they are given."""

import pandas as pd
import pytest

from neuroimmune_review import charts, data

CLASSES = data.drug_classes()


def _class_rows(drug_class: str) -> pd.DataFrame:
    evidence = pd.read_csv(data.paths.data_dir() / "evidence.csv", dtype=str, keep_default_na=False)
    vocab = pd.read_csv(
        data.paths.data_dir() / "interventions.csv", dtype=str, keep_default_na=False
    )
    joined = evidence.merge(vocab[["name", "drug_class"]], left_on="intervention", right_on="name")
    return joined[joined["drug_class"] == drug_class]


@pytest.mark.parametrize("drug_class", CLASSES)
def test_class_chart_counts_every_finding_of_its_class(drug_class):
    figure = charts.class_effects(drug_class)
    expected = _class_rows(drug_class)
    assert figure.spec()["usermeta"]["review"]["rows"] == len(expected) > 0
    assert set(figure.data["mediator"]) == set(expected["mediator"])


def test_aggregation_keeps_conflicting_directions_apart():
    rows = data.evidence(drug_class="TCA")
    table = charts.aggregate_findings(rows)
    il6 = table[(table["mediator"] == "IL-6")]
    assert {"increase", "decrease"} <= set(
        il6["direction"]
    )  # the article's IL-6 conflict under TCAs
    assert table["n"].sum() == len(rows)
    assert (table["n_sources"] <= table["n"]).all()


def test_direction_encoded_by_colour_and_shape():
    spec = charts.class_effects("SSRI").spec()
    encoding = spec["spec"]["encoding"] if "spec" in spec else spec["encoding"]
    assert encoding["color"]["field"] == encoding["shape"]["field"] == "Direction"


def test_overview_counts_distinct_sources_of_intervention_effects_only():
    figure = charts.class_overview()
    evidence = data.evidence()
    effects = evidence[
        evidence["drug_class"].isin(CLASSES) & (evidence["claim_type"] == "intervention_effect")
    ]
    assert figure.data["n_rows"].sum() == len(effects)
    expected = effects.groupby(["drug_class", "direction"])["source_id"].nunique()
    assert (
        figure.data.set_index(["drug_class", "direction"])["n_sources"].to_dict()
        == expected.to_dict()
    )


def test_class_chart_shows_claim_type_and_changed_unspecified_has_its_own_mark():
    from neuroimmune_review.pages import palette

    table = charts.class_effects("SSRI").data
    assert "Claim type" in table and set(table["claim_type"]) >= {"intervention_effect"}
    assert "changed_unspecified" in set(data.evidence()["direction"])
    colours, shapes = palette.DIRECTION_COLOURS, palette.DIRECTION_SHAPES
    others = [d for d in colours if d != "changed_unspecified"]
    assert all(colours["changed_unspecified"] != colours[d] for d in others)
    assert all(shapes["changed_unspecified"] != shapes[d] for d in others)


def test_empty_selection_gives_an_empty_chart_not_an_error():
    figure = charts.effects_matrix(data.evidence().iloc[0:0], "Nothing", "nothing")
    assert figure.spec()["usermeta"]["review"]["rows"] == 0


def test_compact_chart_data_decode_to_the_table_and_big_charts_drop_lists(monkeypatch):
    """The packed codes decode (as the chart's expressions do) to the aggregated table; past
    MAX_MARKS_WITH_LISTS marks the tooltips lose the source lists and the chart uses canvas."""
    import json
    import re

    figure = charts.class_effects("SSRI")
    spec = figure.spec()
    values = spec["data"]["values"][0] if isinstance(spec["data"], dict) else None
    if values is None:
        values = next(d["values"][0] for d in spec["datasets"].values())
    steps = [t for t in spec["transform"] if "calculate" in t]
    decoded = {}
    for t in steps:
        expr = t["calculate"]
        m = re.fullmatch(
            r"(\[.*\])\[(?:floor\(datum\._k / (\d+)\) % (\d+)|datum\._k % (\d+))\]", expr
        )
        if m:
            labels = json.loads(m.group(1))
            base, radix = int(m.group(2) or 1), int(m.group(3) or m.group(4))
            decoded[t["as"]] = [labels[(k // base) % radix] for k in values["_k"]]
    table = figure.data
    assert decoded["mediator"] == list(table["mediator"])
    assert decoded["intervention"] == list(table["intervention"])
    assert decoded["Direction"] == list(table["Direction"])
    assert figure.renderer == "svg" and "sources" in decoded
    monkeypatch.setattr(charts, "MAX_MARKS_WITH_LISTS", 1)
    big = charts.class_effects("SSRI")
    assert big.renderer == "canvas" and "tooltips give counts only" in big.description
    assert "Cited" not in json.dumps(big.spec()["encoding"]["tooltip"])
    assert 'data-renderer="canvas"' in big._repr_html_()


def test_tooltip_lists_are_each_groups_distinct_names_sorted_and_capped():
    from neuroimmune_review.text import first_n

    base = data.evidence().iloc[[0]]
    samples = ["zeta", "Alpha", "alpha", "ämmä", "beta", "beta", "gamma", "delta", "eps", "eta"]
    rows = pd.concat(
        [base.assign(sample=s, id=f"T{i}", direction="increase") for i, s in enumerate(samples)]
        + [base.assign(sample="only", id="U1", direction="decrease")]
        + [base.assign(sample="", id="U2", direction="no_change")],
        ignore_index=True,
    )
    table = charts.aggregate_findings(rows).set_index("direction")
    distinct = sorted(set(samples))  # Python's order: capitals, then lower case, then ä
    assert len(distinct) > charts.MAX_TOOLTIP_SAMPLES
    assert table.loc["increase", "samples"] == first_n(distinct, charts.MAX_TOOLTIP_SAMPLES)
    assert table.loc["increase", "samples"].endswith("… and 3 more")
    assert table.loc["decrease", "samples"] == "only"
    assert table.loc["no_change", "samples"] == ""
    assert table.loc["increase", "n"] == len(samples) and table.loc["increase", "n_sources"] == 1
