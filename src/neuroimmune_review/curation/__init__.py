"""Curation: adding findings and works to the review safely (see :mod:`.safe_write`)."""

from __future__ import annotations

from .evidence import (  # noqa: F401
    EVIDENCE_FILE,
    ID_PATTERN,
    ID_PREFIX,
    EvidenceResult,
    add_evidence,
    format_id,
    read_rows,
)
from .importers import (  # noqa: F401
    FORMATS,
    detect_format,
    parse_references,
    read_reference_file,
)
from .references import (  # noqa: F401
    HOUSE_FIELDS,
    REQUIRED_REFERENCE_FIELDS,
    Duplicate,
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
from .safe_write import (  # noqa: F401
    LOCK_NAME,
    CurationError,
    atomic_write,
    detect_newline,
    exclusive_lock,
)
