"""Every colour and mark shape the charts use: the one home of the review's palettes.

Okabe-Ito colours, distinguishable under the common colour-vision deficiencies (checked by
tests/test_site_a11y.py), and a shape beside each colour so no chart relies on colour alone.
The palettes are keyed by the enum values of data/datapackage.json; a test fails when an
enum gains a value without a colour and a shape here.
"""

from __future__ import annotations

# The Okabe-Ito colours by name (Okabe & Ito 2008), and the neutrals beside them.
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
BLACK = "#000000"
# Not Okabe-Ito: "no change" / "not stated" (4.5:1 on white).
GREY = "#6E6E6E"

# Direction of a result (evidence.direction).
DIRECTION_COLOURS = {
    "increase": VERMILLION,
    "decrease": BLUE,
    "no_change": GREY,
    "mixed": REDDISH_PURPLE,
    "changed_unspecified": BLUISH_GREEN,
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
    "clinical": BLUE,
    "preclinical_in_vivo": ORANGE,
    "ex_vivo": BLUISH_GREEN,
    "in_vitro": REDDISH_PURPLE,
    "unspecified": GREY,
}
# Net direction of an explorer cell.
NET_COLOURS = {
    "Net increase": VERMILLION,
    "Net decrease": BLUE,
    "Balanced (conflicting)": REDDISH_PURPLE,
    "No change or mixed": GREY,
    "Changed, direction not stated": BLUISH_GREEN,
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
    "Clinical only": BLUE,
    "Clinical and experimental": BLUISH_GREEN,
    "Experimental only": ORANGE,
    "Type not stated": GREY,
}
MIX_SHAPES = {
    "Clinical only": "circle",
    "Clinical and experimental": "square",
    "Experimental only": "diamond",
    "Type not stated": "cross",
}
