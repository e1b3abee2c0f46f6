"""The bibliography's house style, as pybtex / sphinxcontrib-bibtex plugins (no edits to the .bib).

- Titles keep the case they have in ``references.bib`` (pybtex's ``unsrt`` lower-cases all but the
  first letter, which turned "IL-6" into "il-6" and "SSRIs" into "ssris").
- An author list that ends in "and others" (BibTeX's marker for a truncated list) reads
  "First Author et al." in the text and "A, B, C et al." in the list, never "and others".
- Every entry with a DOI or PMID links both (pybtex reads a ``pubmed`` field; ours is ``pmid``).

``_config.yml`` selects them: ``bibtex_default_style: review`` and
``bibtex_reference_style: review_author_year``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pybtex.plugin
import sphinxcontrib.bibtex.plugin
from pybtex.richtext import Tag, Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.template import FieldIsMissing, href, join, node, sentence
from pybtex.style.template import field as bib_field
from sphinxcontrib.bibtex.style.referencing import PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from sphinxcontrib.bibtex.style.template import first_of, optional, tag
from sphinxcontrib.bibtex.style.template import join as sphinx_join

BIBLIOGRAPHY_STYLE = "review"
REFERENCE_STYLE = "review_author_year"
ET_AL = Text(" ", Tag("em", "et al."))


def _split_others(persons) -> tuple[list, bool]:
    """The named persons, and whether the list was truncated with "and others"."""
    persons = list(persons)
    if persons and str(persons[-1]).strip().lower() == "others":
        return persons[:-1], True
    return persons, False


# --- The list of references -------------------------------------------------------------------


@node
def _list_names(children, context, role, **kwargs):
    """Every named author, then "et al." when the record lists only the first few."""
    assert not children
    try:
        persons = context["entry"].persons[role]
    except KeyError:
        raise FieldIsMissing(role, context["entry"]) from None
    style = context["style"]
    named, truncated = _split_others(persons)
    formatted = [style.format_name(person, style.abbreviate_names) for person in named]
    if truncated:
        return Text(join(sep=", ")[formatted].format_data(context), ET_AL)
    return join(**kwargs)[formatted].format_data(context)


# Performance: sphinxcontrib-bibtex formats every entry of references.bib on every build, no-op
# included, and twice (the list and the tooltip): 1.5 s of a 4.4 s no-op, mostly pybtex decoding
# LaTeX in names.  A formatted entry depends only on the entry, its label and the style's code,
# so it is kept under exactly those (``entry_key``, ``CODE``) and reused; a file in the build
# directory carries the kept ones to the next build (``begin_build``, ``keep_formatted``).
def _code_digest() -> str:
    """This module's bytes and the versions of the libraries that do the formatting."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    for dist in ("pybtex", "sphinxcontrib-bibtex", "latexcodec"):
        h.update(f"{dist}=={metadata.version(dist)};".encode())
    return h.hexdigest()[:20]


CODE = _code_digest()
_previous: dict = {}  # kept by the last build (begin_build)
_used: dict = {}  # formatted in this build


def _persons_key(people) -> tuple:
    return tuple(
        (
            tuple(p.first_names),
            tuple(p.middle_names),
            tuple(p.prelast_names),
            tuple(p.last_names),
            tuple(p.lineage_names),
        )
        for p in people
    )


def entry_key(style, label: str, entry) -> tuple | None:
    """Everything a formatted entry depends on; None if it cannot be told (crossrefs)."""
    if "crossref" in entry.fields:
        return None  # the text would depend on another entry
    persons = tuple((role, _persons_key(people)) for role, people in entry.persons.items())
    options = (
        type(style).__module__,
        type(style).__qualname__,
        type(style.name_style).__qualname__,
        style.abbreviate_names,
    )
    return (CODE, options, label, entry.key, entry.type, tuple(entry.fields.items()), persons)


MEMO_FILE = "bib-formatted.pickle"  # in provenance.MEMO_DIR, beside the build's other memos
CITED_FILE = "bib-cited-names.pickle"  # the same, for the names of citations in the text


def _memo_path(app, name: str = MEMO_FILE) -> Path:
    from .. import paths, provenance

    return paths.build_dir(Path(app.srcdir)) / provenance.MEMO_DIR / name


def begin_build(app, env, docnames) -> None:
    """``env-before-read-docs``: the entries and cited names the last build formatted may be
    reused."""
    global _previous, _used, _cited_from_file
    kept = _load(_memo_path(app))
    _previous = kept
    _used = {}
    cited = _load(_memo_path(app, CITED_FILE))
    _cited_names.update((key, text) for key, text in cited.items() if key[:1] == (CODE,))
    _cited_from_file = len(_cited_names)


def _load(path: Path) -> dict:
    try:
        kept = pickle.loads(path.read_bytes())
    except Exception:  # noqa: BLE001 - only a cache (missing, truncated, from other code)
        return {}
    return kept if isinstance(kept, dict) else {}


def _dump(path: Path, kept: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(path)
    except OSError:
        pass  # only a cache


def keep_formatted(app, env) -> None:
    """``env-updated``, after sphinxcontrib-bibtex formatted every entry: keep this build's
    (so an entry edited or deleted since is dropped) for the next build.

    A file of its own, not Sphinx's environment: a no-op build does not save the environment,
    and would then format again, every build, whatever it could not reuse.
    """
    if _used.keys() != _previous.keys():
        _dump(_memo_path(app), _used)


def keep_cited_names(app, exception) -> None:
    """``build-finished``: the author names the pages' citations formatted, for the next build
    (written only when this build formatted new ones)."""
    if exception is None and len(_cited_names) != _cited_from_file:
        current = {key: text for key, text in _cited_names.items() if key[:1] == (CODE,)}
        _dump(_memo_path(app, CITED_FILE), current)


class ReviewStyle(PlainStyle):
    def format_entry(self, label, entry, bib_data=None):
        key = entry_key(self, label, entry) if bib_data is None else None
        if key is None:
            return super().format_entry(label, entry, bib_data)
        found = _used.get(key) or _previous.get(key)
        if found is None:
            found = super().format_entry(label, entry)
        _used[key] = found
        return found

    def format_names(self, role, as_sentence=True):
        formatted = _list_names(role, sep=", ", sep2=" and ", last_sep=", and ")
        return sentence[formatted] if as_sentence else formatted

    def format_title(self, e, which_field, as_sentence=True):
        title = bib_field(which_field)  # as written in references.bib: acronyms keep their case
        return sentence[title] if as_sentence else title

    def format_pubmed(self, e):
        pmid = bib_field("pmid", raw=True)
        url = join["https://pubmed.ncbi.nlm.nih.gov/", pmid, "/"]
        return href(url)[join["PMID: ", pmid]]

    def format_doi(self, e):
        doi = bib_field("doi", raw=True)
        url = join["https://doi.org/", doi]
        return href(url)[join["doi: ", doi]]


# --- Citations in the text --------------------------------------------------------------------

# Performance: every citation in the text formats its work's author names again (pybtex decodes
# each name's LaTeX and merges the rich-text parts): 0.26 s of the 0.66 s spent writing a 1x
# one-row rebuild's 10 pages, where tables cite the same works over and over.  The names depend
# only on the persons of that role, the separators and the name style, so the formatted text
# is kept under exactly those and the code (``CODE``: this module, pybtex's and
# sphinxcontrib-bibtex's versions), for the build and, in a file, for the next builds
# (``begin_build``, ``keep_cited_names``): formatting them once per build was still ~15 ms of
# writing a one-row rebuild's 10 pages.  pybtex's rich text is never changed in place (its
# operations return new objects).  The file keeps every author list of this code, a few hundred.
_cited_names: dict = {}
_cited_from_file = 0  # how many of them came from the file (more: it is written again)


def _names_key(persons, style, kwargs) -> tuple:
    plugin = style.person.style_plugin
    return (
        CODE,
        _persons_key(persons),
        type(plugin).__module__,
        type(plugin).__qualname__,
        style.person.abbreviate,
        tuple(sorted((k, repr(v)) for k, v in kwargs.items())),
    )


@node
def _cite_names(children, data, role, **kwargs):
    """Like sphinxcontrib-bibtex's ``names``, but a list ending in "others" is "First et al."."""
    assert not children
    try:
        persons = data["entry"].persons[role]
    except KeyError:
        raise FieldIsMissing(role, data["entry"]) from None
    style = data["style"]
    key = _names_key(persons, style, kwargs)
    found = _cited_names.get(key)
    if found is None:
        found = _cited_names[key] = _format_cite_names(persons, style, kwargs, data)
    return found


def _format_cite_names(persons, style, kwargs, data):
    named, truncated = _split_others(persons)
    formatted = [
        style.person.style_plugin.format(person, style.person.abbreviate) for person in named
    ]
    if truncated and formatted:
        return Text(formatted[0].format_data(data), ET_AL)
    return sphinx_join(**kwargs)[formatted].format_data(data)


@node
def _author_or_editor_or_title(children, data, **kwargs):
    assert not children
    return first_of[
        optional[_cite_names("author", **kwargs)],
        optional[_cite_names("editor", **kwargs)],
        tag("em")[bib_field("title")],
    ].format_data(data)


@dataclass
class ReviewPersonStyle(PersonStyle):
    other: object = field(default_factory=lambda: ET_AL)
    sep2: object = " & "  # two authors as in the evidence tables' labels (bib.short_label)

    def names(self, role: str, full: bool):
        return _cite_names(
            role=role,
            sep=self.sep,
            sep2=self.sep2,
            last_sep=self.last_sep,
            other=None if full else self.other,
        )

    def author_or_editor_or_title(self, full: bool):
        return _author_or_editor_or_title(
            sep=self.sep,
            sep2=self.sep2,
            last_sep=self.last_sep,
            other=None if full else self.other,
        )


@dataclass
class ReviewAuthorYearStyle(AuthorYearReferenceStyle):
    person: PersonStyle = field(default_factory=ReviewPersonStyle)


# Performance: pybtex finds a plugin by scanning every installed distribution's entry points
# (importlib.metadata), on every lookup, and sphinxcontrib-bibtex looks up the plain-text
# backend for every citation it resolves (430 lookups when all pages are written, some 10 ms
# each).  Registered at run time, the same classes are found without the scan
# (tests/build/test_fixed_cost_memos.py checks they are the entry points' own).
INSTALLED_PLUGINS = {
    ("pybtex.backends", "plaintext"): "pybtex.backends.plaintext:Backend",
    ("pybtex.backends", "docutils"): "pybtex_docutils:Backend",
    ("pybtex.style.names", "plain"): "pybtex.style.names.plain:NameStyle",
    ("pybtex.style.labels", "number"): "pybtex.style.labels.number:LabelStyle",
    ("pybtex.style.sorting", "author_year_title"): (
        "pybtex.style.sorting.author_year_title:SortingStyle"
    ),
}


@functools.cache
def _installed_entry_points() -> metadata.EntryPoints:
    return metadata.entry_points()


def _entry_points(**selection) -> metadata.EntryPoints:
    """``importlib.metadata.entry_points(**selection)``, the distributions scanned once per process."""
    return _installed_entry_points().select(**selection)


def register() -> None:
    import importlib

    # Performance: the scan also ran once per registration (pybtex's register_plugin looks the
    # name up even with force=True), per plugin pybtex loads and per sphinxcontrib-bibtex
    # plugin: 12 scans of ~300 distributions in every build, 0.1-0.2 s.  Both libraries call
    # the function by the name they imported; the installed distributions do not change
    # while a build runs.  (A patch of two module attributes: neither library has a setting.)
    pybtex.plugin.entry_points = _entry_points
    sphinxcontrib.bibtex.plugin.entry_points = _entry_points
    for (group, name), target in INSTALLED_PLUGINS.items():
        module, _, attribute = target.partition(":")
        klass = getattr(importlib.import_module(module), attribute)
        pybtex.plugin.register_plugin(group, name, klass, force=True)
    pybtex.plugin.register_plugin("pybtex.style.formatting", BIBLIOGRAPHY_STYLE, ReviewStyle)
    sphinxcontrib.bibtex.plugin.register_plugin(
        "sphinxcontrib.bibtex.style.referencing", REFERENCE_STYLE, ReviewAuthorYearStyle
    )
