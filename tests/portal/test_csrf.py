"""CSRF (OWASP synchronizer token): every POST form carries the session's token; without it, or with a
wrong one, the answer is a 403 page and nothing is done."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .stack import CSRF, PEOPLE, Stack


def test_login_without_a_token_is_403(stack: Stack) -> None:
    stack.browser.get("/portal/login")
    resp = stack.browser.post("/portal/login", data={"username": "ida@vendor.test", "password": "ida-password-1"},
                              follow_redirects=False)
    assert resp.status_code == 403
    assert "sikkerhetskode" in resp.text
    assert not stack.recorder.api_calls("POST", "/portal/login")


def test_login_with_a_wrong_token_is_403(stack: Stack) -> None:
    token = stack.csrf()
    resp = stack.browser.post("/portal/login", data={"username": "ida@vendor.test", "password": "ida-password-1",
                                                     "csrf_token": token[:-2] + "00"}, follow_redirects=False)
    assert resp.status_code == 403
    assert not stack.recorder.api_calls("POST", "/portal/login")


def test_a_post_without_any_session_is_403(stack: Stack) -> None:
    resp = stack.browser.post("/portal/login", data={"username": "a", "password": "b", "csrf_token": "x"})
    assert resp.status_code == 403
    assert "utløpt" in resp.text


@pytest.mark.parametrize("token", [None, "", "0" * 64, "wrong"])
def test_creating_a_system_needs_the_token(ida: Stack, token: str | None) -> None:
    data = {"client_name": "Sneaky", "description": "", "scopes": []}
    if token is not None:
        data["csrf_token"] = token
    resp = ida.browser.post("/portal/systems/new", data=data, follow_redirects=False)
    assert resp.status_code == 403
    assert not ida.recorder.api_calls("POST", "/api/v1/clients")


def test_a_token_of_another_session_is_refused(make_stack: Callable[..., Stack]) -> None:
    one = make_stack()
    one.login()
    other_token = one.csrf("/portal/")
    two_login = one.browser.cookies.get("portvakt_session")
    one.browser.cookies.clear()
    one.login("multi@vendor.test")
    assert one.browser.cookies.get("portvakt_session") != two_login
    resp = one.browser.post("/portal/org", data={"orgno": "314330897", "csrf_token": other_token})
    assert resp.status_code == 403


def test_cross_site_posts_are_refused_even_with_the_token(ida: Stack) -> None:
    token = CSRF.search(ida.browser.get("/portal/").text)
    assert token
    resp = ida.browser.post("/portal/systems/new", data={"client_name": "X", "csrf_token": token.group(1)},
                            headers={"sec-fetch-site": "cross-site"}, follow_redirects=False)
    assert resp.status_code == 403
    assert not ida.recorder.api_calls("POST", "/api/v1/clients")


def test_logout_needs_the_token_and_keeps_the_session_without_it(ida: Stack) -> None:
    assert ida.browser.post("/portal/logout", data={}, follow_redirects=False).status_code == 403
    assert ida.browser.get("/portal/systems", follow_redirects=False).status_code == 200
    assert PEOPLE  # the fixture person is still logged in


def test_every_form_on_every_page_carries_the_token(ida: Stack) -> None:
    client_id = ida.create_system()
    for path in ("/portal/", "/portal/systems/new", f"/portal/systems/{client_id}/keys/paste",
                 f"/portal/systems/{client_id}/keys/browser", f"/portal/systems/{client_id}/keys/pkcs12"):
        html = ida.browser.get(path).text
        forms = html.count('method="post"')
        assert forms >= 1
        assert html.count('name="csrf_token"') == forms, path
