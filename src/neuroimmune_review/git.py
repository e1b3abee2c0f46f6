"""Running git, safely: the one wrapper the history, the version stamp and curation share.

A missing git, a folder that is not a repository or a failing command all answer
``None``: the callers then fall back (no history, a date from file times, no
withdrawn ids), and a build never stops because git is absent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def run(root: Path, *args: str, stdin: bytes | None = None, timeout: int = 120) -> bytes | None:
    """Output of ``git <args>`` in *root*, or None if git is missing or the command fails."""
    if shutil.which("git") is None:
        return None
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=root,
            input=stdin,
            capture_output=True,
            timeout=timeout,
            env=env,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def text(root: Path, *args: str) -> str | None:
    """:func:`run`, decoded and stripped."""
    out = run(root, *args)
    return out.decode("utf-8", errors="replace").strip() if out is not None else None
