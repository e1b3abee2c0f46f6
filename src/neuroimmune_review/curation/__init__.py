"""Curation: adding findings and works to the review safely (see :mod:`.safe_write`)."""

from __future__ import annotations

from .safe_write import (  # noqa: F401
    CurationError,
    LOCK_NAME,
    atomic_write,
    detect_newline,
    exclusive_lock,
)
from .evidence import (  # noqa: F401
    EVIDENCE_FILE,
    EvidenceResult,
    ID_PATTERN,
    ID_PREFIX,
    add_evidence,
    format_id,
    read_rows,
)
from .references import (  # noqa: F401
    Duplicate,
    HOUSE_FIELDS,
    REQUIRED_REFERENCE_FIELDS,
    Record,
    ReferenceResult,
    add_references,
    ascii_letters,
    base_key,
    format_entry,
    normalise,
    normalise_doi,
    unique_key,
)
from .importers import (  # noqa: F401
    FORMATS,
    detect_format,
    parse_references,
    read_reference_file,
)
