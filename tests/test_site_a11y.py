"""Accessibility of the built site (issue #5).

* axe-core (axe-playwright-python, which ships axe.min.js: nothing is fetched) finds no serious or
  critical violation on any page, with every chart drawn first;
* every chart and diagram has an accessible name and a description;
* every colour palette the charts and diagrams use stays distinguishable under simulated
  protanopia, deuteranopia and tritanopia (Machado, Oliveira & Fernandes 2009, severity 1),
  measured as CIEDE2000 colour difference.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
from pathlib import Path

import pytest
from conftest import REPO, SITE_ENV, WAIT_FOR_CHARTS, PageWatcher, toc_documents

PAGES = [*toc_documents(REPO), "genindex", "search"]
BLOCKING = {"serious", "critical"}
# CIEDE2000 >= 10 between every two colours of a palette, for every simulated vision type.
# (About 2.3 is "just noticeable"; 10 keeps categories apart at a glance on a small mark.)
MIN_DELTA_E = 10.0


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def _summary(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = [", ".join(map(str, node.get("target", []))) for node in v["nodes"][:5]]
        lines.append(
            f"- [{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])} node(s)): {targets}"
        )
        if v["nodes"]:
            lines.append(f"    {v['nodes'][0].get('failureSummary', '').strip()[:400]}")
    return "\n".join(lines)


# --- Charts have a name and a description -------------------------------------------------

# A Vega chart's container carries role="graphics-document" and the spec's title and description
# as its aria-label (vega-embed); a diagram's inline SVG carries role="img", aria-label and <desc>.
CHART_NAMES = """() => [...document.querySelectorAll("figure.review-chart")].map((figure) => {
  const text = (ids) => (ids || "").split(/\\s+/).map((i) => document.getElementById(i))
      .filter(Boolean).map((el) => el.textContent.trim()).join(" ").trim();
  const vega = figure.querySelector(".review-chart__canvas");
  const svg = figure.querySelector(".review-diagram__canvas svg");
  const drawn = vega ? (vega.querySelector("svg, canvas") ? vega : null) : svg;
  return {
    id: figure.id || (vega || {}).id || "",
    figureName: text(figure.getAttribute("aria-labelledby")) || figure.getAttribute("aria-label") || "",
    caption: (figure.querySelector("figcaption") || {textContent: ""}).textContent.trim(),
    role: drawn ? drawn.getAttribute("role") : null,
    name: drawn ? (drawn.getAttribute("aria-label") || text(drawn.getAttribute("aria-labelledby"))) : null,
    description: drawn ? (text(drawn.getAttribute("aria-describedby"))
        || (drawn.querySelector(":scope > desc") || {textContent: ""}).textContent.trim()
        || drawn.getAttribute("aria-label") || "") : null,
  };
})"""


def chart_name_problems(charts: list[dict], where: str) -> list[str]:
    problems = []
    for chart in charts:
        at = f"{where} {chart['id']}"
        if len(chart["figureName"]) < 10 or len(chart["caption"]) < 20:
            problems.append(f"{at}: figure without a name/caption ({chart['figureName']!r})")
        if chart["name"] is None:
            problems.append(f"{at}: nothing drawn")
            continue
        if chart["role"] not in ("img", "graphics-document", "figure"):
            problems.append(f"{at}: the drawing has role {chart['role']!r}, not an image role")
        if len(chart["name"] or "") < 10:
            problems.append(f"{at}: the drawing has no accessible name")
        if len(chart["description"] or "") < 40:
            problems.append(f"{at}: the drawing has no description")
    return problems


def offered_modes() -> list[str]:
    """The colour modes the built site lets a reader choose: light, plus dark if the theme's
    switcher is rendered (templates/theme-switcher.html removes it). Read from the build, so
    re-enabling dark mode makes every page below be checked in dark mode too."""
    home = Path(os.environ.get(SITE_ENV) or REPO / "_build" / "html") / "book" / "index.html"
    text = home.read_text(encoding="utf-8") if home.is_file() else ""
    return ["light", "dark"] if "theme-switch-button" in text else ["light"]


@pytest.mark.parametrize("mode", offered_modes())
@pytest.mark.parametrize("docname", PAGES)
def test_page_is_accessible(browser, site_server, axe, docname, mode):
    """axe-core, in every colour mode offered: no serious or critical violation; every chart and
    diagram named and described."""
    context = browser.new_context(color_scheme=mode)
    page = context.new_page()
    PageWatcher(page, site_server)  # keeps the page offline like the browser tests
    if mode != "light":  # what the theme's switcher stores
        page.add_init_script(
            f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}')"
        )
    try:
        page.goto(f"{site_server}{docname}.html", wait_until="load")
        assert page.evaluate("document.documentElement.dataset.theme") == mode
        assert page.evaluate(WAIT_FOR_CHARTS), f"{docname}: charts not drawn"
        charts = page.evaluate(CHART_NAMES)
        results = axe.run(page, options={"resultTypes": ["violations"]})
    finally:
        context.close()
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING]
    assert not blocking, (
        f"{docname}: axe-core found serious/critical violations:\n{_summary(blocking)}"
    )
    problems = chart_name_problems(charts, docname)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "docname", ["book/index", "book/antidepressants/ssri", "book/synthesis/meta-analyses"]
)
def test_a_reader_who_prefers_dark_gets_the_tested_light_mode(
    browser, site_server, built_site, docname
):
    """Dark mode is not offered: no switcher on any page, and a system preference for dark still
    renders the light mode that the axe and contrast checks above cover."""
    assert offered_modes() == ["light"]
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    PageWatcher(page, site_server)
    try:
        page.goto(f"{site_server}{docname}.html", wait_until="load")
        theme = page.evaluate("document.documentElement.dataset.theme")
        switchers = page.locator(".theme-switch-button").count()
    finally:
        context.close()
    assert (theme, switchers) == ("light", 0), f"{docname}: theme {theme}, {switchers} switcher(s)"


def test_chart_pages_are_checked(built_site, site_pages):
    """Every page holding a chart or diagram is among the pages checked above."""
    with_charts = [
        p
        for p in site_pages
        if 'class="review-chart' in (built_site / p).read_text(encoding="utf-8")
    ]
    assert with_charts, "no page with a chart"
    assert not set(with_charts) - {f"{d}.html" for d in PAGES}


def test_chart_specs_carry_title_and_description(built_site, site_pages):
    """The text alternative (title plus description, as ``render.Figure`` writes it) is in the spec
    itself, where Vega turns it into the chart's aria-label."""
    problems = []
    for path in site_pages:
        text = (built_site / path).read_text(encoding="utf-8")
        for block in re.findall(
            r'class="review-chart__spec"[^>]*>(.*?)</script>', text, flags=re.S
        ):
            spec = json.loads(block)
            if len(str(spec.get("description", ""))) < 40:
                problems.append(
                    f"{path}: chart {str(spec.get('title'))[:60]!r} lacks a description"
                )
    assert not problems, "\n".join(problems)


# --- Colour-vision deficiencies -----------------------------------------------------------

# Machado, Oliveira & Fernandes (2009), severity 1.0, applied to linear RGB.
MACHADO = {
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
    "tritanopia": (
        (1.255528, -0.076749, -0.178779),
        (-0.078411, 0.930809, 0.147602),
        (0.004733, 0.691367, 0.303900),
    ),
}
HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def simulate(colour: str, vision: str) -> tuple[float, float, float]:
    """Linear RGB of *colour* as seen with *vision* ("normal" or a MACHADO key)."""
    rgb = [_linear(int(colour[i : i + 2], 16) / 255) for i in (1, 3, 5)]
    if vision == "normal":
        return tuple(rgb)
    matrix = MACHADO[vision]
    return tuple(min(1.0, max(0.0, sum(matrix[i][j] * rgb[j] for j in range(3)))) for i in range(3))


def lab(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    r, g, b = rgb
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t):
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def delta_e2000(lab1, lab2) -> float:
    """CIEDE2000 (Sharma, Wu & Dalal 2005)."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar**7 / (c_bar**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p, h2p = math.degrees(math.atan2(b1, a1p)) % 360, math.degrees(math.atan2(b2, a2p)) % 360
    dl, dc = l2 - l1, c2p - c1p
    dh = 0.0 if c1p * c2p == 0 else (h2p - h1p + 180) % 360 - 180
    dH = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    l_bar, c_barp = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_bar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_bar = (h1p + h2p) / 2
    else:
        h_bar = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(h_bar - 30))
        + 0.24 * math.cos(math.radians(2 * h_bar))
        + 0.32 * math.cos(math.radians(3 * h_bar + 6))
        - 0.20 * math.cos(math.radians(4 * h_bar - 63))
    )
    d_theta = 30 * math.exp(-(((h_bar - 275) / 25) ** 2))
    r_c = 2 * math.sqrt(c_barp**7 / (c_barp**7 + 25**7))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / math.sqrt(20 + (l_bar - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_barp, 1 + 0.015 * c_barp * t
    r_t = -math.sin(math.radians(2 * d_theta)) * r_c
    return math.sqrt(
        (dl / s_l) ** 2 + (dc / s_c) ** 2 + (dH / s_h) ** 2 + r_t * (dc / s_c) * (dH / s_h)
    )


def closest_pair(colours, vision):
    pairs = itertools.combinations(sorted(set(c.upper() for c in colours)), 2)
    return min(
        ((delta_e2000(lab(simulate(a, vision)), lab(simulate(b, vision))), a, b) for a, b in pairs),
        default=(math.inf, "", ""),
    )


def test_colour_difference_measure():
    """Sanity checks of the simulation and of CIEDE2000 (Sharma et al. 2005, test pair 1)."""
    assert delta_e2000((50, 2.6772, -79.7751), (50, 0, -82.7485)) == pytest.approx(2.0425, abs=1e-4)
    assert closest_pair(["#FF0000", "#00FF00"], "normal")[0] > 50
    # Red and green, far apart for most readers, collapse for a deuteranope.
    assert closest_pair(["#D62728", "#2CA02C"], "deuteranopia")[0] < MIN_DELTA_E


def module_palettes() -> dict[str, list[str]]:
    """Categorical palettes defined by the chart and figure builders (``*_COLOURS`` and styles)."""
    import importlib

    from neuroimmune_review import figures

    found = {
        "figures.NODE_GROUPS (fills)": [s.fill for s in figures.NODE_GROUPS.values()],
        "figures.RELATIONS (lines)": [s.color for s in figures.RELATIONS.values()],
    }
    for name in ("palette", "charts", "figures", "synthesis"):
        module = importlib.import_module(f"neuroimmune_review.pages.{name}")
        for attribute in dir(module):
            value = getattr(module, attribute)
            if attribute.endswith(("_COLOURS", "_COLORS")) and isinstance(value, dict):
                found[f"{name}.{attribute}"] = [
                    v for v in value.values() if isinstance(v, str) and HEX.match(v)
                ]
    return found


def spec_palettes(built_site, pages) -> dict[str, list[str]]:
    """Every categorical colour range of a chart as built (``"range": ["#…", …]`` in a colour
    scale). Pages embed Vega, whose scales are named objects (``{"name": "color", "range": …}``);
    Vega-Lite's ``encoding.color.scale.range`` is read too."""
    found: dict[str, list[str]] = {}

    def walk(node, path, where):
        if isinstance(node, dict):
            if node.get("name") in ("color", "fill", "stroke") and isinstance(
                node.get("range"), list
            ):
                colours = node["range"]
                if len(colours) > 1 and all(isinstance(c, str) and HEX.match(c) for c in colours):
                    found[f"{where} {path}/scale {node['name']}"] = colours
            for key, value in node.items():
                if key in ("color", "fill", "stroke") and isinstance(value, dict):
                    scale = value.get("scale")
                    colours = scale.get("range") if isinstance(scale, dict) else None
                    if (
                        isinstance(colours, list)
                        and len(colours) > 1
                        and all(isinstance(c, str) and HEX.match(c) for c in colours)
                    ):
                        found[f"{where} {path}/{key}"] = colours
                walk(value, f"{path}/{key}", where)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]", where)

    for page in pages:
        text = (built_site / page).read_text(encoding="utf-8")
        for i, block in enumerate(
            re.findall(r'class="review-chart__spec"[^>]*>(.*?)</script>', text, flags=re.S)
        ):
            spec = json.loads(block)
            walk({k: v for k, v in spec.items() if k != "datasets"}, "", f"{page} chart {i + 1}")
    return found


@pytest.mark.parametrize("vision", ["normal", *MACHADO])
def test_palettes_distinguishable_with_colour_vision_deficiency(built_site, site_pages, vision):
    palettes = {**module_palettes(), **spec_palettes(built_site, site_pages)}
    assert any("DIRECTION" in name for name in palettes), palettes.keys()
    too_close = []
    for name, colours in palettes.items():
        distance, a, b = closest_pair(colours, vision)
        if distance < MIN_DELTA_E:
            too_close.append(
                f"{name}: {a} and {b} differ by only {distance:.1f} (CIEDE2000) under {vision}"
            )
    assert not too_close, "\n".join(too_close)
