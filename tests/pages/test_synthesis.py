"""The synthesis pages checked against direct pandas computations on the CSV files."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from neuroimmune_review import synthesis, validate

ROOT = Path(__file__).resolve().parents[2]
CLASSES = [
    "SSRI",
    "SNRI",
    "SARI",
    "TCA",
    "MAOI",
    "NRI",
    "NDRI",
    "NMDA antagonist",
    "mood stabilizer",
]


@pytest.fixture
def root(monkeypatch) -> Path:
    monkeypatch.setenv("REVIEW_ROOT", str(ROOT))
    return ROOT


@pytest.fixture
def copy_root(tmp_path, monkeypatch) -> Path:
    """A private copy of the review's data, so tests may change it."""
    shutil.copy(ROOT / "_toc.yml", tmp_path / "_toc.yml")
    shutil.copy(ROOT / "references.bib", tmp_path / "references.bib")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    monkeypatch.setenv("REVIEW_ROOT", str(tmp_path))
    return tmp_path


def read(root: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(root / "data" / f"{name}.csv", dtype=str, keep_default_na=False)


def joined(root: Path) -> pd.DataFrame:
    evidence = read(root, "evidence")
    interventions = read(root, "interventions")[["name", "drug_class"]].rename(
        columns={"name": "intervention"}
    )
    return evidence.merge(interventions, on="intervention", how="left")


def sources_of(row) -> set[str]:
    """Independent restatement of the counting rule of the evidence model."""
    key = row["citation"].strip()
    if key != "nava2025modulation":
        return {key}
    refs = sorted({r.strip() for r in row["review_ref"].split(";") if r.strip()}, key=int)
    return {f"nava2025modulation#{','.join(refs)}"} if refs else {"nava2025modulation"}


def effects(root: Path) -> pd.DataFrame:
    rows = joined(root)
    rows = rows[rows["claim_type"] == "intervention_effect"]
    return rows.assign(source=[next(iter(sources_of(r))) for _, r in rows.iterrows()])


def append_finding(root: Path, **values: str) -> str:
    path = root / "data" / "evidence.csv"
    rows = read(root, "evidence")
    number = max(int(i[2:]) for i in rows["id"]) + 1
    row = {column: "" for column in rows.columns}
    row.update(id=f"EV{number:04d}", **values)
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.DictWriter(handle, fieldnames=list(rows.columns), lineterminator="\n").writerow(row)
    return row["id"]


# ---------------------------------------------------------------------------
# Gap map


def test_gap_map_counts_match_the_csv(root):
    table = synthesis.gap_map_table().set_index(["drug_class", "mediator"])
    rows = effects(root)
    rows = rows[rows["drug_class"].isin(CLASSES)]
    expected_findings = rows.groupby(["drug_class", "mediator"]).size()
    expected_sources = rows.groupby(["drug_class", "mediator"])["source"].nunique()
    filled = table[table["n_findings"] > 0]
    assert set(filled.index) == set(expected_findings.index)
    for key, n in expected_findings.items():
        assert filled.loc[key, "n_findings"] == n, key
        assert filled.loc[key, "n_sources"] == expected_sources[key], key
        part = rows[(rows["drug_class"] == key[0]) & (rows["mediator"] == key[1])]
        by_type = part.groupby("evidence_type")["source"].nunique()
        for evidence_type, count in by_type.items():
            assert filled.loc[key, f"n_{evidence_type}"] == count
    assert int(table["n_findings"].sum()) == len(rows)


def test_gap_map_shows_every_cytokine_even_when_empty(root):
    table = synthesis.gap_map_table()
    mediators = read(root, "mediators")
    panel = set(
        mediators.loc[
            mediators["family"].isin(["cytokine", "chemokine", "acute-phase protein"]), "name"
        ]
    )
    assert panel <= set(table["mediator"])
    assert (
        len(table) == len(CLASSES) * table["mediator"].nunique()
    )  # a full grid: gaps are cells too
    assert (table.loc[table["n_findings"] == 0, "mix"] == "").all()


def test_gap_summary_names_classes_without_clinical_cytokine_data(root):
    rows = effects(root).merge(
        read(root, "mediators")[["name", "family"]].rename(columns={"name": "mediator"}),
        on="mediator",
    )
    clinical = rows[
        (rows["evidence_type"] == "clinical")
        & rows["family"].isin(["cytokine", "chemokine", "acute-phase protein"])
    ]
    expected = [c for c in CLASSES if c not in set(clinical["drug_class"])]
    assert synthesis.gap_findings()["no_clinical_cytokine"] == expected
    text = synthesis.gap_summary().data
    for drug_class in expected:
        assert drug_class in text


def test_gap_map_figure_embeds_one_row_per_mediator(root):
    figure = synthesis.gap_map()
    spec = figure.spec()
    assert len(figure.data) == synthesis.gap_map_table()["mediator"].nunique()
    assert spec["usermeta"]["review"]["rows"] == int(synthesis.gap_map_table()["n_findings"].sum())
    assert "gap" in spec["description"]
    assert "Counts use intervention effects only" in synthesis.gap_summary().data


def _gap_map_with_altair(figure) -> dict:
    """The gap map as the page built it with Altair before its spec was assembled as data."""
    import altair as alt

    from neuroimmune_review.pages.synthesis import common
    from neuroimmune_review.pages.synthesis.gap_map import ARM_TITLES

    embedded = figure.data
    classes = synthesis.antidepressant_classes()
    cell_fields = ["drug_class", "n_sources", "n_findings", "mix", "types", "source_names"]
    y = alt.Y("mediator:N", title=None, sort="ascending")
    x = alt.X("drug_class:N", title=None, sort=classes, axis=alt.Axis(orient="top", labelAngle=-40))
    place = [
        alt.Tooltip("drug_class:N", title="Class"),
        alt.Tooltip("mediator:N", title="Mediator"),
    ]
    grid = (
        alt.Chart()
        .transform_flatten(["classes"], as_=["drug_class"])
        .mark_rect(fill="#F2F2F2", stroke="#FFFFFF", strokeWidth=2)
        .encode(x=x, y=y, tooltip=place)
    )
    largest = synthesis.gap_map_table()["n_sources"].max()
    bubbles = (
        alt.Chart()
        .transform_flatten(["cells"], as_=["cell"])
        .transform_calculate(**{name: f"datum.cell.{name}" for name in cell_fields})
        .mark_point(filled=True, opacity=0.9)
        .encode(
            x=x,
            y=y,
            size=alt.Size(
                "n_sources:Q",
                scale=alt.Scale(range=[40, 380], zero=False),
                legend=common._count_legend("Distinct sources", largest),
            ),
            **common._colour_and_shape(
                "mix:N", "Evidence mix", common.MIX_COLOURS, common.MIX_SHAPES
            ),
            tooltip=[
                *place,
                alt.Tooltip("n_sources:Q", title="Distinct sources"),
                alt.Tooltip("n_findings:Q", title="Rows"),
                alt.Tooltip("types:N", title="Evidence types"),
                alt.Tooltip("mix:N", title="Mix"),
                alt.Tooltip("source_names:N", title="Sources"),
            ],
        )
    )
    axes = set(embedded["axis_label"])
    order = [synthesis.th_axis_labels()[a] for a in synthesis.th_axes()]
    panels = [
        alt.layer(
            grid.transform_filter(alt.datum.axis_label == axis),
            bubbles.transform_filter(alt.datum.axis_label == axis),
            data=embedded,
        ).properties(
            width=alt.Step(40),
            height=alt.Step(17),
            title=alt.TitleParams(
                f"{axis} mediators" if axis in ARM_TITLES else axis,
                anchor="start",
                fontSize=13,
                fontWeight="bold",
            ),
        )
        for axis in order
        if axis in axes
    ]
    chart = (
        alt.vconcat(*panels, spacing=8)
        .resolve_scale(x="shared")
        .configure_view(stroke=None)
        .configure_legend(orient="top", direction="horizontal", columns=2)
    )
    return chart.to_dict()


def test_gap_map_spec_is_the_one_altair_built(root):
    # The spec is assembled as data for speed; it must stay the chart Altair made of the same
    # table (same JSON, so the same compiled Vega and the same page).
    figure = synthesis.gap_map()
    spec = figure.spec()
    expected = _gap_map_with_altair(figure)
    del spec["description"], spec["usermeta"]
    assert json.dumps(spec, sort_keys=True) == json.dumps(expected, sort_keys=True)
    assert len(spec["vconcat"]) >= 2 and len(spec["datasets"]) == 1


# ---------------------------------------------------------------------------
# Contested findings


def direct_contested(rows: pd.DataFrame) -> set[tuple[str, str, str]]:
    rows = rows[rows["claim_type"] == "intervention_effect"]
    rows = rows[rows["direction"] != "changed_unspecified"]
    found = set()
    for (subject, mediator), part in rows.groupby(["intervention", "mediator"]):
        if part["direction"].nunique() > 1:
            found.add(("intervention", subject, mediator))
    classed = rows[rows["drug_class"].isin(CLASSES)]
    for (subject, mediator), part in classed.groupby(["drug_class", "mediator"]):
        if part["direction"].nunique() > 1:
            found.add(("class", subject, mediator))
    return found


def test_contested_pairs_match_a_direct_computation(root):
    pairs = synthesis.contested_pairs()
    found = set(zip(pairs["level"], pairs["subject"], pairs["mediator"], strict=False))
    assert found == direct_contested(joined(root))
    assert len(found) == len(pairs)


def test_contested_pairs_keep_each_pairs_own_counts_and_lists(root):
    rows = joined(root)
    rows = rows[
        (rows["claim_type"] == "intervention_effect")
        & rows["direction"].isin(["decrease", "no_change", "mixed", "increase"])
    ]
    pairs = synthesis.contested_pairs()
    assert len(pairs) > 1
    for pair in pairs.itertuples():
        level = "intervention" if pair.level == "intervention" else "drug_class"
        own = rows[(rows[level] == pair.subject) & (rows["mediator"] == pair.mediator)]
        assert pair.n_findings == len(own), pair
        assert pair.ids.split("; ")[0] == sorted(own["id"])[0], pair
        assert pair.interventions.split("; ")[0] == sorted(set(own["intervention"]))[0], pair
        for direction in ("decrease", "increase"):
            assert (getattr(pair, f"n_{direction}") > 0) == (own["direction"] == direction).any()


def test_contested_pairs_include_the_articles_known_conflicts(root):
    pairs = synthesis.contested_pairs()
    found = set(zip(pairs["level"], pairs["subject"], pairs["mediator"], strict=False))
    assert ("intervention", "TCAs", "IL-6") in found
    assert ("intervention", "bupropion", "IL-1β") in found
    # Conditions compared with controls are not intervention effects: never contested pairs.
    assert not set(pairs["subject"]) & {"major depressive disorder"}
    tca = pairs[(pairs["subject"] == "TCAs") & (pairs["mediator"] == "IL-6")].iloc[0]
    assert tca["kind"] == "opposite"
    assert "Clinical" in tca["evidence_types"] and tca["sources"]


def test_a_new_conflicting_row_creates_a_contested_finding(copy_root):
    rows = effects(copy_root)
    drugs = rows[rows["drug_class"].isin(CLASSES) & (rows["direction"] == "decrease")]
    single = drugs.groupby(["intervention", "mediator"]).filter(
        lambda part: set(rows.loc[part.index, "direction"]) == {"decrease"}
    )
    target = single.iloc[0]
    drug, mediator, drug_class = target["intervention"], target["mediator"], target["drug_class"]
    before = synthesis.contested_pairs()
    assert not ((before["subject"] == drug) & (before["mediator"] == mediator)).any()
    new_id = append_finding(
        copy_root,
        claim_type="intervention_effect",
        intervention=drug,
        comparator="before treatment",
        mediator=mediator,
        direction="increase",
        reported_as="increased",
        evidence_type="clinical",
        species="human",
        sample="serum, MDD patients (test fixture)",
        citation="nava2025modulation",
        review_ref="99",
        chapter=target["chapter"],
        note="Conflicting row added by a test.",
    )
    assert not validate.validate(copy_root).errors
    after = synthesis.contested_pairs()
    new = after[(after["subject"] == drug) & (after["mediator"] == mediator)]
    assert len(new) == 1 and new.iloc[0]["kind"] == "opposite" and new_id in new.iloc[0]["ids"]
    assert (
        (after["level"] == "class")
        & (after["subject"] == drug_class)
        & (after["mediator"] == mediator)
    ).any()
    assert set(
        zip(after["level"], after["subject"], after["mediator"], strict=False)
    ) == direct_contested(joined(copy_root))
    assert drug in synthesis.contested_summary().data


# ---------------------------------------------------------------------------
# Th1/Th2 vote counting


def test_th_vote_counts_are_distinct_sources(root):
    rows = effects(root).merge(
        read(root, "mediators")[["name", "th_axis", "inflammatory_role"]].rename(
            columns={"name": "mediator"}
        ),
        on="mediator",
    )
    eligible = rows[rows["drug_class"].isin(CLASSES) & rows["th_axis"].isin(["Th1", "Th2"])]
    counts = synthesis.th_balance_counts().set_index("drug_class")
    expected_total = eligible.groupby("drug_class")["source"].nunique()
    assert counts["total"].to_dict() == {c: int(expected_total.get(c, 0)) for c in CLASSES}
    assert counts["rows"].to_dict() == {
        c: int((eligible["drug_class"] == c).sum()) for c in CLASSES
    }
    # a Th1 pro-inflammatory mediator falling is a vote for a less inflammatory state
    th1_down = eligible[
        (eligible["th_axis"] == "Th1")
        & (eligible["direction"] == "decrease")
        & (eligible["inflammatory_role"] != "anti")
    ]
    expected = th1_down.groupby("drug_class")["source"].nunique()
    assert counts["th1_less"].to_dict() == {c: int(expected.get(c, 0)) for c in CLASSES}
    table = synthesis.th_balance_table()
    assert int(table["n_rows"].sum()) == len(eligible)
    assert "Counts use intervention effects only" in synthesis.th_balance_summary().data


def test_th_balance_page_says_it_is_vote_counting(root):
    assert "vote count" in synthesis.th_balance_chart().description.lower()
    page = (ROOT / "book" / "synthesis" / "th-balance.md").read_text(encoding="utf-8")
    assert "vote counting" in page.lower() and "not an estimate of effect size" in page


# ---------------------------------------------------------------------------
# Meta-analyses


def test_meta_analyses_directions_are_explicit_and_match_the_sign(root):
    table = read(root, "meta_analyses")
    assert table["id"].is_unique and len(table)
    assert set(table["direction"]) <= {"decrease", "increase", "no_change", "not_reported"}
    assert (table["direction"] != "").all()
    for _, row in table.iterrows():
        if row["effect"] == "":
            assert row["effect_measure"] == "none" or row["reported_effect"], row["id"]
            assert row["ci_low"] == row["ci_high"] == "", row["id"]
            continue
        effect = float(row["effect"])
        if row["direction"] == "decrease":
            assert effect < 0, row["id"]
        elif row["direction"] == "increase":
            assert effect > 0, row["id"]
        elif row["direction"] == "no_change":
            assert row["significant"] != "yes", row["id"]
        if row["ci_low"]:
            assert float(row["ci_low"]) <= effect <= float(row["ci_high"]), row["id"]


def test_meta_analyses_keep_rows_without_numbers(root):
    table = read(root, "meta_analyses")
    for key in ("hannestad2011the", "wiedlocha2018effect"):
        rows = table[table["citation"] == key]
        assert len(rows) and (rows["effect"] == "").all() and (rows["direction"] != "").all()
    liu = table[(table["citation"] == "liu2020peripheral") & (table["mediator"] == "TNF-α")].iloc[0]
    assert (
        liu["reported_effect"].startswith("g = 0.60") and float(liu["effect"]) < 0
    )  # published sign flipped


def test_meta_analyses_are_in_the_data_package(root):
    package = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    resource = next(r for r in package["resources"] if r["name"] == "meta_analyses")
    assert resource["schema"]["primaryKey"] == ["id"]
    assert {
        "fields": ["mediator"],
        "reference": {"resource": "mediators", "fields": ["name"]},
    } in resource["schema"]["foreignKeys"]
    result = validate.validate(ROOT)
    assert not [p for p in result.errors if p.path.endswith("meta_analyses.csv")]


def test_agreement_uses_only_allowed_verdicts(root):
    table = synthesis.agreement()
    assert set(table["verdict"]) <= {"agrees", "partly", "disagrees", "not assessed"}
    meta = read(root, "meta_analyses")
    assert set(zip(table["comparison"], table["mediator"], strict=False)) == set(
        zip(meta["comparison"], meta["mediator"], strict=False)
    )


def test_agreement_memo_follows_the_data_and_cannot_be_changed(copy_root):
    first = synthesis.agreement()
    first.loc[:, "verdict"] = "tampered"  # a caller changing its copy
    assert "tampered" not in set(synthesis.agreement()["verdict"])
    # Drop every clinical treatment finding: each mediator the review compared loses its side.
    path = copy_root / "data" / "evidence.csv"
    evidence = read(copy_root, "evidence")
    kept = evidence[
        ~(
            (evidence["evidence_type"] == "clinical")
            & (evidence["claim_type"] == "intervention_effect")
        )
    ]
    kept.to_csv(path, index=False)
    after = synthesis.agreement().set_index(["comparison", "mediator"])
    treated = after.loc["treatment_pre_post"]
    assert set(treated["verdict"]) == {"not assessed"}
    before = first.set_index(["comparison", "mediator"]).loc["treatment_pre_post"]
    assert (before["review_net"] != "").any()  # the change above did change something


def test_forest_plot_draws_only_reported_effects(root):
    meta = read(root, "meta_analyses")
    figure = synthesis.forest_plot()
    expected = meta[(meta["comparison"] == "treatment_pre_post") & (meta["effect"] != "")]
    assert len(figure.data) == len(expected)


def _group_filter(layer: dict) -> tuple[str, str, str] | None:
    """(field, operator, value) of a layer's group filter (``datum["field"] === "value"``)."""
    for step in layer.get("transform", []):
        found = re.fullmatch(r'datum\[("[^"]+")\] (===|!==) (".*")', step.get("filter", ""))
        if found:
            return json.loads(found.group(1)), found.group(2), json.loads(found.group(3))
    return None


@pytest.mark.parametrize(
    ("comparisons", "group_column"),
    [
        (("treatment_pre_post",), "mediator"),
        (("mdd_vs_controls", "responders_vs_nonresponders"), "comparison"),
    ],
)
def test_forest_plot_draws_every_reported_effect_once_in_its_group(root, comparisons, group_column):
    import altair as alt

    meta = read(root, "meta_analyses")
    expected = meta[meta["comparison"].isin(comparisons) & (meta["effect"] != "")]
    figure = synthesis.forest_plot(comparisons)
    spec = figure.spec()
    alt.FacetChart.validate(spec)  # the hand-assembled spec is valid Vega-Lite
    rows = spec["datasets"]["forest_rows"]
    assert len(rows) == len(expected)
    assert sorted((r["mediator"], r["effect"]) for r in rows) == sorted(
        zip(expected["mediator"], expected["effect"].astype(float), strict=True)
    )
    # One view faceted into a row per group (performance: not a view per group and column).
    assert spec["data"] == {"name": "forest_rows"} and "vconcat" not in spec
    row = spec["facet"]["row"]
    labels = synthesis.comparison_labels()
    groups = [labels[g] if group_column == "comparison" else g for g in expected[group_column]]
    assert sorted(row["sort"]) == sorted(set(groups)) and row["header"]["labels"] is False
    field = row["field"]
    assert {str(r[field]) for r in rows} == set(row["sort"])  # every result is in one group
    layers = spec["spec"]["layer"]
    # Every result is drawn as a hollow mark, its CI as a line, a significant one filled on top.
    marks = [layer for layer in layers if layer["mark"]["type"] == "point"]
    assert [m.get("transform") for m in marks] == [
        None,
        [{"filter": "datum.significant == 'yes'"}],
    ]
    whiskers = [
        layer for layer in layers if layer["encoding"].get("x", {}).get("field") == "ci_low"
    ]
    assert whiskers[0]["transform"] == [{"filter": "isValid(datum.ci_low)"}]
    assert whiskers[0]["encoding"]["x2"] == {"field": "ci_high"}
    # Beside each row its numbers; above the first group only, the columns' headings.
    texts = [layer for layer in layers if layer["mark"]["type"] == "text"]
    columns = [t for t in texts if "y" in t["encoding"]]
    assert [c["encoding"]["text"]["field"] for c in columns] == [
        "effect_ci",
        "k",
        "n_text",
        "review",
    ]
    headings = [t for t in texts if "value" in t["encoding"]["text"]]
    assert [h["encoding"]["text"]["value"] for h in headings][0] == "Effect [95% CI]"
    assert {_group_filter(h) for h in headings} == {(field, "===", row["sort"][0])}
    names = [t for t in texts if t["encoding"]["text"].get("field") == field]
    assert len(names) == 1 and names[0]["transform"][0]["groupby"] == [field]
    # The x axis' labels are drawn once, under the last group; the other groups get its line.
    lines = [layer for layer in layers if layer["encoding"].get("y") == {"value": "height"}]
    assert [_group_filter(line) for line in lines] == [(field, "!==", row["sort"][-1])]


def test_forest_plot_spec_does_not_share_state_between_calls(root):
    figure = synthesis.forest_plot()
    first = figure.spec()
    first["datasets"].clear()
    first["spec"]["layer"].clear()
    again = figure.spec()
    assert again["datasets"]["forest_rows"] and again["spec"]["layer"]


# ---------------------------------------------------------------------------
# Explorer


def test_explorer_strata_add_up_to_the_findings(root):
    strata = synthesis.explorer_strata()
    rows = joined(root)
    assert int(strata["n_rows"].sum()) == len(rows)
    # n counts distinct sources: never more than the rows, and each direction's count at most n
    assert (strata["n"] <= strata["n_rows"]).all()
    directions = strata[["n_inc", "n_dec", "n_nc", "n_mix", "n_unsp"]]
    assert (directions.max(axis=1) <= strata["n"]).all() and (
        directions.sum(axis=1) >= strata["n"]
    ).all()


def test_explorer_has_five_labelled_filters_above_a_chart_driven_by_them(root):
    explorer = synthesis.explorer()
    html = explorer._repr_html_()
    labels = re.findall(r'<label class="review-explorer__filter">([^<]+)<select', html)
    assert [label.strip() for label in labels] == [
        "Claim type",
        "Evidence type",
        "Species",
        "Class or group",
        "Mediator family",
    ]
    # The claim-type menu opens on intervention effects, and the chart's parameter agrees.
    claim_menu = re.search(r'<select name="claim"[^>]*>(.*?)</select>', html).group(0)
    assert 'data-default="Intervention effect"' in claim_menu
    assert re.search(r'<option value="Intervention effect" selected>', claim_menu)
    assert html.index("<form") < html.index('class="review-chart"') < html.index("__findings")
    spec = explorer.spec()
    signals = {p["name"]: p.get("value") for p in spec["params"]}
    for select in re.findall(r'data-signal="(\w+)"', html):
        assert select in signals  # each menu sets a parameter of the chart
    assert signals["claim_filter"] == "Intervention effect"
    assert {"cell_intervention", "cell_mediator"} <= set(signals)
    assert all("bind" not in p for p in spec["params"])  # the page's menus, not Vega's
    assert "datum.claim == claim_filter" in json.dumps(spec)  # the menu filters the marks
    # The chart reads one data file; the size legend keeps one domain whatever is filtered.
    assert spec["data"]["url"].endswith(".json")
    size = spec["encoding"]["size"]
    assert size["scale"]["domain"][0] == 1 and size["scale"]["domain"][1] >= max(
        size["legend"]["values"]
    )


def test_explorer_strata_link_each_source_to_its_bibliography_key(root):
    strata = synthesis.explorer_strata()
    assert (strata["src"].map(len) == strata["src_keys"].map(len)).all()
    assert (strata["src"].map(len) == strata["n"]).all()  # one label per distinct source
    assert all("#" not in key for keys in strata["src_keys"] for key in keys)


def test_explorer_page_does_not_grow_with_repeated_findings(copy_root):
    size_before = len(synthesis.explorer_strata())
    rows = read(copy_root, "evidence")
    template = rows[rows["intervention"] == "fluvoxamine"].iloc[0].to_dict()
    for i in range(20):  # the same finding from the same source, twenty more times
        template = {**template, "note": f"repeat {i}"}
        append_finding(copy_root, **{k: v for k, v in template.items() if k != "id"})
    strata = synthesis.explorer_strata()
    assert len(strata) == size_before
    assert int(strata["n_rows"].sum()) == len(read(copy_root, "evidence"))
    assert int(strata["n"].sum()) == int(synthesis.explorer_strata()["n"].sum())


def test_explorer_scales_past_altairs_row_limit(tmp_path, monkeypatch):
    """Strata are bounded by the vocabularies, not the findings; more than 5000 must still chart."""
    import shutil
    from pathlib import Path

    import pandas as pd

    from neuroimmune_review import synthesis

    repo = Path(__file__).resolve().parents[2]
    for name in ("_toc.yml", "references.bib"):
        shutil.copy(repo / name, tmp_path / name)
    shutil.copytree(repo / "data", tmp_path / "data")
    interventions = pd.read_csv(repo / "data/interventions.csv", dtype=str, keep_default_na=False)[
        "name"
    ]
    mediators = pd.read_csv(repo / "data/mediators.csv", dtype=str, keep_default_na=False)["name"]
    grid = pd.MultiIndex.from_product(
        [interventions, mediators], names=["intervention", "mediator"]
    ).to_frame(index=False)
    rows = grid.assign(
        id=[f"EV{i:06d}" for i in range(len(grid))],
        claim_type="intervention_effect",
        comparator="vehicle or untreated",
        reported_as="reduced",
        direction="decrease",
        evidence_type="in_vitro",
        species="rat",
        sample="synthetic",
        dose="",
        citation="nava2025modulation",
        review_ref="99",
        chapter="book/antidepressants/ssri",
        note="",
    )[
        [
            "id",
            "claim_type",
            "intervention",
            "comparator",
            "mediator",
            "direction",
            "reported_as",
            "evidence_type",
            "species",
            "sample",
            "dose",
            "citation",
            "review_ref",
            "chapter",
            "note",
        ]
    ]
    rows.to_csv(tmp_path / "data/evidence.csv", index=False)
    monkeypatch.setenv("REVIEW_ROOT", str(tmp_path))
    strata = synthesis.explorer_strata()
    assert len(strata) > 5000
    # Building the spec used to raise Altair's MaxRowsError here; every stratum must reach the
    # explorer's data file.
    explorer = synthesis.explorer(default_family="cytokine")
    name = explorer.data_href.rsplit("/", 1)[-1]
    payload = json.loads((tmp_path / "_build" / "explorer-data" / name).read_text(encoding="utf-8"))
    assert len(payload["strata"]) == len(strata)
    assert {s["intervention"] for s in payload["strata"]} == set(strata["intervention"])


def test_contested_page_lists_the_most_sourced_pairs_and_links_every_pair(tmp_path, monkeypatch):
    """Past MAX_PAIRS_SHOWN the chart and table keep the most-sourced pairs; the table says how
    many there are and links to a CSV file holding every pair."""
    from neuroimmune_review.pages.synthesis import contested

    repo = Path(__file__).resolve().parents[2]
    for name in ("_toc.yml", "references.bib"):
        shutil.copy(repo / name, tmp_path / name)
    shutil.copytree(repo / "data", tmp_path / "data")
    monkeypatch.setenv("REVIEW_ROOT", str(tmp_path))
    every = synthesis.contested_pairs()
    assert len(every) > 2
    monkeypatch.setattr(contested, "MAX_PAIRS_SHOWN", 2)
    table = synthesis.contested_table()
    assert len(table.frame) == 2
    assert f"({len(every)} pairs)" in table.caption
    most = sorted(every["n_sources"], reverse=True)[:2]
    assert (
        sorted(table.frame["Sources (rows)"].str.extract(r"(\d+)")[0].astype(int), reverse=True)
        == most
    )
    text, href = table.more
    assert f"of {len(every)}" in text and href.endswith(".csv")
    written = pd.read_csv(tmp_path / "_build" / "explorer-data" / href.rsplit("/", 1)[-1])
    assert len(written) == len(every)
    chart_pairs = set(synthesis.contested_chart().data["pair"])
    assert len(chart_pairs) == 2


def test_citation_labels_follow_an_edit_of_the_bibliography(copy_root):
    from neuroimmune_review import data

    bib = copy_root / "references.bib"
    text = bib.read_text(encoding="utf-8")
    key, year = re.search(
        r"@\w+\{([^,\s]+),(?:(?!\n@).)*?year\s*=\s*[{\"]?(\d{4})", text, re.S
    ).groups()
    before = data.citation_labels(keys=[key])[key]["label"]
    assert before.endswith(year)
    data.references()[key]["year"] = "changed by a caller"  # callers get copies
    assert data.citation_labels(keys=[key])[key]["label"] == before
    start = text.index("{" + key + ",")
    field = re.compile(r"(year\s*=\s*[{\"]?)" + year)
    edited = text[:start] + field.sub(r"\g<1>1899", text[start:], count=1)
    bib.write_text(edited, encoding="utf-8")
    assert data.citation_labels(keys=[key])[key]["label"] == before[: -len(year)] + "1899"


def test_evidence_filters_select_what_a_comparison_of_every_row_selects(root):
    from neuroimmune_review import data

    rows = data.evidence()
    cases = [
        {"chapter": rows["chapter"].iat[0]},
        {"drug_class": "SSRI"},
        {"drug_class": "SSRI", "claim_type": "intervention_effect"},
        {"drug_class": "SSRI", "mediator": "IL-6", "claim_type": "intervention_effect"},
        {"mediator": "no such mediator"},
        {"intervention_kind": "drug", "chapter": rows["chapter"].iat[-1]},
    ]
    for filters in cases:
        mask = pd.Series(True, index=rows.index)
        for column, value in filters.items():
            mask &= rows[column] == value
        pd.testing.assert_frame_equal(data.evidence(**filters), rows[mask].reset_index(drop=True))


def test_evidence_filters_follow_an_edit_of_the_data(copy_root):
    from neuroimmune_review import data

    path = copy_root / "data" / "evidence.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    column = table[0].index("chapter")
    moved, target = table[1][0], table[-1][column]
    assert table[1][column] != target
    before = set(data.evidence(chapter=target)["id"])
    assert moved not in before
    table[1][column] = target
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(table)
    assert set(data.evidence(chapter=target)["id"]) == before | {moved}
