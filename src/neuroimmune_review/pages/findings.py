"""Summary-of-findings tables: one opening each class chapter, a compact one on the home page.

The verdicts are computed by :mod:`neuroimmune_review.sof` from the tracked queries of
:mod:`neuroimmune_review.data`; this module only writes them as HTML (a MyST code-cell
Markdown output is CommonMark, which has no tables, so tables are HTML).
"""

from __future__ import annotations

import html

from .. import data, sof
from ..text import plural as _plural
from . import current

SYNTHESIS_LINKS = (
    ("book/synthesis/th-balance", "Th1/Th2 balance"),
    ("book/synthesis/contested", "contested findings"),
    ("book/synthesis/meta-analyses", "comparison with meta-analyses"),
)
PLAIN = {
    "decrease": "mostly lowered pro-inflammatory mediators or raised anti-inflammatory ones, "
    "an anti-inflammatory reading",
    "increase": "mostly raised pro-inflammatory mediators or lowered anti-inflammatory ones, "
    "a pro-inflammatory reading",
    "no_change": "mostly left pro- and anti-inflammatory mediators unchanged",
    "conflicting": "moved pro- and anti-inflammatory mediators in opposite directions about equally "
    "often, so there is no net reading",
    "none": "have no finding with a stated direction on a pro- or anti-inflammatory mediator",
}


def _href(docname: str) -> str:
    return current.href_to(docname + ".html")


def _e(text) -> str:
    return html.escape(str(text))


def class_name(drug_class: str) -> str:
    return f"{drug_class}s"


def _types(types: list[str]) -> str:
    return ", ".join(data.evidence_type_labels().get(t, t).lower() for t in types) or "none"


def _certainty(v: sof.Verdict) -> str:
    """Plain text: 'low (experimental evidence only)'."""
    if v.certainty == "not rated" or not v.reasons:
        return v.certainty
    return f"{v.certainty} ({'; '.join(v.reasons)})"


def _certainty_cell(v: sof.Verdict) -> str:
    """HTML: the label, and why it was lowered in smaller type beneath."""
    if v.certainty == "not rated" or not v.reasons:
        return f"<strong>{_e(v.certainty)}</strong>"
    return (
        f"<strong>{_e(v.certainty)}</strong><br>"
        f'<span class="review-sof__why">{_e("; ".join(v.reasons))}</span>'
    )


def _votes(v: sof.Verdict) -> str:
    if v.net == "none":
        return "no direction reported"
    word = sof.DIRECTION_WORDS[v.net]
    if v.net == "conflicting":
        return f"{word} ({_plural(v.voting, 'source vote')})"
    return f"{word} ({v.supporting} of {_plural(v.voting, 'source vote')})"


def bottom_line(cv: sof.ClassVerdict) -> str:
    """The plain-language bottom line of a class, as plain text."""
    v = cv.reading
    who = class_name(cv.drug_class)
    if not cv.rows:
        return f"The data set holds no intervention effect of {who} yet."
    text = f"In the review's data, {who} {PLAIN[v.net]}"
    if v.net in ("decrease", "increase", "no_change"):
        text += f": {v.supporting} of {_plural(v.voting, 'source vote')} {sof.agree(v.supporting)}"
    text += f" ({_plural(cv.sources, 'independent source')}, {_plural(cv.rows, 'finding')})."
    if v.certainty != "not rated":
        text += f" Certainty: {_certainty(v)}."
    return text


def _table(caption: str, head: list[str], rows: list[list[str]], label: str) -> str:
    """An HTML table whose cells are already-escaped HTML."""
    th = "".join(f'<th scope="col">{_e(h)}</th>' for h in head)
    body = "".join(
        "<tr>"
        + "".join(
            (f'<th scope="row">{cell}</th>' if i == 0 else f"<td>{cell}</td>")
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="review-table review-sof__table" role="region" tabindex="0" aria-label="{_e(label)}">'
        f'<table class="table"><caption>{_e(caption)}</caption><thead><tr>{th}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _rule() -> str:
    return (
        '<details class="review-sof__rule"><summary>How the certainty label is set</summary>'
        f"<p>{_e(sof.CERTAINTY_RULE)}</p>"
        "<p>Counts are of independent sources, not of rows: a pooled result reported for several drugs, "
        "or the same result cited twice, is one source. Only intervention effects are counted; "
        "differences between patients and controls, associations and proposed mechanisms are not.</p>"
        "</details>"
    )


def _links() -> str:
    items = ", ".join(f'<a href="{_e(_href(doc))}">{_e(text)}</a>' for doc, text in SYNTHESIS_LINKS)
    return f'<p class="review-sof__links">Across classes: {items}.</p>'


class _HTML:
    """A cell output that is HTML (and plain text for other front ends)."""

    def __init__(self, markup: str, text: str):
        self.markup, self.text = markup, text

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self.markup, "text/plain": self.text}


def _class_chapters(rows) -> dict[str, str]:
    """Each class's chapter: of its findings' chapters under book/antidepressants/, the most
    frequent (the first in sorted order on a tie, as ``Series.mode().iloc[0]`` picks).

    Performance: one count per (class, chapter) over all rows, instead of comparing every
    row with each class and testing each row's chapter (2 s of the home page at 1000x).
    """
    chapters = rows["chapter"].unique()
    wanted = [c for c in chapters if c.startswith("book/antidepressants/")]
    counts = (
        rows.loc[rows["chapter"].isin(wanted).to_numpy(), ["drug_class", "chapter"]]
        .groupby(["drug_class", "chapter"])
        .size()
    )
    found: dict[str, str] = {}
    # Sorted by (class, chapter): the first chapter with a class's largest count wins.
    best: dict[str, int] = {}
    for (drug_class, chapter), n in counts.items():
        if n > best.get(drug_class, 0):
            best[drug_class], found[drug_class] = int(n), chapter
    return found


def _verdicts() -> dict[str, sof.ClassVerdict]:
    rows = data.evidence()
    return sof.class_verdicts(rows, data.DRUG_CLASSES)


def summary(drug_class: str) -> _HTML:
    """For the top of a class chapter: bottom line, per-family table, rule and links."""
    # Only the class's rows: a finding for another class must not re-execute this page.
    cv = sof.class_verdict(data.evidence(drug_class=drug_class), drug_class)
    line = bottom_line(cv)
    rows = [
        [
            _e(f"{sof.role_adjectives()[g.role].capitalize()} {sof.plural_family(g.family)}")
            + f'<br><span class="review-sof__mediators">{_e(", ".join(g.mediators))}</span>',
            _e(_votes(g.verdict)),
            _e(g.reading),
            _e(f"{g.verdict.sources} ({_plural(g.verdict.rows, 'finding')})"),
            _e(_types(g.verdict.evidence_types)),
            _certainty_cell(g.verdict),
        ]
        for g in cv.groups
    ]
    head = [
        "Mediators (role, family)",
        "Net direction",
        "Inflammatory reading",
        "Independent sources",
        "Evidence types",
        "Certainty (simple rule, below)",
    ]
    caption = f"Summary of findings: {class_name(drug_class)} (intervention effects only)"
    unvoted = (
        f'<p class="review-sof__note">{_plural(cv.unvoted_rows, "finding")} with a mixed or unstated '
        "direction are counted as sources but cast no vote.</p>"
        if cv.unvoted_rows
        else ""
    )
    markup = (
        f'<section class="review-sof" aria-label="{_e(caption)}">'
        f'<p class="review-sof__bottom"><strong>Bottom line.</strong> {_e(line)}</p>'
        + (_table(caption, head, rows, caption) if rows else "")
        + unvoted
        + _rule()
        + _links()
        + "</section>"
    )
    return _HTML(markup, line)


def coverage_caveat() -> str:
    """What the verdicts rest on: only the works the source review cites, and how many are resolved."""
    from ..bib import reference_report

    data.references()  # the bibliography is an input of the page
    # The evidence stays an input of the page as it always was, but the counts below are of
    # reference numbers only: the report's evidence part (a pass over every row) is not asked.
    data.evidence()
    report = reference_report(data.bibliography())
    return (
        "These verdicts rest only on the studies the source review cites, not on a systematic search, "
        f"and {report['resolved_count']} of its {report['reference_count']} reference numbers "
        f"({report['resolved_percent']}%) are so far traced to a confirmed work; findings behind an "
        "untraced number count as one source per number. A class with few sources can change verdict "
        "when one study is added."
    )


def at_a_glance() -> _HTML:
    """For the home page: every class's verdict in one compact table, with the coverage caveat."""
    verdicts = _verdicts()
    rows_all = data.evidence()
    rows = []
    chapters = _class_chapters(rows_all)
    for name, cv in verdicts.items():
        v = cv.reading
        chapter = chapters.get(name, "")
        link = (
            f'<a href="{_e(_href(chapter))}">{_e(class_name(name))}</a>'
            if chapter
            else _e(class_name(name))
        )
        rows.append(
            [
                link,
                _e(sof.READING_NAMES[v.net] if v.net != "none" else "no directed finding"),
                _e(f"{v.supporting} of {v.voting}" if v.voting else "0"),
                _e(f"{cv.sources} ({cv.rows})"),
                _e(_types(cv.evidence_types)),
                _certainty_cell(v),
            ]
        )
    head = [
        "Class",
        "Net inflammatory reading",
        "Source votes agreeing",
        "Independent sources (findings)",
        "Evidence types",
        "Certainty (simple rule)",
    ]
    caption = "Summary of findings by antidepressant class (intervention effects only)"
    caveat = coverage_caveat()
    markup = (
        f'<section class="review-sof" aria-label="{_e(caption)}">'
        + _table(caption, head, rows, caption)
        + f'<p class="review-sof__note">{_e(caveat)}</p>'
        + _rule()
        + _links()
        + "</section>"
    )
    text = "; ".join(
        f"{class_name(n)}: {sof.READING_NAMES[cv.reading.net]}" for n, cv in verdicts.items()
    )
    return _HTML(markup, text)
