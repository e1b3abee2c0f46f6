"""The redrawn figures of the source article (neuroimmune_review.figures)."""

from __future__ import annotations

import csv
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from neuroimmune_review import figures, provenance
from neuroimmune_review.render import Figure

REPO = Path(__file__).resolve().parents[2]
DIAGRAMS = [
    (figures.neuroimmune_mechanisms, "neuroimmune_mechanisms", 1),
    (figures.antidepressant_mechanisms, "antidepressant_mechanisms", 2),
    (figures.neuroimmune_communication, "neuroimmune_communication", 4),
]
SVG = "{http://www.w3.org/2000/svg}"
NASTY = """<script>alert("x")</script> & 'q' \\N"""


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A private copy of the review root, so tests can edit the figure data."""
    shutil.copy(REPO / "_toc.yml", tmp_path / "_toc.yml")
    shutil.copytree(REPO / "data", tmp_path / "data")
    monkeypatch.setenv("REVIEW_ROOT", str(tmp_path))
    monkeypatch.setattr(provenance, "_page", None)
    return tmp_path


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def rename_node(root: Path, name: str, old: str, new: str) -> None:
    """Rename a node in a diagram's edge list and node list alike."""
    folder = root / "data" / "figures"
    edges = read_rows(folder / f"{name}.csv")
    for row in edges:
        row["source"] = new if row["source"] == old else row["source"]
        row["target"] = new if row["target"] == old else row["target"]
    write_rows(folder / f"{name}.csv", edges)
    nodes = read_rows(folder / f"{name}_nodes.csv")
    for row in nodes:
        row["node"] = new if row["node"] == old else row["node"]
    write_rows(folder / f"{name}_nodes.csv", nodes)


def svg_texts(diagram: figures.Diagram) -> list[str]:
    return [el.text or "" for el in ET.fromstring(diagram.svg).iter(f"{SVG}text")]


@pytest.mark.parametrize(("build", "name", "number"), DIAGRAMS)
def test_diagram_renders_inline_svg_with_caption_and_source(root, build, name, number):
    diagram = build()
    page = diagram._repr_html_()
    assert page.startswith("<figure") and page.endswith("</figure>")
    assert "<?xml" not in page and "<!DOCTYPE" not in page and "<!--" not in page
    svg = ET.fromstring(diagram.svg)
    assert svg.get("role") == "img" and svg.get("aria-label") == diagram.title
    assert svg.find(f"{SVG}title").text == diagram.title
    assert "<figcaption" in page and diagram.caption[:40] in page
    assert (
        f"Redrawn from the caption of Fig. {number} in Nava et al. (2025), CC BY 4.0; "
        f"generated from data/figures/{name}.csv"
    ) in page
    # Every node of the data is drawn; short names stay on one line.
    nodes = [row["node"] for row in read_rows(root / "data" / "figures" / f"{name}_nodes.csv")]
    short = [n for n in nodes if len(n) <= 14]
    assert short and all(n in svg_texts(diagram) for n in short)
    assert len(svg.findall(f".//{SVG}g[@class='node']")) == len(nodes)


def test_diagram_ids_are_prefixed_and_unique_per_diagram(root):
    svgs = [build().svg for build, _, _ in DIAGRAMS]
    ids = [el.get("id") for svg in svgs for el in ET.fromstring(svg).iter() if el.get("id")]
    assert ids and len(ids) == len(set(ids))
    assert all(i.startswith("diagram-") for i in ids)


def test_receptor_matrix_renders_every_pairing(root):
    figure = figures.receptor_matrix()
    assert isinstance(figure, Figure)
    spec = figure.spec()
    rows = read_rows(root / "data" / "figures" / "receptor_matrix.csv")
    paired = [r for r in rows if r["immune_cell"]]
    assert len(figure.data) == len(paired)
    assert spec["encoding"]["x"]["scale"]["domain"] == list(
        dict.fromkeys(r["receptor_group"] for r in rows)
    )
    assert {"color", "shape"} <= spec["encoding"].keys()
    page = figure._repr_html_()
    assert "Redrawn from the caption of Fig. 3 in Nava et al. (2025), CC BY 4.0" in page
    assert "data/figures/receptor_matrix.csv" in page
    assert "Mast cells" in json.dumps(spec, ensure_ascii=False)


def test_changing_an_edge_label_changes_the_diagram(root):
    before = figures.neuroimmune_communication()
    path = root / "data" / "figures" / "neuroimmune_communication.csv"
    rows = read_rows(path)
    rows[0]["label"] = "Zzyzx route"
    write_rows(path, rows)
    after = figures.neuroimmune_communication()
    assert "Zzyzx route" not in before.svg
    assert "Zzyzx route" in svg_texts(after)
    assert after._repr_html_() != before._repr_html_()


def test_renaming_a_node_changes_the_diagram(root):
    rename_node(root, "neuroimmune_mechanisms", "Microglia", "Glia cells")
    diagram = figures.neuroimmune_mechanisms()
    assert "Glia cells" in svg_texts(diagram)
    assert "Microglia" not in svg_texts(diagram)


def test_changing_the_matrix_changes_the_chart(root):
    path = root / "data" / "figures" / "receptor_matrix.csv"
    rows = read_rows(path)
    rows[0]["immune_cell"] = "Basophils"
    write_rows(path, rows)
    assert "Basophils" in json.dumps(figures.receptor_matrix().spec())


def test_markup_and_quotes_from_the_data_are_escaped(root):
    rename_node(root, "neuroimmune_communication", "Cytokines", NASTY)
    path = root / "data" / "figures" / "neuroimmune_communication.csv"
    rows = read_rows(path)
    rows[0]["label"] = NASTY
    write_rows(path, rows)
    diagram = figures.neuroimmune_communication()
    page = diagram._repr_html_()
    assert "<script" not in page
    assert "&lt;script&gt;" in page
    ET.fromstring(diagram.svg)  # still well-formed
    # Shown literally: the label wraps at spaces, so join the lines of each text block back.
    texts = svg_texts(diagram)
    assert '<script>alert("x")</script>' in texts
    assert " ".join(texts).count("& 'q' \\N") >= 2  # node and edge label, backslash kept
    assert NASTY in diagram.text_version()[0]


def test_markup_in_the_matrix_is_escaped(root):
    path = root / "data" / "figures" / "receptor_matrix.csv"
    rows = read_rows(path)
    rows[0]["immune_cell"] = NASTY
    write_rows(path, rows)
    page = figures.receptor_matrix()._repr_html_()
    assert "<script>alert" not in page and "</script> &" not in page


def test_dot_string_quotes_and_escapes():
    assert figures.dot_string('a "b" \\ c & d') == '"a \\"b\\" \\\\ c &amp; d"'
    assert figures.dot_string("line\nbreak\tand  spaces") == '"line break and spaces"'
    assert figures.dot_string("one two three", wrap=7) == '"one two\\nthree"'


def test_missing_dot_gives_a_clear_error(root, tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(figures.GraphvizNotFound, match=r"Graphviz program 'dot'.*graphviz"):
        figures.neuroimmune_mechanisms()


def test_unknown_relation_or_unlisted_node_is_reported(root):
    path = root / "data" / "figures" / "antidepressant_mechanisms.csv"
    rows = read_rows(path)
    rows[0]["relation"] = "tickles"
    rows[1]["target"] = "Nowhere"
    write_rows(path, rows)
    with pytest.raises(ValueError, match=r"unknown relation 'tickles'.*'Nowhere' is not listed"):
        figures.antidepressant_mechanisms()


def test_figure_table_rejects_paths(root):
    with pytest.raises(ValueError):
        figures.figure_table(name="../evidence")


def test_pages_using_a_figure_go_stale_when_its_data_change(root):
    provenance.begin_page("book/test-page")
    figures.neuroimmune_communication()
    record = json.loads(provenance.record_path("book/test-page", root).read_text(encoding="utf-8"))
    assert any(
        "figures.figure_table" in key and "neuroimmune_communication" in key
        for key in record["inputs"]
    )
    assert provenance.stale_pages(root, ["book/test-page"]) == []
    path = root / "data" / "figures" / "neuroimmune_communication_nodes.csv"
    rows = read_rows(path)
    rows[0]["group"] = "immune"
    write_rows(path, rows)
    assert provenance.stale_pages(root, ["book/test-page"]) == ["book/test-page"]
