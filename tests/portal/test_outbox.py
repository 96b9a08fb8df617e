"""The development SMS outbox page (decision P9): on only in dev/demo mode, shows messages as a phone would."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from portvakt.sms import DevOutbox

from .stack import Stack


def send(outbox: DevOutbox, to: str, text: str) -> None:
    """Send through the outbox on a loop of its own (the test thread may have one running)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, outbox.send(to, text)).result()


def test_the_outbox_shows_the_messages_newest_first(ida: Stack) -> None:
    assert "Ingen meldinger ennå" in ida.browser.get("/portal/dev/sms").text
    send(ida.outbox, "+47 900 00 001", "Første <b>melding</b>")
    send(ida.outbox, "+4790000001", "Andre melding")
    page = ida.browser.get("/portal/dev/sms").text
    assert page.index("Andre melding") < page.index("Første")
    assert "Første &lt;b&gt;melding&lt;/b&gt;" in page
    assert "Til +4790000001" in page


def test_the_outbox_is_not_there_outside_dev_mode(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(dev_mode=False)
    stack.login()
    resp = stack.browser.get("/portal/dev/sms")
    assert resp.status_code == 404
    assert "Fant ikke siden" in resp.text
    assert "/portal/dev/sms" not in stack.browser.get("/portal/").text


def test_the_footer_links_the_outbox_in_dev_mode(ida: Stack) -> None:
    assert 'href="/portal/dev/sms"' in ida.browser.get("/portal/").text
