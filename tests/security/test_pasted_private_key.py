"""Threat: a private key pasted as bare base64 DER (no PEM armour) passes as not private and is echoed into
the page (docs/security.md, Pasted private key). PKCS#8 and PKCS#1 DER in base64 or base64url, with or
without line breaks, are refused by the portal and by the API, and the paste form never shows the text."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.api.v1.conftest import api, token_for
from tests.api.v1.test_clients import WRITE, create
from tests.conftest import VENDOR
from tests.portal.conftest import ida, make_stack, stack
from tests.portal.stack import Stack

__all__ = ["api", "ida", "make_stack", "stack", "token_for"]

DER = serialization.Encoding.DER
NO_PASSWORD = serialization.NoEncryption()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _wrapped(text: str, width: int, sep: str) -> str:
    return sep.join(text[i:i + width] for i in range(0, len(text), width))


def variants(key: rsa.RSAPrivateKey) -> dict[str, str]:
    """The private key as people paste it without armour."""
    pkcs8 = key.private_bytes(DER, serialization.PrivateFormat.PKCS8, NO_PASSWORD)
    pkcs1 = key.private_bytes(DER, serialization.PrivateFormat.TraditionalOpenSSL, NO_PASSWORD)
    encrypted = key.private_bytes(DER, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"hunter2-hunter2"))
    ec_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(DER, serialization.PrivateFormat.PKCS8,
                                                                   NO_PASSWORD)
    b64 = base64.b64encode(pkcs8).decode()
    return {
        "pkcs8": b64,
        "pkcs1": base64.b64encode(pkcs1).decode(),
        "pkcs8-url": base64.urlsafe_b64encode(pkcs8).decode().rstrip("="),
        "pkcs1-url": base64.urlsafe_b64encode(pkcs1).decode(),
        "pkcs8-lines": _wrapped(b64, 64, "\n"),
        "pkcs8-crlf-spaces": "  " + _wrapped(b64, 76, " \r\n ") + "\n",
        "pkcs8-encrypted": base64.b64encode(encrypted).decode(),
        "ec-pkcs8": base64.b64encode(ec_key).decode(),
    }


def echoes(body: str, pasted: str) -> bool:
    """True if any 40-character piece of the pasted text is in the page."""
    return any(pasted[i:i + 40] in body for i in range(max(1, len(pasted) - 39)))


def paste(stack: Stack, client_id: str, text: str) -> httpx.Response:
    return stack.post(f"/portal/systems/{client_id}/keys/paste", {"public_key": text}, follow_redirects=False)


@pytest.mark.parametrize("form", list(variants(rsa.generate_private_key(public_exponent=65537, key_size=2048))))
def test_bare_der_private_keys_are_refused_and_not_echoed(ida: Stack, rsa_key: rsa.RSAPrivateKey,
                                                           form: str) -> None:
    text = variants(rsa_key)[form]
    client_id = ida.create_system()
    resp = paste(ida, client_id, text)
    assert resp.status_code == 400
    assert "Dette er en privat nøkkel" in resp.text
    assert not echoes(resp.text, text.replace("\n", "").replace(" ", "").replace("\r", ""))
    assert not echoes(resp.text, text)
    assert not ida.recorder.api_calls("PUT", "/jwks"), "the key went nowhere"
    assert text.strip()[:40].encode() not in ida.recorder.bodies()


def test_no_error_of_the_paste_form_echoes_the_text(ida: Stack, rsa_key: rsa.RSAPrivateKey) -> None:
    public = rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    client_id = ida.create_system()
    assert paste(ida, client_id, public).status_code == 303
    for text in (public, "x" * 30 + "not a key at all, just some text that is long enough to echo",
                 '{"kty": "RSA", "n": "' + "A" * 60 + '", "e": "AQAB"}'):
        resp = paste(ida, client_id, text)
        assert resp.status_code == 400, text
        assert not echoes(resp.text, text), "the pasted text came back in the page"


@pytest.mark.parametrize("form", ["pkcs8", "pkcs1", "pkcs8-url", "pkcs8-lines"])
def test_the_api_refuses_bare_der_private_keys(api: Callable[..., Any], rsa_key: rsa.RSAPrivateKey,
                                               form: str) -> None:
    text = variants(rsa_key)[form]
    path = f"/clients/{create(api)['client_id']}/jwks"
    for kwargs in ({"json": {"keys": [text]}},
                   {"content": text.encode(), "headers": {"content-type": "application/x-pem-file"}}):
        resp = api("PUT", path, VENDOR, (WRITE,), **kwargs)
        assert resp.status_code == 400, resp.text
        assert "private key material" in resp.text
        assert not echoes(resp.text, text) and not echoes(json.dumps(resp.json()), text)
