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
        m = re.fullmatch(
            r"datum\._d(\d+)\[floor\(datum\._k / datum\._b\1\) % length\(datum\._d\1\)\]",
            t["calculate"],
        )
        if m:
            labels, base = values[f"_d{m.group(1)}"], values[f"_b{m.group(1)}"]
            decoded[t["as"]] = [labels[(k // base) % len(labels)] for k in values["_k"]]
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


def test_a_matrix_spec_keeps_its_shape_when_the_evidence_gains_a_sample():
    """The build compiles a chart once per shape (``render.compile_vega``); a new row whose
    sample no other row has changes the matrix's data, not its shape, so a one-row rebuild is
    served from the memo rather than by starting the compiler."""
    from neuroimmune_review import render

    rows = data.evidence(drug_class="SSRI")
    extra = rows.iloc[[0]].assign(id="EV999999", sample="a sample no other row has")
    before = charts.effects_matrix(rows, "SSRI", "the SSRI class").spec()
    after = charts.effects_matrix(pd.concat([rows, extra]), "SSRI", "the SSRI class").spec()
    assert after["data"] != before["data"]
    assert "a sample no other row has" in str(after["data"])
    assert render._with_placeholders(after)[0] == render._with_placeholders(before)[0]


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


def _synthetic_matrix(n_interventions: int, n_mediators: int) -> pd.DataFrame:
    """Findings of *n_interventions* made-up interventions on *n_mediators* mediators, drug i
    backed by (i % 4) + 1 real sources, each of them by 1 + 3 * (i % 3) rows."""
    real = data.evidence()
    sources = real.drop_duplicates("source_id").reset_index(drop=True)
    assert len(sources) >= 4
    template = real.iloc[[0]].drop(columns="source_id")
    mediators = [f"M{j:02d}" for j in range(n_mediators)]
    parts = []
    for i in range(n_interventions):
        for s in range(i % 4 + 1):
            source = sources.iloc[s]
            parts += [
                template.assign(
                    intervention=f"drug {i:02d}",
                    mediator=mediators[(i + s + r) % n_mediators],
                    citation=source["citation"],
                    review_ref=source["review_ref"],
                    direction="increase",
                    claim_type="intervention_effect",
                    evidence_type="clinical",
                    id=f"S{i}-{s}-{r}",
                )
                for r in range(1 + 3 * (i % 3))
            ]
    rows = pd.concat(parts, ignore_index=True)
    return rows.assign(source_id=data.source_ids(rows))


def test_matrix_cap_draws_the_most_sourced_rows_and_says_so():
    n = charts.MAX_MATRIX_ROWS + 7
    rows = _synthetic_matrix(n, 5)
    figure = charts.effects_matrix(rows, "Many drugs", "made-up drugs")
    drawn = sorted(set(figure.data["intervention"]))
    # Expected from the sources each drug has (rows do not count), ties by name.
    by_sources = sorted(range(n), key=lambda i: (-(i % 4 + 1), f"drug {i:02d}"))
    assert drawn == sorted(f"drug {i:02d}" for i in by_sources[: charts.MAX_MATRIX_ROWS])
    # Sources count, rows do not: drug 03 (4 sources, 4 rows) is drawn, drug 44 (1 source, 7 rows) not.
    n_rows = rows["intervention"].value_counts()
    assert n_rows["drug 44"] == 7 > n_rows["drug 03"] == 4
    assert "drug 03" in drawn and "drug 44" not in drawn
    html = figure._repr_html_()
    note = (
        f"Drawn: the {charts.MAX_MATRIX_ROWS} of {n} rows (an intervention or condition in one "
        "panel) with the most independent sources."
    )
    assert f'<p class="review-chart__more">{note} <a href="' in html
    assert "evidence.csv</a>" in html and "/downloads/evidence.csv" in html
    # The description still counts every finding, drawn or not.
    assert figure.description.startswith(f"{data.n_sources(rows)} sources ({len(rows)} rows)")


def test_matrix_cap_on_mediators_keeps_every_drawn_column():
    m = charts.MAX_MATRIX_MEDIATORS + 3
    rows = _synthetic_matrix(m, m)
    drawn, mediators, note = charts.cap_matrix(rows)
    counts = rows.groupby("mediator")["source_id"].nunique()
    expected = sorted(
        sorted(counts.index, key=lambda k: (-counts[k], k))[: charts.MAX_MATRIX_MEDIATORS]
    )
    assert mediators == expected and set(drawn["mediator"]) <= set(expected)
    assert f"the {charts.MAX_MATRIX_MEDIATORS} of {m} mediators" in note
    assert f"the {charts.MAX_MATRIX_ROWS} of {m} rows" in note
    spec = charts.effects_matrix(rows, "Wide", "made-up drugs").spec()
    assert spec["encoding"]["x"]["scale"]["domain"] == expected


def _book_matrices():
    """Every effects matrix the book draws, with the findings it is given."""
    root = data.paths.find_root()
    yield "conditions", data.evidence(claim_type="condition_vs_control")
    for drug_class in CLASSES:
        yield drug_class, data.evidence(drug_class=drug_class)
    for page in sorted((root / "book").rglob("*.md")):
        if "charts.chapter_effects(" in page.read_text(encoding="utf-8"):
            chapter = page.relative_to(root).with_suffix("").as_posix()
            yield chapter, data.evidence(chapter=chapter)


def test_the_review_own_matrices_are_never_capped():
    seen = 0
    for name, rows in _book_matrices():
        drawn, mediators, note = charts.cap_matrix(rows)
        assert note is None and mediators is None and len(drawn) == len(rows), name
        seen += 1
    assert seen > len(CLASSES) + 5  # the chapters' matrices were found
    assert "review-chart__more" not in charts.condition_effects()._repr_html_()
