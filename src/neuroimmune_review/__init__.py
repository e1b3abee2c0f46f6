"""Data, validation and chart builders for the living review
"Antidepressants and neuroimmune cytokine networks".

Chapters import the small modules they need, e.g.::

    from neuroimmune_review import charts
    charts.class_effects("SSRI")
"""

__version__ = "2026.1.0"
