"""Data, validation and chart builders for the living review
"Antidepressants and neuroimmune cytokine networks".

Chapters import the small modules they need, e.g.::

    from neuroimmune_review import charts
    charts.class_effects("SSRI")

The page builders live in :mod:`neuroimmune_review.pages`; the names chapters use
(``charts``, ``synthesis`` …) resolve here on first use, so importing the package
for its data modules does not load altair.
"""

import importlib

__version__ = "2026.1.0"

# Page-builder modules chapters import as ``from neuroimmune_review import <name>``.
_PAGE_MODULES = (
    "about",
    "charts",
    "citations",
    "figures",
    "findings",
    "screening",
    "summaries",
    "synthesis",
    "tables",
)


def __getattr__(name: str):
    if name in _PAGE_MODULES:
        return importlib.import_module(f"{__name__}.pages.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
