"""The portal's own token (cached, renewed) and what happens when the APIs refuse or are away."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from portvakt.jose import PrivateKeyHandle
from portvakt.portal.errors import PortalError, Unavailable, from_problem

from .stack import Stack


def test_one_token_serves_many_calls(ida: Stack) -> None:
    for path in ("/portal/systems", "/portal/systems/new", "/portal/systems"):
        assert ida.browser.get(path).status_code == 200
    assert len(ida.recorder.api_calls("POST", "/token")) == 1
    assert len(ida.recorder.api_calls("GET", "/api/v1/")) >= 5
    grant = ida.recorder.api_calls("POST", "/token")[0].content.decode()
    assert "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" in grant


def test_a_refused_token_is_fetched_again_once(ida: Stack) -> None:
    tokens = ida.portal.state.portal.backend._tokens  # type: ignore[attr-defined]
    tokens._token = "not-a-valid-token"
    assert ida.browser.get("/portal/systems").status_code == 200
    assert len(ida.recorder.api_calls("POST", "/token")) == 2


def test_the_wrong_portal_key_gives_a_readable_503(make_stack: Callable[..., Stack], tmp_path: Path,
                                                    rsa_keys: list[PrivateKeyHandle]) -> None:
    other = tmp_path / "other.pem"
    other.write_bytes(rsa_keys[0].to_pem())
    stack = make_stack(key_file=other)
    resp = stack.login()
    assert resp.status_code == 503
    assert "Portalen får ikke kontakt med tjenestene" in resp.text
    assert "Traceback" not in resp.text


def test_a_missing_portal_key_gives_a_readable_503(make_stack: Callable[..., Stack], tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    stack = make_stack(key_file=tmp_path / "absent.pem")
    assert stack.login().status_code == 503
    assert "cannot read the portal's key" in caplog.text


def test_unreachable_apis_give_a_readable_503(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(api_url="http://127.0.0.1:9/", altinn_url="http://127.0.0.1:9/")

    async def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    stack.recorder.inner = httpx.MockTransport(refuse)
    resp = stack.login()
    assert resp.status_code == 503


def problem(status: int, body: object) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("GET", "http://x/"))


def test_problems_become_readable_errors_with_their_field() -> None:
    err = from_problem(problem(400, {"type": "/problems/invalid", "title": "The request breaks a rule", "status": 400,
                                     "detail": "bad", "errors": [{"field": "keys[0]", "message": "too small"}]}))
    assert (err.message, err.field, err.status, err.kind) == ("too small", "key", 400, "refused")
    err = from_problem(problem(400, {"detail": "no errors member"}))
    assert (err.message, err.field) == ("no errors member", None)
    assert from_problem(problem(404, {"title": "No such resource"})).kind == "not-found"
    assert isinstance(from_problem(problem(502, {})), Unavailable)
    odd = from_problem(httpx.Response(400, text="<html>", request=httpx.Request("GET", "http://x/")))
    assert isinstance(odd, PortalError) and odd.message == "HTTP 400"


def test_bad_form_bodies_are_answered_never_500(ida: Stack) -> None:
    token = ida.csrf("/portal/")
    big = ida.browser.post("/portal/systems/new", content=b"a=" + b"x" * 70_000,
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert big.status_code == 413
    broken = ida.browser.post("/portal/systems/new", content=b"csrf_token=" + token.encode() + b"&client_name=%FF",
                              headers={"content-type": "application/x-www-form-urlencoded"})
    assert broken.status_code == 400
    json_body = ida.browser.post("/portal/systems/new", json={"csrf_token": token})
    assert json_body.status_code == 403


def test_an_unexpected_error_is_a_plain_500_page_with_the_headers(ida: Stack, monkeypatch: pytest.MonkeyPatch,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    backend = ida.portal.state.portal.backend  # type: ignore[attr-defined]

    async def broken(vendor: str) -> None:
        raise RuntimeError("internal detail 1234")

    monkeypatch.setattr(backend, "systems", broken)
    resp = ida.browser.get("/portal/systems")
    assert resp.status_code == 500
    assert "En uventet feil oppstod" in resp.text
    assert "internal detail 1234" not in resp.text and "Traceback" not in resp.text
    assert resp.headers["content-security-policy"].startswith("default-src 'self'")
    assert "internal detail 1234" in caplog.text, "the operator finds it in the log"
