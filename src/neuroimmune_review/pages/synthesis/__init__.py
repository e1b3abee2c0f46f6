"""Cross-cutting synthesis: the evidence explorer, gap map, contested findings, Th1/Th2 vote
count and the comparison with published meta-analyses.

Each page calls one or two functions here; every number, list, chart and table is computed
from ``data/`` through the tracked queries of :mod:`data`, so a data change re-executes
exactly the pages it affects.  The computations (``*_table``, ``contested_pairs`` …) return
plain DataFrames, which the tests compare with direct pandas computations on the CSV files;
the chart builders only draw them.

A *source* is a cited work.  Findings that cite only the source article (Nava et al. 2025)
because the primary study is not yet resolved count as one source per reference number
of the article, so two unresolved studies are not merged into one.
"""

from __future__ import annotations

from .common import (  # noqa: F401
    ANTIDEPRESSANT_CLASSES,
    CYTOKINE_FAMILIES,
    EXPERIMENTAL_TYPES,
    EXPLORER_ROWS_PER_CELL,
    EXPLORER_TABLE_ROWS,
    KIND_GROUPS,
    MAX_LABELS,
    MAX_LISTED,
    MIX_COLOURS,
    MIX_SHAPES,
    NET_COLOURS,
    NET_SHAPES,
    PANEL_FAMILIES,
    TH_AXES,
    TH_AXIS_LABELS,
    UMBRELLA,
    row_sources,
    source_labels,
)
from .contested import (  # noqa: F401
    DIRECTION_ORDER,
    contested_chart,
    contested_pairs,
    contested_summary,
    contested_table,
)
from .explorer import (  # noqa: F401
    explorer,
    explorer_strata,
    explorer_summary,
)
from .gap_map import (  # noqa: F401
    ARM_TITLES,
    gap_findings,
    gap_map,
    gap_map_table,
    gap_summary,
)
from .meta_analyses import (  # noqa: F401
    COMPARISON_LABELS,
    MA_DIRECTION_LABELS,
    agreement,
    agreement_table,
    effect_ci,
    forest_plot,
    forest_table,
    meta_analyses,
    meta_summary,
    meta_table,
    scope_label,
)
from .th_balance import (  # noqa: F401
    ARMS,
    SHIFT_LESS,
    SHIFT_MORE,
    SHIFT_NONE,
    th_balance_chart,
    th_balance_counts,
    th_balance_counts_table,
    th_balance_summary,
    th_balance_table,
    th_votes,
)
