"""Writing a file in one step (temporary file in the same folder, then ``os.replace``), and
telling whether a file was written since it was last seen (``write_signature``), and
removing the site's superseded copies of content-named files (``prune_published``).

The one implementation the curation commands, the provenance records and the build's
chart bundle share.  It lives in the core rather than in ``curation.safe_write`` (which
re-exports it) so that the build and the pages can use it without importing curation.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace *path* by *data* in one step: readers see the old or the new file, never half of one.

    *durable* also flushes the data and the rename to disk (``fsync``): curated data
    needs it; build records, which a crash merely makes stale, do not.
    """
    path = Path(path)
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    if not durable:
        return
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_signature(path: Path) -> list[int]:
    """What changes whenever *path* is written or replaced: its times (the status change time
    too, which no one can set back), size and inode.  A list, as kept in JSON memos."""
    st = path.stat()
    return [st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns]


# ``pages.synthesis.common.publish_file``'s names: <prefix>-<16 hex of the content's SHA-256>.<suffix>
_PUBLISHED_NAME = re.compile(r"(?P<prefix>.+)-[0-9a-f]{16}\.(?P<suffix>[A-Za-z0-9]+)")


def prune_published(published: Path, static: Path) -> list[str]:
    """Delete from the site's *static* folder the earlier versions of the files now in
    *published* (``publish_file``'s folder); return the names deleted.

    Sphinx copies static files but never deletes one: each data change left the explorer's
    previous data file in the site (55 of them in one long-lived build folder), shipped
    beside the current one.  Only names of ``publish_file``'s form with the prefix and
    suffix of a current file go; every other static file is left alone.
    """
    deleted = []
    for current in sorted(published.glob("*")):
        match = _PUBLISHED_NAME.fullmatch(current.name)
        if match is None:
            continue
        for old in static.glob(f"{match['prefix']}-*.{match['suffix']}"):
            same = _PUBLISHED_NAME.fullmatch(old.name)
            if same and same["prefix"] == match["prefix"] and old.name != current.name:
                old.unlink(missing_ok=True)
                deleted.append(old.name)
    return sorted(deleted)
