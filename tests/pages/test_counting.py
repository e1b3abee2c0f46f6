"""Counts are of independent sources: fanning a pooled result out into per-drug rows, or
duplicating rows, raises no synthesis count (the evidence model's counting rule)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from neuroimmune_review import charts, data, summaries, synthesis

ROOT = Path(__file__).resolve().parents[2]
POOLED = "SSRIs, pooled: fluoxetine, paroxetine, sertraline, escitalopram"


def copy_root(base: Path) -> Path:
    base.mkdir()
    shutil.copy(ROOT / "_toc.yml", base / "_toc.yml")
    shutil.copy(ROOT / "references.bib", base / "references.bib")
    shutil.copytree(ROOT / "data", base / "data")
    return base


def read(root: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(root / "data" / f"{name}.csv", dtype=str, keep_default_na=False)


def fan_out(root: Path) -> int:
    """Replace each pooled-group row by one row per member drug (same source), then duplicate
    every row; returns how many rows the pooled result became."""
    evidence = read(root, "evidence")
    members = read(root, "interventions").set_index("name").loc[POOLED, "members"]
    drugs = [m.strip() for m in members.split(";")]
    pooled = evidence[evidence["intervention"] == POOLED]
    assert len(pooled) and len(drugs) == 4
    fanned = pd.concat([pooled.assign(intervention=d) for d in drugs])
    rows = pd.concat([evidence[evidence["intervention"] != POOLED], fanned])
    rows = pd.concat([rows, rows])  # and every row twice
    rows = rows.assign(id=[f"EV{i:05d}" for i in range(1, len(rows) + 1)])
    rows.to_csv(root / "data" / "evidence.csv", index=False, lineterminator="\n")
    return len(fanned)


def measures() -> dict[str, object]:
    gap = synthesis.gap_map_table().set_index(["drug_class", "mediator"])
    votes = synthesis.th_balance_counts().set_index("drug_class")
    pairs = synthesis.contested_pairs()
    classed = pairs[pairs["level"] == "class"].set_index(["subject", "mediator"])
    strata = synthesis.explorer_strata()
    ssri = data.evidence(drug_class="SSRI")
    summary = summaries.findings_summary(ssri, "the SSRI class")
    return {
        "gap bubbles": gap["n_sources"].to_dict(),
        "gap map size": json.loads(json.dumps(synthesis.gap_map().data["cells"].tolist()))
        and {k: v for k, v in gap["n_sources"].items() if v},
        "votes": votes[
            ["th1_less", "th1_more", "th2_less", "th2_more", "no_shift", "net"]
        ].to_dict(),
        "contested pairs": sorted(classed.index),
        "contested sources": classed[["n_sources", "n_increase", "n_decrease"]].to_dict(),
        "N findings": re.search(r"\*\*(\d+) sources?", summary).group(1),
        "explorer sources": len({s for cell in strata["src"] for s in cell}),
        "explorer largest mark": int(
            strata.groupby(["intervention", "mediator"])["src"]
            .agg(lambda s: len({x for c in s for x in c}))
            .max()
        ),
        "class overview": charts.class_overview()
        .data.set_index(["drug_class", "direction"])["n_sources"]
        .to_dict(),
    }


@pytest.fixture
def before_and_after(tmp_path, monkeypatch):
    original = copy_root(tmp_path / "original")
    monkeypatch.setenv("REVIEW_ROOT", str(original))
    before = measures()
    fanned = copy_root(tmp_path / "fanned")
    assert fan_out(fanned) == 4 * len(read(original, "evidence").query("intervention == @POOLED"))
    monkeypatch.setenv("REVIEW_ROOT", str(fanned))
    assert len(data.evidence()) > len(read(original, "evidence"))
    return before, measures()


@pytest.mark.parametrize(
    "measure",
    [
        "gap bubbles",
        "gap map size",
        "votes",
        "contested pairs",
        "contested sources",
        "N findings",
        "explorer sources",
        "explorer largest mark",
        "class overview",
    ],
)
def test_fan_out_and_duplicates_raise_no_count(before_and_after, measure):
    before, after = before_and_after
    assert after[measure] == before[measure]


def test_source_id_follows_the_counting_rule():
    assert data.source_id({"citation": "smith2010", "review_ref": "12"}) == "smith2010"
    assert data.source_id({"citation": "smith2010", "review_ref": ""}) == "smith2010"
    article = "nava2025modulation"
    assert (
        data.source_id({"citation": article, "review_ref": "158; 156;157"})
        == f"{article}#156,157,158"
    )
    assert data.source_id({"citation": article, "review_ref": "9;10"}) == f"{article}#9,10"
    assert data.source_id({"citation": article, "review_ref": ""}) == article
    rows = pd.DataFrame(
        {"citation": ["a", "a", article, article, article], "review_ref": ["1", "2", "3", "3", "4"]}
    )
    # a work cited under two numbers is one source; two unresolved numbers are two
    assert data.n_sources(rows) == 3


def test_counts_say_sources_and_rows():
    from neuroimmune_review.pages.counts import sources_and_rows

    assert sources_and_rows(5, 8) == "5 sources (8 rows)"
    assert sources_and_rows(1, 1) == "1 source"


def test_a_new_drug_class_appears_on_the_class_overview_without_code_changes(tmp_path, monkeypatch):
    root = copy_root(tmp_path / "review")
    package_path = root / "data" / "datapackage.json"
    package = json.loads(package_path.read_text(encoding="utf-8"))
    interventions = next(r for r in package["resources"] if r["name"] == "interventions")
    field = next(f for f in interventions["schema"]["fields"] if f["name"] == "drug_class")
    field["constraints"]["enum"].append("NaSSA")
    package_path.write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
    with (root / "data" / "interventions.csv").open("a", encoding="utf-8") as handle:
        handle.write("mirtazapine,drug,NaSSA,,Alpha-2 antagonist (test fixture),,\n")
    evidence = read(root, "evidence")
    row = evidence[evidence["claim_type"] == "intervention_effect"].iloc[0].to_dict()
    row.update(id="EV9999", intervention="mirtazapine", direction="decrease")
    pd.concat([evidence, pd.DataFrame([row])]).to_csv(
        root / "data" / "evidence.csv", index=False, lineterminator="\n"
    )
    monkeypatch.setenv("REVIEW_ROOT", str(root))
    overview = charts.class_overview()
    assert "NaSSA" in set(overview.data["drug_class"])
    assert data.drug_classes()[-1] == "NaSSA"
    assert "NaSSA" in set(synthesis.gap_map_table()["drug_class"])


def test_source_ids_of_a_frame_are_each_rows_source_id():
    article = "nava2025modulation"
    rows = pd.DataFrame(
        {
            "citation": ["a", article, article, "b", article, "a", None, article],
            "review_ref": ["1", "3;2", "2; 3", "", "", "1", "5", float("nan")],
        },
        index=[10, 11, 12, 13, 14, 15, 16, 17],
    )
    ids = data.source_ids(rows)
    assert list(ids.index) == list(rows.index)
    assert ids.dtype == object
    assert list(ids) == [data.source_id(row) for _, row in rows.iterrows()]
    assert ids[11] == ids[12] == f"{article}#2,3"


def test_claim_type_counts_are_each_claim_types_sources_and_rows(monkeypatch):
    from neuroimmune_review.pages import about
    from neuroimmune_review.pages.counts import sources_phrase

    monkeypatch.setenv("REVIEW_ROOT", str(ROOT))
    rows = data.evidence()
    labels = data.claim_type_labels()
    table = about.claim_type_counts().frame
    expected = [sources_phrase(rows[rows["claim_type"] == c]) for c in labels]
    assert table["Sources (rows)"].tolist() == expected
    assert len(set(expected)) > 1  # the claim types really differ
