"""After login (and choosing the organisation), the portal returns to the page that was asked for, if it is one
of its own pages; any other `next` is refused (OWASP Unvalidated Redirects and Forwards)."""

from __future__ import annotations

import html
import re

import pytest

from .stack import OTHER, PEOPLE, READ_SCOPE, Stack

NEXT_INPUT = re.compile(r'<input type="hidden" name="next" value="([^"]*)">')
ASKED = f"/portal/scopes/access?scope={READ_SCOPE.replace(':', '%3A').replace('/', '%2F')}"


def log_in_with(stack: Stack, username: str, nxt: str, password: str | None = None) -> str:
    """POST /login with a `next` field; the redirect's location (or the status, if it is no redirect)."""
    token = stack.csrf()
    secret = password if password is not None else PEOPLE[username][0]
    resp = stack.browser.post("/portal/login", data={"username": username, "password": secret, "csrf_token": token,
                                                      "next": nxt}, follow_redirects=False)
    return str(resp.headers.get("location", resp.status_code))


def test_a_page_asked_for_without_login_sends_to_login_and_back(stack: Stack) -> None:
    resp = stack.browser.get("/portal/systems", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/portal/login?next=%2Fportal%2Fsystems"
    form = stack.browser.get(resp.headers["location"]).text
    assert NEXT_INPUT.findall(form) == ["/portal/systems"]
    assert log_in_with(stack, "ida@vendor.test", "/portal/systems") == "/portal/systems"
    assert stack.browser.get("/portal/systems").status_code == 200


def test_the_query_comes_along(stack: Stack) -> None:
    resp = stack.browser.get(ASKED, follow_redirects=False)
    location = resp.headers["location"]
    assert location.startswith("/portal/login?next=")
    form = stack.browser.get(location).text
    assert [html.unescape(v) for v in NEXT_INPUT.findall(form)] == [ASKED]
    assert log_in_with(stack, "ida@vendor.test", ASKED) == ASKED


def test_the_overview_needs_no_next(stack: Stack) -> None:
    assert stack.browser.get("/portal/", follow_redirects=False).headers["location"] == "/portal/login"
    assert NEXT_INPUT.findall(stack.browser.get("/portal/login").text) == []
    assert log_in_with(stack, "ida@vendor.test", "") == "/portal/"


def test_a_failed_login_keeps_where_to_go(stack: Stack) -> None:
    token = stack.csrf()
    resp = stack.browser.post("/portal/login", data={"username": "ida@vendor.test", "password": "wrong-wrong",
                                                      "csrf_token": token, "next": "/portal/systems"})
    assert resp.status_code == 401 and NEXT_INPUT.findall(resp.text) == ["/portal/systems"]
    assert "<title>Feil: Logg inn" in resp.text, "the title says the form has an error"
    assert log_in_with(stack, "ida@vendor.test", "/portal/systems") == "/portal/systems"


def test_with_several_organisations_the_chooser_comes_first(stack: Stack) -> None:
    location = log_in_with(stack, "multi@vendor.test", "/portal/systems")
    assert location == "/portal/org?next=%2Fportal%2Fsystems"
    chooser = stack.browser.get(location).text
    assert NEXT_INPUT.findall(chooser) == ["/portal/systems"]
    chosen = stack.post("/portal/org", {"orgno": OTHER, "next": "/portal/systems"}, follow_redirects=False)
    assert chosen.status_code == 303 and chosen.headers["location"] == "/portal/systems"
    refused = stack.post("/portal/org", {"orgno": "nope", "next": "/portal/systems"})
    assert refused.status_code == 400 and NEXT_INPUT.findall(refused.text) == ["/portal/systems"]


def test_a_logged_in_person_goes_straight_on(stack: Stack) -> None:
    stack.login()
    resp = stack.browser.get("/portal/login?next=%2Fportal%2Fsystems", follow_redirects=False)
    assert resp.headers["location"] == "/portal/systems"
    resp = stack.browser.get("/portal/login?next=https%3A%2F%2Fevil.example%2F", follow_redirects=False)
    assert resp.headers["location"] == "/portal/"


OFF_SITE = ["https://evil.example/", "//evil.example/", "///evil.example/", "/\\evil.example", "\\\\evil.example",
            "/portal//evil.example", "/portal/\\evil.example", "/portal/..//evil.example", "/portal/../elsewhere",
            "/portal/%2e%2e/elsewhere", "/portal/%2E%2E%2Felsewhere", "/portal/%2f%2fevil.example",
            "/portal/%5cevil.example", "javascript:alert(1)", "data:text/html,x", "/portal/\r\nSet-Cookie: x=1",
            "/portal/\tx", "/portal/\x00", "/portal/\x7f", "/elsewhere", "portal/systems", " /portal/systems",
            "/portalx/systems", "https://portal.test/portal/systems", "/portal/" + "a" * 600, "/portal"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_no_next_leads_off_the_portal(stack: Stack, target: str) -> None:
    assert log_in_with(stack, "ida@vendor.test", target) == "/portal/"
    form = stack.browser.get("/portal/login", params={"next": target}).text
    assert NEXT_INPUT.findall(form) == []


def test_the_language_switch_uses_the_same_check(stack: Stack) -> None:
    for target in OFF_SITE:
        resp = stack.browser.get("/portal/language", params={"lang": "en", "next": target}, follow_redirects=False)
        assert resp.headers["location"] == "/portal/", target

