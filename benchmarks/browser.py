"""The one way the tests and the benchmark start a browser: Debian's Chromium through Playwright.

Playwright's own browser download is not used (nothing is fetched at run time), so every
launch names ``/usr/bin/chromium`` (``make system-deps``) and the same flags: no sandbox
(containers), no GPU, and none of Chromium's background network traffic.
"""

from __future__ import annotations

from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def launch_chromium(playwright: Any) -> Any:
    """A headless Chromium browser from a started ``sync_playwright()`` object."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), headless=True
    )
