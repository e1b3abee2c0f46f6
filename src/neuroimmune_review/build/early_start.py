"""Sphinx extension listed first in ``_config.yml``: starts the page workers before the others load.

The workers' fork server imports pandas, Altair, IPython and the page modules (~0.5 s); started
at ``config-inited`` (by ``sphinx_ext``, the last extension) its imports were still going when
the first pages were ready to execute.  From here they overlap the other extensions' imports
too (``page_execution.start_workers_before_extensions``).  Everything else the review adds to
the build is in ``sphinx_ext``.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def setup(app: Sphinx) -> dict:
    from .page_execution import start_workers_before_extensions

    start_workers_before_extensions(app)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
