"""Test helpers: screenshots of every page, the audit of every page state (reflow, axe-core), and the captured
log of the server."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

CHROMIUM = "/usr/bin/chromium"
#: Browser tests run in Debian's Chromium; without it they are skipped, saying why.
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason=f"{CHROMIUM} is missing (`make test` installs Debian's chromium)")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
#: axe-core from npm (package.json); injected by the tests only, the portal never serves it.
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: Every journey runs at a desktop width and at 390 px, where WCAG 1.4.10 (reflow) must hold.
WIDTHS = (1280, 390)
NARROW = 390


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
        self.prefix = re.sub(r"[^A-Za-z0-9_-]+", "-", prefix).strip("-")
        self.count = 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(self, page: Any, name: str) -> None:
        self.count += 1
        safe = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
        page.screenshot(path=str(SCREENSHOTS / f"{self.prefix}-{self.count:02d}-{safe}.png"), full_page=True)


#: The widest elements sticking out past the viewport's right edge, to say what breaks the reflow.
_OVERFLOWING = """(width) => Array.from(document.querySelectorAll('body *'))
  .map((el) => [el, el.getBoundingClientRect()])
  .filter(([el, box]) => box.right > width + 0.5 && box.width > 0)
  .sort((a, b) => b[1].right - a[1].right).slice(0, 5)
  .map(([el, box]) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className
    === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : ''} right=${Math.round(box.right)}`)"""

#: axe-core's rules for WCAG 2.0-2.2 A and AA plus its best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]


def _axe_source() -> str:
    """axe-core's script, or a skip saying how to get it."""
    if not AXE.is_file():
        pytest.skip(f"{AXE} is missing (run `npm ci` in the project folder)")
    return AXE.read_text(encoding="utf-8")


def readable_violations(violations: list[dict[str, Any]]) -> str:
    """axe-core's violations as lines a person can act on: rule, impact, help, and each offending element."""
    lines: list[str] = []
    for v in violations:
        lines.append(f"{v['id']} ({v.get('impact')}): {v['help']} <{v.get('helpUrl', '')}>")
        for node in v.get("nodes", [])[:10]:
            target = " ".join(str(t) for t in node.get("target", []))
            summary = (node.get("failureSummary") or "").replace("\n", " / ")
            lines.append(f"    {target}: {summary}")
            lines.append(f"      {node.get('html', '')[:200]}")
    return "\n".join(lines)


T = TypeVar("T")
_STYLED = "Array.from(document.querySelectorAll('link[rel=stylesheet]')).every((link) => link.sheet !== null)"


def polled(page: Any, read: Callable[[], T], *, seconds: float = 5.0, every_ms: int = 25) -> T:
    """`read()` again every `every_ms` until it gives a true value, for at most `seconds`; its last value. A
    wait_for_function string would need the portal CSP's unsafe-eval, so the test polls instead."""
    value = read()
    for _ in range(int(seconds * 1000 / every_ms)):
        if value:
            break
        page.wait_for_timeout(every_ms)
        value = read()
    return value


def styled(page: Any) -> None:
    """Wait until the page's stylesheets apply: a click that navigates returns once the new page commits, with its
    stylesheet maybe still on the way. Not the load event, which a page that starts a download at once may never
    report."""
    assert polled(page, lambda: bool(page.evaluate(_STYLED))), f"{page.url}: its stylesheets did not load in 5 s"


def reflow_problem(page: Any) -> str | None:
    """Why the page scrolls sideways at its viewport width (WCAG 1.4.10), or None when it doesn't."""
    styled(page)
    width = int(page.viewport_size["width"])
    scroll = int(page.evaluate("document.documentElement.scrollWidth"))
    if scroll <= width:
        return None
    wide = page.evaluate(_OVERFLOWING, width)
    return f"{page.url}: scrollWidth {scroll} > {width}; widest: {', '.join(wide)}"


#: Tables, facts lists and commands wider than the main column (a long name widening them), by id or class.
_WIDENED = """() => {
  const main = document.querySelector('main');
  if (!main) { return []; }
  const edge = main.getBoundingClientRect().right + 0.5;
  return Array.from(main.querySelectorAll('table, dl, pre, ul, ol, form'))
    .filter((el) => el.getBoundingClientRect().right > edge || el.scrollWidth > el.clientWidth + 1
                    && getComputedStyle(el).overflowX === 'visible')
    .map((el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} `
                 + `right=${Math.round(el.getBoundingClientRect().right)}`);
}"""


def fits(page: Any) -> None:
    """At any width: the page does not scroll sideways, and no table, list, form or command sticks out of the main
    column (a 200-character unbroken name must not widen them, WCAG 1.4.10)."""
    problem = reflow_problem(page)
    assert problem is None, problem
    widened = page.evaluate(_WIDENED)
    assert widened == [], f"{page.url}: wider than the main column: {', '.join(widened)}"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Runs axe-core on the page as it is now; its violations (WCAG 2.x A/AA and best practices)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page's CSP (script-src 'self') stays on and untouched.
        page.evaluate(_axe_source() + "\n;void 0;")
    result = page.evaluate("""async (tags) => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
        return JSON.stringify(r.violations);
    }""", AXE_TAGS)
    found: list[dict[str, Any]] = json.loads(result)
    return found


def audit(page: Any, shots: Shots, name: str) -> None:
    """The current page state, at the page's viewport: no sideways scroll at 390 px or narrower (WCAG 1.4.10),
    0 axe-core violations, and a screenshot named `name` (with the width)."""
    styled(page)
    shots.take(page, name)
    width = int(page.viewport_size["width"])
    if width <= NARROW:
        problem = reflow_problem(page)
        assert problem is None, problem
    violations = axe_violations(page)
    assert violations == [], f"axe-core found {len(violations)} violation(s) on {page.url} ({name}, {width} px):\n" \
        + readable_violations(violations)
