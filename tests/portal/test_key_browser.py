"""Way 2 (decision P7), the server side: only a public JWK with its RFC 7638 kid is accepted, after the
person confirms they kept the private key; the page and its script say the private key stays in the browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from portvakt.jose import PrivateKeyHandle

from .keyhelp import key_page, stored_kids, token
from .stack import Stack

KEYGEN = Path(__file__).resolve().parents[2] / "src" / "portvakt" / "portal" / "static" / "keygen.js"


def post(stack: Stack, client_id: str, jwk: object, kid: str, saved: str = "yes") -> httpx.Response:
    return stack.post(f"/portal/systems/{client_id}/keys/browser",
                      {"public_jwk": json.dumps(jwk), "kid": kid, "saved": saved}, follow_redirects=False)


def test_the_page_says_the_private_key_never_leaves_the_browser(ida: Stack) -> None:
    page = key_page(ida, "browser")
    assert "Den private nøkkelen forlater aldri nettleseren din" in page
    assert '<script src="/portal/static/keygen.js"></script>' in page
    assert 'type="hidden" name="public_jwk"' in page
    assert "<noscript>" in page


def test_the_public_jwk_is_registered(ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    key = rsa_keys[1]
    client_id = ida.create_system()
    resp = post(ida, client_id, key.public_jwk, key.kid)
    assert resp.status_code == 303
    assert stored_kids(ida, client_id) == [key.kid]
    assert token(ida, client_id, key).status_code == 200


def test_without_the_confirmation_nothing_is_registered(ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    client_id = ida.create_system()
    resp = post(ida, client_id, rsa_keys[1].public_jwk, rsa_keys[1].kid, saved="")
    assert resp.status_code == 400
    assert "Bekreft at du har tatt vare på den private nøkkelen" in resp.text
    assert stored_kids(ida, client_id) == []


def test_a_kid_that_is_not_the_thumbprint_is_refused(ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    client_id = ida.create_system()
    resp = post(ida, client_id, {**rsa_keys[1].public_jwk, "kid": "chosen"}, "chosen")
    assert resp.status_code == 400
    assert "Nøkkel-ID-en stemmer ikke" in resp.text
    assert not ida.recorder.api_calls("PUT", "/jwks")


def test_a_private_jwk_posted_by_mistake_is_refused_and_not_sent(ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    key = rsa_keys[1]
    client_id = ida.create_system()
    resp = post(ida, client_id, key.to_private_jwk(), key.kid)
    assert resp.status_code == 400
    assert "privat nøkkel" in resp.text
    assert key.to_private_jwk()["d"].encode() not in ida.recorder.bodies()
    assert not ida.recorder.api_calls("PUT", "/jwks")


def test_the_script_posts_only_public_members() -> None:
    script = KEYGEN.read_text()
    posted = 'getElementById("public_jwk").value =\n      JSON.stringify({ kty: "RSA", n: pub.n, e: pub.e, kid: kid'
    assert posted in script
    assert "RSASSA-PKCS1-v1_5" in script and '"SHA-256"' in script
    assert "fetch(" not in script and "XMLHttpRequest" not in script and "sendBeacon" not in script


def test_the_key_is_recorded_as_made_in_the_browser(ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    key = rsa_keys[1]
    client_id = ida.create_system()
    assert post(ida, client_id, key.public_jwk, key.kid).status_code == 303
    with ida.store.read() as uow:
        client = uow.get_client(client_id)
    assert client is not None and [k.origin for k in client.keys] == ["browser"]
    assert "origin" not in client.keys[0].jwk, "the origin is the key's record, not a member of the JWK"


def test_the_checkbox_is_checked_by_the_pages_own_script(ida: Stack) -> None:
    """novalidate: no browser bubble; keygen.js shows a ValidationMessage and an ErrorSummary (keycheck.js)."""
    page = key_page(ida, "browser")
    assert re.search(r'<form [^>]*id="keygen"[^>]*\n?[^>]*hidden novalidate', page)
    assert 'data-saved-required="Bekreft at du har tatt vare på den private nøkkelen."' in page
    assert 'data-title-prefix="Feil: "' in page
    assert page.index("/static/keycheck.js") < page.index("/static/keygen.js")
    script = KEYGEN.read_text()
    assert "errors.show(form, saved, form.dataset.savedRequired" in script and "event.preventDefault()" in script


def test_a_refusal_says_feil_in_the_title(ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    client_id = ida.create_system()
    resp = post(ida, client_id, rsa_keys[1].public_jwk, rsa_keys[1].kid, saved="")
    assert "<title>Feil: Lag nøkkelpar i nettleseren" in resp.text
