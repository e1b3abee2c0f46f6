"""``jupyter-book build ROOT -W -n --keep-going`` as the tests run it on copies of the review."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def strict_build(root: Path, *, pythonpath: Path | None = None, timeout: float = 900) -> str:
    """Build *root* strictly (warnings are errors); return Sphinx's output or fail with the log.

    ``REVIEW_ROOT`` is dropped so the copy, not this repository, is the review built;
    *pythonpath* puts a copy of the package first (for tests that edit it).
    """
    exe = Path(sys.executable).with_name("jupyter-book")
    command = [
        str(exe) if exe.exists() else shutil.which("jupyter-book") or "jupyter-book",
        *("build", str(root), "-W", "-n", "--keep-going"),
    ]
    env = {k: v for k, v in os.environ.items() if k != "REVIEW_ROOT"}
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(pythonpath), env.get("PYTHONPATH", "")) if p
        )
    result = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        log = (result.stdout + "\n" + result.stderr)[-8000:]
        raise AssertionError(f"jupyter-book build {root} failed ({result.returncode}):\n{log}")
    return result.stdout
