"""Authentication of /api/v1 (RFC 6750 §3) and its problem details (RFC 9457)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import VENDOR, World


def test_no_token_is_401_problem(world: World) -> None:
    r = world.http.get("/api/v1/delegationsources")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"].startswith("Bearer")
    body = r.json()
    assert body["type"] == "/problems/unauthorized" and body["status"] == 401


def test_garbage_token_is_401_invalid_token(world: World) -> None:
    r = world.http.get("/api/v1/delegationsources", headers={"authorization": "Bearer not.a.token"})
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


def test_expired_token_is_401(world: World, token_for: Callable[..., str]) -> None:
    token = token_for(VENDOR, "idporten:dcr.read")
    world.clock.advance(601 + 10)
    r = world.http.get("/api/v1/delegationsources", headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_token_from_another_issuer_is_401(world: World, rsa_keys: list[Any]) -> None:
    from portvakt.jose import Signer

    forged = Signer(rsa_keys[2]).sign({"iss": "http://portvakt.test/", "exp": 2**40, "iat": 0,
                                       "consumer": {"authority": "iso6523-actorid-upis", "ID": f"0192:{VENDOR}"},
                                       "scope": "idporten:dcr.write"})
    r = world.http.get("/api/v1/delegationsources", headers={"authorization": f"Bearer {forged}"})
    assert r.status_code == 401


def test_valid_token(api: Callable[..., Any]) -> None:
    r = api("GET", "/delegationsources", VENDOR, ("idporten:dcr.read",))
    assert r.status_code == 200
    assert isinstance(r.json(), list)


def test_openapi_document(world: World) -> None:
    doc = world.http.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert "Problem" in doc["components"]["schemas"]
