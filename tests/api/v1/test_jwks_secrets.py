"""A private key sent by mistake is refused, and its material is never echoed, logged or stored (DESIGN)."""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from portvakt.jose import PrivateKeyHandle
from tests.api.v1.test_clients import READ, WRITE, Api
from tests.conftest import VENDOR, World
from tests.storage.builders import iter_all_clients

_ENC = serialization.Encoding.PEM
_NONE = serialization.NoEncryption()


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


PEMS: dict[str, Callable[[], bytes]] = {
    "pkcs8": lambda: _rsa().private_bytes(_ENC, serialization.PrivateFormat.PKCS8, _NONE),
    "pkcs8-encrypted": lambda: _rsa().private_bytes(_ENC, serialization.PrivateFormat.PKCS8,
                                                    serialization.BestAvailableEncryption(b"secret")),
    "pkcs1-rsa": lambda: _rsa().private_bytes(_ENC, serialization.PrivateFormat.TraditionalOpenSSL, _NONE),
    "sec1-ec": lambda: ec.generate_private_key(ec.SECP256R1()).private_bytes(
        _ENC, serialization.PrivateFormat.TraditionalOpenSSL, _NONE),
    "pkcs8-ec": lambda: ec.generate_private_key(ec.SECP384R1()).private_bytes(
        _ENC, serialization.PrivateFormat.PKCS8, _NONE),
    "openssh": lambda: ed25519.Ed25519PrivateKey.generate().private_bytes(
        _ENC, serialization.PrivateFormat.OpenSSH, _NONE),
}


def _pem_markers(pem: bytes) -> list[str]:
    """Distinctive slices of the base64 body: key material, not the constant ASN.1 algorithm prefix that
    every encrypted PKCS#8 key (the server's own signing keys too) starts with."""
    lines = pem.decode().strip().splitlines()[1:-1]
    body = lines[3:6] if len(lines) > 6 else lines
    return [line[8:48] for line in body if len(line) >= 48]


def _b64(n: int) -> str:
    return base64.urlsafe_b64encode(os.urandom(n)).rstrip(b"=").decode()


def _jwks(handle: PrivateKeyHandle) -> dict[str, tuple[dict[str, Any], list[str]]]:
    """Private JWKs of each kind with the members that must never leak."""
    rsa_jwk = handle.to_private_jwk()
    oct_jwk = {"kty": "oct", "k": _b64(32), "kid": "sym"}
    ec_jwk = {"kty": "EC", "crv": "P-256", "x": _b64(32), "y": _b64(32), "d": _b64(32)}
    no_kty = {"n": rsa_jwk["n"], "e": "AQAB", "d": rsa_jwk["d"]}
    return {"rsa": (rsa_jwk, [rsa_jwk[m][5:45] for m in ("d", "p", "q", "dp", "dq", "qi")]),
            "oct": (oct_jwk, [oct_jwk["k"][5:40]]), "ec": (ec_jwk, [ec_jwk["d"][5:40]]),
            "no-kty": (no_kty, [no_kty["d"][5:45]])}


def _dump(world: World) -> str:
    """Everything the memory store holds: clients with keys, audit events, the change feed, raw state."""
    with world.store.begin() as uow:
        clients = [repr(c) for c in iter_all_clients(uow, include_inactive=True)]
        audit = [repr(e) for o in uow.list_orgs() for e in uow.list_audit(org=o.orgno, limit=10**6)]
    return json.dumps([clients, audit, repr(world.store.changes_since(0)), repr(vars(world.store))], default=str)


def _assert_refused_and_unseen(world: World, caplog: pytest.LogCaptureFixture, r: Any, markers: list[str],
                               before: str) -> None:
    assert r.status_code == 400, r.text
    assert r.json()["type"] == "/problems/invalid" and "private key" in r.json()["detail"]
    logged = caplog.text + "".join(f"{rec.getMessage()}{rec.args}{rec.exc_text}" for rec in caplog.records)
    stored = _dump(world)
    assert stored == before
    assert markers
    for m in markers:
        assert m not in r.text and m not in logged and m not in stored


@pytest.fixture
def before(world: World, caplog: pytest.LogCaptureFixture) -> str:
    caplog.set_level(logging.DEBUG)
    return _dump(world)


@pytest.mark.parametrize("kind", PEMS)
@pytest.mark.parametrize("how", ["raw-body", "in-keys", "after-a-good-key", "unknown-client", "keys-string"])
def test_private_pem_is_refused_and_never_seen(api: Api, world: World, caplog: pytest.LogCaptureFixture,
                                               before: str, kind: str, how: str) -> None:
    pem = PEMS[kind]()
    path = f"/clients/{'no-such' if how == 'unknown-client' else world.client_id}/jwks"
    if how == "raw-body":
        r = api("POST", path, VENDOR, (WRITE,), content=pem, headers={"content-type": "application/x-pem-file"})
    elif how == "keys-string":
        r = api("PUT", path, VENDOR, (WRITE,), json={"keys": pem.decode()})
    else:
        keys = [world.key.public_jwk] if how == "after-a-good-key" else []
        r = api("PUT", path, VENDOR, (WRITE,), json={"keys": [*keys, pem.decode()]})
    _assert_refused_and_unseen(world, caplog, r, _pem_markers(pem), before)


@pytest.mark.parametrize("kind", ["rsa", "oct", "ec", "no-kty"])
@pytest.mark.parametrize("how", ["object", "json-string", "bare-jwk", "raw-body"])
def test_private_jwk_is_refused_and_never_seen(api: Api, world: World, caplog: pytest.LogCaptureFixture,
                                               before: str, rsa_keys: list[PrivateKeyHandle],
                                               kind: str, how: str) -> None:
    jwk, markers = _jwks(rsa_keys[1])[kind]
    path = f"/clients/{world.client_id}/jwks"
    if how == "raw-body":
        r = api("POST", path, VENDOR, (WRITE,), content=json.dumps(jwk).encode(),
                headers={"content-type": "application/x-pem-file"})
    else:
        body: Any = jwk if how == "bare-jwk" else {"keys": [jwk if how == "object" else json.dumps(jwk)]}
        r = api("POST", path, VENDOR, (WRITE,), json=body)
    _assert_refused_and_unseen(world, caplog, r, markers, before)
    assert api("GET", path, VENDOR, (READ,)).json()["keys"][0]["kid"] == world.key.kid


@pytest.mark.parametrize("field", ["client_name", "scopes", "grant_types", "access_token_lifetime", "created"])
def test_private_key_in_a_client_field_is_not_echoed(api: Api, world: World, caplog: pytest.LogCaptureFixture,
                                                     before: str, field: str) -> None:
    """FastAPI's validation errors carry the input; the problem renders only messages."""
    pem = PEMS["pkcs8"]().decode()
    value: Any = [pem] if field == "grant_types" else {"k": pem} if field == "scopes" else pem
    value = pem + "x" * 300 if field == "client_name" else value
    r = api("POST", "/clients", VENDOR, (WRITE,), json={"client_name": "x", field: value})
    assert r.status_code == 400, r.text
    logged = caplog.text + "".join(f"{rec.getMessage()}{rec.args}" for rec in caplog.records)
    for m in _pem_markers(pem.encode()):
        assert m not in r.text and m not in logged and m not in _dump(world)
    assert _dump(world) == before
