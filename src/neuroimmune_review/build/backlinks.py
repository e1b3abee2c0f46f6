"""Links back from each entry of the References page to the pages that cite it (a Sphinx
``doctree-resolved`` handler, connected in ``build.sphinx_ext``)."""

from __future__ import annotations

from sphinx.application import Sphinx

REFERENCES_PAGE = "book/about/references"  # pages.citations.REFERENCES_PAGE


def add_backlinks(app: Sphinx, doctree, docname: str) -> None:
    """Under each entry of the References page, links back to the pages that cite it.

    A page links to its first citation of the work (the cite role's anchor); a chapter whose
    evidence table lists the work but whose text does not cite it links to the page itself.
    """
    if docname != REFERENCES_PAGE:
        return
    from docutils import nodes

    from .. import data

    cited: dict[str, dict[str, str]] = {}  # key -> {docname: anchor}
    for ref in app.env.get_domain("cite").citation_refs:
        for target in ref.targets:
            cited.setdefault(target.key, {}).setdefault(ref.docname, ref.citation_ref_id)
    evidence = data.evidence()
    for chapter, cell in zip(evidence["chapter"], evidence["citation"], strict=True):
        for key in data.split_list(cell):
            if chapter in app.env.all_docs:
                cited.setdefault(key, {}).setdefault(chapter, "")
    for citation in doctree.findall(nodes.citation):
        key = next((i[4:] for i in citation["ids"] if i.startswith("ref-")), None)
        pages = cited.get(key or "", {})
        pages = {d: a for d, a in pages.items() if d != docname}
        if not pages:
            continue
        para = nodes.paragraph(classes=["review-backrefs"])
        para += nodes.Text("Cited in: ")
        for i, name in enumerate(sorted(pages)):  # by path: the book's parts, then chapters
            if i:
                para += nodes.Text("; ")
            uri = app.builder.get_relative_uri(docname, name)
            if pages[name]:
                uri += "#" + pages[name]
            title = app.env.titles[name].astext() if name in app.env.titles else name
            para += nodes.reference("", title, internal=True, refuri=uri)
        citation += para
