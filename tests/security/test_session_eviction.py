"""Threat: anonymous requests fill the session table and evict people who are logged in (docs/security.md,
Session table flooding). The login form needs no server-side session (its CSRF token is an HMAC of a cookie
nonce), and the table's bound is a setting."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from portvakt.portal import portal_config
from portvakt.settings import Settings
from tests.portal.conftest import make_stack
from tests.portal.stack import CSRF, PORTAL_URL, Stack

__all__ = ["make_stack"]


def sessions_kept(stack: Stack) -> int:
    """How many sessions the portal's store holds."""
    return len(stack.portal.state.portal.sessions)


def test_cookieless_login_pages_do_not_evict_a_logged_in_person(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(max_sessions=5)
    assert stack.login().status_code == 303
    with TestClient(stack.browser.app, base_url=PORTAL_URL) as stranger:
        for _ in range(50):
            stranger.cookies.clear()
            assert stranger.get("/portal/login").status_code == 200
    page = stack.browser.get("/portal/systems", follow_redirects=False)
    assert page.status_code == 200, "the logged-in person was evicted by anonymous visitors"
    assert sessions_kept(stack) == 1, "no server-side session per anonymous visit"


def test_the_login_token_belongs_to_the_cookie_it_came_with(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(max_sessions=1)
    assert stack.login().status_code == 303
    with TestClient(stack.browser.app, base_url=PORTAL_URL) as other:
        for _ in range(3):
            token = CSRF.search(other.get("/portal/login").text)
        assert token
        other.cookies.set("portvakt_session", "A" * 43, domain="portal.test", path="/portal")
        forged = other.post("/portal/login", data={"username": "multi@vendor.test", "csrf_token": token.group(1),
                                                   "password": "multi-password-1"})
        assert forged.status_code == 403
    assert stack.browser.get("/portal/systems", follow_redirects=False).status_code == 200


def test_the_bound_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTVAKT_PORTAL__MAX_SESSIONS", "1234")
    assert portal_config(Settings()).settings.max_sessions == 1234


def test_one_account_logging_in_again_and_again_does_not_evict_others(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(max_sessions=6, max_sessions_per_person=2)
    assert stack.login().status_code == 303
    with TestClient(stack.browser.app, base_url=PORTAL_URL) as attacker:
        for _ in range(10):
            attacker.cookies.clear()
            token = CSRF.search(attacker.get("/portal/login").text)
            assert token
            assert attacker.post("/portal/login", data={"username": "multi@vendor.test", "csrf_token": token.group(1),
                                                        "password": "multi-password-1"},
                                 follow_redirects=False).status_code == 303
    assert stack.browser.get("/portal/systems", follow_redirects=False).status_code == 200
