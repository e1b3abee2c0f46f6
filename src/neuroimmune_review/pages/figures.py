"""The four figures of the source article, redrawn at build time from small data files.

Nava et al. (2025) drew their figures in BioRender, which the CC BY 4.0 licence of the
article does not cover, so the review redraws each from its caption (and the text
around it): ``data/figures/*.csv`` state what each figure shows, and the functions here
turn them into pictures.

* Figs. 1, 2 and 4 are diagrams: an edge list (``source,target,relation,label,note``)
  and a node list (``node,group``) become a Graphviz graph, laid out by the ``dot``
  program (Debian package ``graphviz``) and inlined in the page as SVG.
* Fig. 3 is a matrix of immune cells against receptor groups, drawn with Altair.

Every file is read through the tracked query ``figure_table``, so a page is
re-executed when a figure's data change.  All text from the files is escaped for
DOT, SVG and HTML alike.

Long by design: the node and relation styles, the DOT writer, the SVG clean-up and
the four figures belong together (every figure uses all of them), and the legend
text lives next to the styles it explains.
"""

from __future__ import annotations

import hashlib
import html
import re
import shutil
import subprocess
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import NamedTuple

import altair as alt
import pandas as pd

from .. import data
from ..provenance import tracked
from ..render import Figure
from . import palette

FIGURE_DIR = "figures"
EDGE_COLUMNS = ["source", "target", "relation", "label", "note"]
NODE_COLUMNS = ["node", "group"]
MATRIX_COLUMNS = ["receptor_group", "immune_cell", "antidepressant_class", "note"]
SOURCE = "Nava et al. (2025), CC BY 4.0"
FONT = "Helvetica"
_NAME = re.compile(r"[a-z0-9_]+")
_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"


class GraphvizNotFound(RuntimeError):
    """The ``dot`` program is not installed (or not on PATH)."""


# --- Data --------------------------------------------------------------------------


@tracked(reads=lambda name: [f"data/{FIGURE_DIR}/{name}.csv"])
def figure_table(*, name: str) -> pd.DataFrame:
    """``data/figures/<name>.csv`` as text columns (a figure's edges, nodes or matrix)."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"figure table names are lower-case words and underscores, not {name!r}")
    return data.read_table(f"{FIGURE_DIR}/{name}")


def _require_columns(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"data/{FIGURE_DIR}/{name}.csv lacks column(s) {', '.join(missing)}")


# --- Styles ------------------------------------------------------------------------


class NodeStyle(NamedTuple):
    label: str
    fill: str
    shape: str
    style: str = "filled"
    fontcolor: str = "#000000"


class EdgeStyle(NamedTuple):
    label: str
    color: str
    style: str
    arrowhead: str
    penwidth: float = 1.2


# Okabe-Ito fills (black or white text, whichever passes 4.5:1), and a different shape
# per group so that colour is never the only cue.
NODE_GROUPS: dict[str, NodeStyle] = {
    "immune": NodeStyle("Immune cells", palette.ORANGE, "box", "rounded,filled"),
    "cytokine": NodeStyle("Cytokines", palette.VERMILLION, "ellipse"),
    "cns": NodeStyle("Nervous-system cells and receptors", palette.SKY_BLUE, "tab"),
    "molecule": NodeStyle(
        "Neurotransmitters, messengers and metabolites", palette.BLUISH_GREEN, "box"
    ),
    "target": NodeStyle("Enzymes, transporters and drug targets", palette.REDDISH_PURPLE, "box3d"),
    "drug": NodeStyle("Drug classes", palette.BLUE, "box", "filled,bold", "#FFFFFF"),
    "barrier": NodeStyle("Blood-brain barrier and vessels", palette.YELLOW, "note"),
    "process": NodeStyle("Processes and states", "#E8E8E8", "box", "filled,dashed"),
    "outcome": NodeStyle("Outcome", "#000000", "box", "rounded,filled,bold", "#FFFFFF"),
}
# Relations differ by line style and arrowhead as well as colour.
RELATIONS: dict[str, EdgeStyle] = {
    "activates": EdgeStyle("activates or increases", "#000000", "solid", "normal"),
    "inhibits": EdgeStyle(
        "inhibits, removes or breaks down", palette.VERMILLION, "solid", "tee", 1.6
    ),
    "releases": EdgeStyle("releases or secretes", palette.BLUE, "dashed", "normal"),
    "crosses": EdgeStyle("crosses into or signals to", "#000000", "bold", "normal", 2.2),
    "binds": EdgeStyle("binds (receptor)", "#000000", "solid", "dot"),
    "converts": EdgeStyle("is converted into", palette.BLUISH_GREEN, "solid", "empty", 1.6),
    "contributes": EdgeStyle("contributes to", palette.GREY, "solid", "vee"),
    "spares": EdgeStyle("spares (little or no action)", palette.GREY, "dotted", "odot"),
}


# --- DOT ---------------------------------------------------------------------------


def _clean(text: str) -> str:
    """One line of plain text: control characters and runs of white space become one space."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", str(text)).split())


def dot_string(text: str, wrap: int | None = None) -> str:
    """*text* as a quoted DOT string that Graphviz shows literally (optionally wrapped)."""
    lines = textwrap.wrap(_clean(text), wrap, break_long_words=False) if wrap else [_clean(text)]
    escaped = [
        line.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("&", "&amp;")  # dot reads &..; as entities
        for line in lines or [""]
    ]
    return '"' + "\\n".join(escaped) + '"'


def _attrs(**attributes: object) -> str:
    return ", ".join(f"{key}={dot_string(str(value))}" for key, value in attributes.items())


def build_dot(edges: pd.DataFrame, nodes: pd.DataFrame, *, name: str) -> str:
    """The DOT source of one diagram: nodes styled by group, edges by relation, left to right."""
    _require_columns(edges, EDGE_COLUMNS, name)
    _require_columns(nodes, NODE_COLUMNS, f"{name}_nodes")
    groups = dict(zip(nodes["node"].map(_clean), nodes["group"].map(_clean), strict=False))
    edges = edges.assign(
        source=edges["source"].map(_clean),
        target=edges["target"].map(_clean),
        relation=edges["relation"].map(_clean),
    )
    problems = [
        f"unknown relation {r!r}" for r in sorted(set(edges["relation"]) - RELATIONS.keys())
    ]
    problems += [
        f"unknown node group {g!r}" for g in sorted(set(groups.values()) - NODE_GROUPS.keys())
    ]
    used = list(dict.fromkeys([*edges["source"], *edges["target"]]))
    problems += [f"node {n!r} is not listed in {name}_nodes.csv" for n in used if n not in groups]
    if problems:
        raise ValueError(f"data/{FIGURE_DIR}/{name}: " + "; ".join(problems))

    # Node ids are generated, so no data text ever becomes an identifier or an SVG comment.
    order = [n for n in groups if n in used]  # node-file order steers the layout
    ids = {node: f"n{i}" for i, node in enumerate(order)}
    lines = [
        "digraph G {",
        f"  graph [{_attrs(rankdir='LR', bgcolor='#FFFFFF', fontname=FONT, nodesep='0.15', ranksep='0.3', pad='0.1')}];",
        f"  node [{_attrs(fontname=FONT, fontsize='10', margin='0.06,0.03', penwidth='1', color='#333333')}];",
        f"  edge [{_attrs(fontname=FONT, fontsize='8.5', fontcolor='#222222', arrowsize='0.8')}];",
    ]
    for node in order:
        s = NODE_GROUPS[groups[node]]
        lines.append(
            f"  {ids[node]} [label={dot_string(node, 14)}, "
            f"{_attrs(shape=s.shape, style=s.style, fillcolor=s.fill, fontcolor=s.fontcolor)}];"
        )
    for _, edge in edges.iterrows():
        s = RELATIONS[edge["relation"]]
        lines.append(
            f"  {ids[edge['source']]} -> {ids[edge['target']]} [label={dot_string(edge['label'], 14)}, "
            f"{_attrs(color=s.color, style=s.style, arrowhead=s.arrowhead, penwidth=s.penwidth)}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def run_dot(source: str) -> str:
    """Lay out *source* with Graphviz and return its SVG document."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFound(
            "The Graphviz program 'dot' was not found on PATH; the review's diagrams are drawn with it. "
            "Install the Debian package 'graphviz' (apt-get install graphviz, or scripts/install_system_deps.sh)."
        )
    result = subprocess.run(
        [exe, "-Tsvg"], input=source.encode("utf-8"), capture_output=True, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"dot failed ({result.returncode}): {result.stderr.decode('utf-8', 'replace').strip()}"
        )
    return result.stdout.decode("utf-8")


def inline_svg(svg: str, *, ident: str, title: str, description: str) -> str:
    """Graphviz's SVG made fit for inlining in HTML.

    Drops the XML prolog, doctype and comments; removes Graphviz's per-node ``<title>``
    (generated ids); prefixes ids so several diagrams can share a page; adds
    ``role="img"``, an ``aria-label`` and a ``<title>``/``<desc>``; scales to its container.
    """
    ET.register_namespace("", _SVG_NS)
    ET.register_namespace("xlink", _XLINK_NS)
    root = ET.fromstring(svg.encode("utf-8"))  # the parser skips prolog, doctype and comments
    for parent in root.iter():
        for child in list(parent):
            if child.tag == f"{{{_SVG_NS}}}title":
                parent.remove(child)
    for element in root.iter():
        if "id" in element.attrib:
            element.set("id", f"{ident}-{element.get('id')}")
    width = re.fullmatch(r"([\d.]+)pt", root.attrib.pop("width", ""))
    root.attrib.pop("height", None)
    max_width = (
        f"max-width:{float(width[1]) * 4 / 3:.0f}px;" if width else ""
    )  # natural size, pt -> CSS px
    root.set("style", f"{max_width}width:100%;height:auto;")
    root.set("role", "img")
    root.set("aria-label", title)
    root.set("aria-labelledby", f"{ident}-title {ident}-desc")
    title_el = ET.Element(f"{{{_SVG_NS}}}title", id=f"{ident}-title")
    title_el.text = title
    desc_el = ET.Element(f"{{{_SVG_NS}}}desc", id=f"{ident}-desc")
    desc_el.text = description
    root.insert(0, desc_el)
    root.insert(0, title_el)
    return ET.tostring(root, encoding="unicode")


# --- Diagram output ----------------------------------------------------------------

_ARROWHEADS = {  # tiny SVG heads for the key, drawn at x 26..36 on a 10-px-high line
    "normal": '<polygon points="26,1 36,5 26,9" fill="{c}"/>',
    "tee": '<line x1="35" y1="0" x2="35" y2="10" stroke="{c}" stroke-width="2.5"/>',
    "dot": '<circle cx="32" cy="5" r="3.5" fill="{c}"/>',
    "odot": '<circle cx="32" cy="5" r="3.5" fill="#FFFFFF" stroke="{c}"/>',
    "empty": '<polygon points="26,1 36,5 26,9" fill="#FFFFFF" stroke="{c}"/>',
    "vee": '<polyline points="26,1 36,5 26,9" fill="none" stroke="{c}" stroke-width="1.5"/>',
}
_DASHES = {"dashed": ' stroke-dasharray="5,3"', "dotted": ' stroke-dasharray="1.5,2.5"'}


def _relation_key(style: EdgeStyle) -> str:
    width = 2.5 if style.style == "bold" else style.penwidth
    line = (
        f'<line x1="0" y1="5" x2="28" y2="5" stroke="{style.color}" stroke-width="{width}"'
        f"{_DASHES.get(style.style, '')}/>"
    )
    return (
        f'<svg width="38" height="10" viewBox="0 0 38 10" aria-hidden="true" focusable="false">'
        f"{line}{_ARROWHEADS[style.arrowhead].format(c=style.color)}</svg>"
    )


def _group_key(style: NodeStyle) -> str:
    radius = "50%" if style.shape == "ellipse" else "3px"
    return (
        f'<span aria-hidden="true" style="display:inline-block;width:1.6em;height:0.9em;'
        f'vertical-align:middle;border:1px solid #333;border-radius:{radius};background:{style.fill}"></span>'
    )


def _ident(dot_source: str) -> str:
    """A page-unique id prefix for one diagram (ids inside its SVG start with it)."""
    return "diagram-" + hashlib.sha256(dot_source.encode()).hexdigest()[:12]


@dataclass
class Diagram:
    """A Graphviz diagram with its caption, source note, key and a text version of its edges."""

    title: str
    caption: str
    source_note: str
    svg: str = field(repr=False)
    dot: str = field(repr=False)
    edges: pd.DataFrame = field(repr=False)
    groups: list[str] = field(default_factory=list)

    @property
    def ident(self) -> str:
        return _ident(self.dot)

    def _key(self) -> str:
        items = [
            f"<li>{_group_key(NODE_GROUPS[g])} {html.escape(NODE_GROUPS[g].label)}</li>"
            for g in self.groups
        ]
        items += [
            f"<li>{_relation_key(RELATIONS[r])} {html.escape(RELATIONS[r].label)}</li>"
            for r in dict.fromkeys(self.edges["relation"])
        ]
        return (
            '<ul class="review-diagram__key" style="list-style:none;padding:0;margin:0.4rem 0;'
            'display:flex;flex-wrap:wrap;gap:0.2rem 1rem;font-size:0.8rem">'
            + "".join(items)
            + "</ul>"
        )

    def text_version(self) -> list[str]:
        """One sentence per edge: the diagram for readers who cannot see it."""
        out = []
        for _, e in self.edges.iterrows():
            label = f" ({e['label']})" if e["label"] else ""
            out.append(f"{e['source']} → {e['relation']} → {e['target']}{label}")
        return out

    def _repr_html_(self) -> str:
        ident = self.ident
        steps = "".join(f"<li>{html.escape(line)}</li>" for line in self.text_version())
        return (
            f'<figure class="review-chart review-diagram" id="{ident}" aria-labelledby="{ident}-caption">'
            f'<div class="review-diagram__canvas" style="overflow-x:auto">{self.svg}</div>'
            f'<figcaption id="{ident}-caption"><strong>{html.escape(self.title)}.</strong> '
            f"{html.escape(self.caption)} <em>{html.escape(self.source_note)}.</em>"
            f"{self._key()}"
            f"<details><summary>The diagram as text</summary><ul>{steps}</ul></details>"
            f"</figcaption></figure>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        text = f"{self.title}. {self.caption} {self.source_note}.\n" + "\n".join(
            self.text_version()
        )
        return {"text/html": self._repr_html_(), "text/plain": text}


def diagram(name: str, *, figure: int, title: str, caption: str) -> Diagram:
    """The shared builder: read ``<name>.csv`` and ``<name>_nodes.csv``, lay out, wrap for the page."""
    edges = figure_table(name=name)
    nodes = figure_table(name=f"{name}_nodes")
    source = build_dot(edges, nodes, name=name)
    source_note = (
        f"Redrawn from the caption of Fig. {figure} in {SOURCE}; "
        f"generated from data/{FIGURE_DIR}/{name}.csv"
    )
    svg = inline_svg(
        run_dot(source), ident=_ident(source), title=title, description=f"{caption} {source_note}."
    )
    edges = edges[EDGE_COLUMNS].apply(lambda column: column.map(_clean))
    used = set(edges["source"]) | set(edges["target"])
    groups = list(
        dict.fromkeys(
            g
            for n, g in zip(nodes["node"].map(_clean), nodes["group"].map(_clean), strict=False)
            if n in used
        )
    )
    return Diagram(
        title=title,
        caption=caption,
        source_note=source_note,
        svg=svg,
        dot=source,
        edges=edges,
        groups=groups,
    )


def neuroimmune_mechanisms() -> Diagram:
    """Fig. 1: how peripheral and barrier routes bring inflammation to the brain, and the IDO shunt."""
    return diagram(
        "neuroimmune_mechanisms",
        figure=1,
        title="Neuroimmune mechanisms of depression",
        caption=(
            "A leaky blood-brain barrier lets immune cells and cytokines into the brain, where they switch on "
            "microglia and neuroinflammation follows. Cytokines set free by activated immune cells in the body "
            "(IL-1β, IL-6, TNF-α, IFN-γ) change vessel permeability and reach or signal to the brain. IFN-γ also "
            "turns on IDO, which sends tryptophan down the kynurenine path instead of into serotonin; the "
            "kynurenine products 3-HK and quinolinic acid are neurotoxic and linked to depressive symptoms."
        ),
    )


def antidepressant_mechanisms() -> Diagram:
    """Fig. 2: where each antidepressant class acts at the synapse."""
    return diagram(
        "antidepressant_mechanisms",
        figure=2,
        title="How antidepressant classes act at the synapse",
        caption=(
            "MAOIs block monoamine oxidase, so nerve terminals keep and release more noradrenaline (NE) and "
            "serotonin (5-HT). TCAs stop the reuptake of both. SSRIs block only the serotonin transporter (SERT), "
            "leaving the noradrenaline transporter (NET) alone; SNRIs block both SERT and NET. SSRIs and SNRIs do "
            "little at peripheral receptors. The same transmitters also reach receptor groups carried by immune "
            "cells (Fig. 3)."
        ),
    )


def neuroimmune_communication() -> Diagram:
    """Fig. 4: the messengers and receptors of two-way traffic between nervous and immune systems."""
    return diagram(
        "neuroimmune_communication",
        figure=4,
        title="Two-way communication between nervous and immune systems",
        caption=(
            "Neurons, glia and immune cells exchange three kinds of chemical messenger: neurotransmitters, "
            "neuropeptides and cytokines, each read by its own receptors. Pairing sender and receiver gives four "
            "kinds of traffic: neuron to neuron, neuron to immune cell, immune cell to neuron and immune cell to "
            "immune cell."
        ),
    )


# --- Fig. 3: receptor matrix -------------------------------------------------------

CLASS_LABELS = {
    "SARI": "SARIs (serotonin antagonist and reuptake inhibitors)",
    "SSRI": "SSRIs (selective serotonin reuptake inhibitors)",
    "SNRI": "SNRIs (serotonin-noradrenaline reuptake inhibitors)",
    "NASSA": "NASSAs (noradrenergic and specific serotonergic antidepressants)",
}
_CLASS_COLOURS = [
    palette.ORANGE,
    palette.BLUE,
    palette.BLUISH_GREEN,
    palette.REDDISH_PURPLE,
    palette.VERMILLION,
    palette.SKY_BLUE,
    palette.YELLOW,
    palette.BLACK,
]
_CLASS_SHAPES = [
    "circle",
    "square",
    "triangle-up",
    "diamond",
    "triangle-down",
    "cross",
    "triangle-left",
    "wedge",
]


def receptor_matrix() -> Figure:
    """Fig. 3: immune cells (rows) against receptor groups (columns), one mark per antidepressant class."""
    name = "receptor_matrix"
    rows = figure_table(name=name)
    _require_columns(rows, MATRIX_COLUMNS, name)
    rows = rows[MATRIX_COLUMNS].apply(lambda column: column.map(_clean))
    receptors = list(dict.fromkeys(rows["receptor_group"]))
    pairs = rows[(rows["immune_cell"] != "") & (rows["antidepressant_class"] != "")].copy()
    cells = list(dict.fromkeys(pairs["immune_cell"]))
    classes = list(dict.fromkeys(pairs["antidepressant_class"]))
    pairs["Class"] = pairs["antidepressant_class"].map(lambda c: CLASS_LABELS.get(c, c))
    pairs["n"] = 1
    class_domain = [CLASS_LABELS.get(c, c) for c in classes]
    colours = [_CLASS_COLOURS[i % len(_CLASS_COLOURS)] for i in range(len(classes))]
    shapes = [_CLASS_SHAPES[i % len(_CLASS_SHAPES)] for i in range(len(classes))]
    unpaired = [r for r in receptors if r not in set(pairs["receptor_group"])]

    title = (
        "Neurotransmitter receptor groups on immune cells and the antidepressants that reach them"
    )
    description = (
        f"{len(pairs)} marks: each places an antidepressant class (colour and shape) at an immune cell type "
        f"(rows) and a receptor group (columns, {', '.join(receptors)}). The source caption names only which "
        f"class acts on which cell; the receptor group of each mark is read from the class name, so treat it "
        f"as indicative. "
        + (
            f"{', '.join(unpaired)} receptors are listed on immune cells but tied to no cell or class, so their "
            f"columns are empty. "
            if unpaired
            else ""
        )
        + f"Redrawn from the caption of Fig. 3 in {SOURCE}; generated from data/{FIGURE_DIR}/{name}.csv."
    )
    legend = alt.Legend(
        title="Antidepressant class", orient="bottom", direction="vertical", labelLimit=400
    )
    # With xOffset, the width step is per class inside each receptor column.
    chart = (
        alt.Chart(pairs)
        .mark_point(filled=True, size=150, opacity=0.95)
        .encode(
            x=alt.X(
                "receptor_group:N",
                title="Receptor group",
                scale=alt.Scale(domain=receptors, paddingInner=0.25),
                axis=alt.Axis(labelAngle=0, orient="top", domain=False, ticks=False),
            ),
            y=alt.Y("immune_cell:N", title=None, sort=cells, axis=alt.Axis(grid=True)),
            xOffset=alt.XOffset("Class:N", scale=alt.Scale(domain=class_domain)),
            color=alt.Color(
                "Class:N", scale=alt.Scale(domain=class_domain, range=colours), legend=legend
            ),
            shape=alt.Shape(
                "Class:N", scale=alt.Scale(domain=class_domain, range=shapes), legend=legend
            ),
            tooltip=[
                alt.Tooltip("immune_cell:N", title="Immune cell"),
                alt.Tooltip("receptor_group:N", title="Receptor group"),
                alt.Tooltip("Class:N", title="Class"),
                alt.Tooltip("note:N", title="Basis"),
            ],
        )
        .properties(
            # 16 px a class, the title on two lines: the chart was 706 px wide in a 688 px
            # desktop column, and the H1 column and the title's end were cut off.
            width=alt.Step(16),
            height=alt.Step(30),
            title=alt.Title(textwrap.wrap(title, 50), anchor="start"),
        )
    )
    return Figure(chart=chart, title=title, description=description, data=pairs)
