"""Cross-cutting synthesis: the evidence explorer, gap map, contested findings, Th1/Th2 vote
count and the comparison with published meta-analyses.

Each page calls one or two functions here; every number, list, chart and table is computed
from ``data/`` through the tracked queries of :mod:`data`, so a data change re-executes
exactly the pages it affects.  The computations (``*_table``, ``contested_pairs`` …) return
plain DataFrames, which the tests compare with direct pandas computations on the CSV files;
the chart builders only draw them.

Every count is of independent sources (:func:`neuroimmune_review.data.source_id`), with the
row count beside it where it differs; the synthesis of what antidepressants do counts
``intervention_effect`` rows only, and each page says so in a generated sentence.
"""

from __future__ import annotations

from .common import (  # noqa: F401
    CYTOKINE_FAMILIES,
    EFFECT_CLAIMS,
    EXPERIMENTAL_TYPES,
    EXPLORER_ROWS_PER_CELL,
    EXPLORER_TABLE_ROWS,
    MAX_LABELS,
    MAX_LISTED,
    MIX_COLOURS,
    MIX_SHAPES,
    NET_COLOURS,
    NET_SHAPES,
    PANEL_FAMILIES,
    UMBRELLA,
    antidepressant_classes,
    kind_groups,
    row_sources,
    source_labels,
    th_axes,
    th_axis_labels,
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
    agreement,
    agreement_table,
    comparison_labels,
    effect_ci,
    forest_plot,
    forest_table,
    ma_direction_labels,
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
