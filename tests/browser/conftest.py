"""Playwright (sync) in Debian's Chromium against a real server; one browser per session, one server per module."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest

from .server import LiveServer, start
from .support import CHROMIUM, WIDTHS, LogCapture, Shots

#: Chromium logs every non-2xx page (a 401 after a wrong password, say) like this; those are not errors here.
STATUS_MESSAGE = "Failed to load resource: the server responded with a status of"

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per browser-test module; closed after it, so that the asyncio loop Playwright's sync API
    runs in this thread is gone before other tests run."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (`make test` installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server_log() -> Iterator[LogCapture]:
    """Captures the server's log output (all loggers, DEBUG and up) while the module's server runs."""
    capture = LogCapture()
    capture.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    yield capture
    root.removeHandler(capture)
    root.setLevel(old_level)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, server_log: LogCapture) -> Iterator[LiveServer]:
    """One real server (SQLite, demo data) per test module."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (`make test` installs Debian's chromium)")
    server = start(tmp_path_factory.mktemp("live") / "var")
    yield server
    server.stop()


@pytest.fixture(params=WIDTHS, ids=[f"w{w}" for w in WIDTHS])
def width(request: pytest.FixtureRequest) -> int:
    """The viewport width a test's `page` has: every browser test runs at 1280 and at 390 px (WCAG 1.4.10).
    A test can pin one with `@pytest.mark.parametrize("width", [390], indirect=True)`."""
    return int(request.param)


@pytest.fixture
def page(browser: Any, live: LiveServer, width: int) -> Iterator[Any]:
    """A fresh browser context (own cookies) and page at the `width`; afterwards, no console error (e.g. a CSP
    violation)."""
    context = browser.new_context(accept_downloads=True, base_url=live.url.rstrip("/"), locale="nb-NO",
                                  viewport={"width": width, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    errors: list[str] = []
    opened.on("console", lambda message: errors.append(message.text)
              if message.type == "error" and not message.text.startswith(STATUS_MESSAGE) else None)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], "the browser reported errors (a CSP violation, a script error)"


@pytest.fixture
def shots(request: pytest.FixtureRequest, width: int) -> Shots:
    """Screenshots named after the test, with the viewport width in the name."""
    name = request.node.name.removeprefix("test_")
    return Shots(name if f"w{width}" in name else f"{name}-w{width}")
