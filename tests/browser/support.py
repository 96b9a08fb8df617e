"""Test helpers: screenshots of every page, and the captured log of the server."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
#: Browser tests run in Debian's Chromium; without it they are skipped, saying why.
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason=f"{CHROMIUM} is missing (`make test` installs Debian's chromium)")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


class LogCapture(logging.Handler):
    """Every log record of the test process (the server runs in a thread of it), formatted with arguments."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def text(self) -> str:
        return "\n".join(self.lines)


class Shots:
    """Saves a full-page screenshot of every page visited into test-artifacts/screenshots/."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(self, page: Any, name: str) -> None:
        self.count += 1
        safe = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
        page.screenshot(path=str(SCREENSHOTS / f"{self.prefix}-{self.count:02d}-{safe}.png"), full_page=True)
