"""Writing a file in one step (temporary file in the same folder, then ``os.replace``), and
telling whether a file was written since it was last seen (``write_signature``).

The one implementation the curation commands, the provenance records and the build's
chart bundle share.  It lives in the core rather than in ``curation.safe_write`` (which
re-exports it) so that the build and the pages can use it without importing curation.
"""

from __future__ import annotations

import contextlib
import os
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
