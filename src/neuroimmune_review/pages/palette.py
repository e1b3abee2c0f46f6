"""Every colour and mark shape the charts use: the one home of the review's palettes.

Okabe-Ito colours, distinguishable under the common colour-vision deficiencies (checked by
tests/test_site_a11y.py), and a shape beside each colour so no chart relies on colour alone.
The palettes are keyed by the enum values of data/datapackage.json; a test fails when an
enum gains a value without a colour and a shape here.
"""

from __future__ import annotations

# Direction of a result (evidence.direction).
DIRECTION_COLOURS = {
    "increase": "#D55E00",
    "decrease": "#0072B2",
    "no_change": "#6E6E6E",
    "mixed": "#CC79A7",
    "changed_unspecified": "#009E73",
}
DIRECTION_SHAPES = {
    "increase": "triangle-up",
    "decrease": "triangle-down",
    "no_change": "circle",
    "mixed": "diamond",
    "changed_unspecified": "square",
}
# Evidence type of a result (evidence.evidence_type).
EVIDENCE_COLOURS = {
    "clinical": "#0072B2",
    "preclinical_in_vivo": "#E69F00",
    "ex_vivo": "#009E73",
    "in_vitro": "#CC79A7",
    "unspecified": "#6E6E6E",
}
# Net direction of an explorer cell.
NET_COLOURS = {
    "Net increase": "#D55E00",
    "Net decrease": "#0072B2",
    "Balanced (conflicting)": "#CC79A7",
    "No change or mixed": "#6E6E6E",
    "Changed, direction not stated": "#009E73",
}
NET_SHAPES = {
    "Net increase": "triangle-up",
    "Net decrease": "triangle-down",
    "Balanced (conflicting)": "diamond",
    "No change or mixed": "circle",
    "Changed, direction not stated": "square",
}
# Evidence mix of a gap-map cell.
MIX_COLOURS = {
    "Clinical only": "#0072B2",
    "Clinical and experimental": "#009E73",
    "Experimental only": "#E69F00",
    "Type not stated": "#6E6E6E",
}
MIX_SHAPES = {
    "Clinical only": "circle",
    "Clinical and experimental": "square",
    "Experimental only": "diamond",
    "Type not stated": "cross",
}
