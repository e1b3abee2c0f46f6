"""The installed environment is exactly the locked tree, and the lock covers every direct pin.

`make site` installs requirements.lock with --no-deps, so a package missing from the lock, or a
version that drifted from it, would show up here as a difference rather than as a broken page.
"""

from __future__ import annotations

import re
from importlib import metadata

from conftest import REPO

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)")
# Installed by venv/pip themselves or by `pip install -e .`, not by the lock.
NOT_LOCKED = {"pip", "neuroimmune-review"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.strip())
        if match:
            found[canonical(match.group(1))] = match.group(2)
    return found


def test_every_direct_pin_is_locked_at_the_same_version():
    direct, locked = pins(REPO / "requirements.txt"), pins(REPO / "requirements.lock")
    assert direct, "requirements.txt has no pins"
    mismatched = {n: (v, locked.get(n)) for n, v in direct.items() if locked.get(n) != v}
    assert not mismatched, f"requirements.lock is stale (run `make lock`): {mismatched}"


def test_installed_environment_is_the_locked_tree():
    locked = pins(REPO / "requirements.lock")
    installed = {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()}
    drifted = {n: (v, installed.get(n)) for n, v in locked.items() if installed.get(n) != v}
    assert not drifted, f"installed versions differ from requirements.lock: {drifted}"
    unlocked = sorted(set(installed) - set(locked) - NOT_LOCKED)
    assert not unlocked, f"installed but not in requirements.lock: {unlocked}"
