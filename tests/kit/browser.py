"""Headless Chromium for browser tests: Debian's ``chromium`` driven by Playwright.

``make test`` installs the browser (see the Makefile's ``browser`` stamp); Playwright's own
browser downloads are never used. A page opened through :func:`open_page` records every
console message, page error and network request, so tests can assert that a page rendered
cleanly and fetched nothing from outside.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

__all__ = ["CHROMIUM", "PageRecord", "open_page", "screenshot_dir"]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
_REPOSITORY = Path(__file__).resolve().parents[2]


@dataclass
class PageRecord:
    """What a page did while the test looked at it."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def screenshot_dir() -> Path:
    """Return (and create) the build folder the suite writes screenshots into."""
    folder = _REPOSITORY / "build" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def open_page(url: str, *, width: int = 1400, height: int = 1000) -> Iterator[PageRecord]:
    """Open ``url`` in headless Chromium and yield the page with its record."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            record = PageRecord(page)
            page.on(
                "console",
                lambda message: (
                    record.console_errors.append(message.text) if message.type == "error" else None
                ),
            )
            page.on("pageerror", lambda error: record.page_errors.append(str(error)))
            page.on("request", lambda request: record.requests.append(request.url))
            page.goto(url, wait_until="load")
            yield record
        finally:
            browser.close()
