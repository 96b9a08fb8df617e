"""Threat: the development SMS outbox shows everyone's PKCS#12 passwords (docs/security.md, SMS outbox
disclosure). Without login it sends to the login page; a person sees only the messages to their own number."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from tests.portal.conftest import make_stack, stack
from tests.portal.stack import PEOPLE, Stack

__all__ = ["make_stack", "stack"]

IDA_TEXT = "Passord for ida: ida-secret-4711"
TOR_TEXT = "Passord for tor: tor-secret-0815"


def send(stack: Stack, to: str, text: str) -> None:
    """Send through the outbox on a loop of its own (the test client's loop runs in another thread)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, stack.outbox.send(to, text)).result()


def test_without_login_the_outbox_sends_to_the_login_page(stack: Stack) -> None:
    send(stack, PEOPLE["ida@vendor.test"][2], IDA_TEXT)
    resp = stack.browser.get("/portal/dev/sms", follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/portal/login?next=%2Fportal%2Fdev%2Fsms"
    assert "ida-secret-4711" not in resp.text


def test_a_person_sees_only_the_messages_to_their_own_number(stack: Stack) -> None:
    send(stack, "+47 900 00 001", IDA_TEXT)  # Ida's number, written with spaces
    send(stack, PEOPLE["tor@consumer.test"][2], TOR_TEXT)
    assert stack.login().status_code == 303
    page = stack.browser.get("/portal/dev/sms")
    assert page.status_code == 200
    assert "ida-secret-4711" in page.text
    assert "tor-secret-0815" not in page.text
    assert PEOPLE["tor@consumer.test"][2] not in page.text


def test_another_person_does_not_see_ida_s_password(stack: Stack) -> None:
    send(stack, PEOPLE["ida@vendor.test"][2], IDA_TEXT)
    assert stack.login("tor@consumer.test").status_code == 303
    page = stack.browser.get("/portal/dev/sms")
    assert page.status_code == 200
    assert "ida-secret-4711" not in page.text
    assert "Ingen meldinger ennå" in page.text
