"""Way 1 (decision P10): paste a public key as PEM or JWK; a private key is refused by the portal with an
explanation and never passed on; at most 5 keys; expired keys are not renewed."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from portvakt.domain.clients import replace_client_keys
from portvakt.jose import PrivateKeyHandle

from .keyhelp import key_page, public_jwk_text, public_pem, stored_kids, token
from .stack import OP, Stack


@pytest.fixture(scope="module")
def spare_keys() -> list[PrivateKeyHandle]:
    return [PrivateKeyHandle.generate(2048) for _ in range(4)]


def paste(stack: Stack, client_id: str, text: str, **kw: Any) -> httpx.Response:
    return stack.post(f"/portal/systems/{client_id}/keys/paste", {"public_key": text}, **kw)


@pytest.mark.parametrize("form", ["pem", "jwk"])
def test_a_pasted_public_key_is_registered_and_gets_a_token(ida: Stack, rsa_keys: list[PrivateKeyHandle],
                                                           form: str) -> None:
    key = rsa_keys[0]
    client_id = ida.create_system()
    assert token(ida, client_id, key).status_code == 400, "no key, no token"
    text = public_pem(key) if form == "pem" else public_jwk_text(key)
    resp = paste(ida, client_id, text, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == f"/portal/systems/{client_id}?added={key.kid}"
    page = ida.browser.get(resp.headers["location"]).text
    assert f"Nøkkelen {key.kid} er registrert" in page
    assert "Gyldig nøkkel" in page and "Systemet kan ikke hente tokens" not in page
    assert f"--client-id {client_id}" in page and f"--kid {key.kid}" in page
    assert f'client_id=&#34;{client_id}&#34;' in page
    assert stored_kids(ida, client_id) == [key.kid]
    assert token(ida, client_id, key).status_code == 200


@pytest.mark.parametrize("private", ["pem", "pkcs1", "jwk", "jwk-in-set"])
def test_a_pasted_private_key_is_refused_and_never_sent(ida: Stack, rsa_keys: list[PrivateKeyHandle],
                                                        private: str) -> None:
    key = rsa_keys[0]
    client_id = ida.create_system()
    texts = {"pem": key.to_pem().decode(),
             "pkcs1": key.to_pem().decode().replace("BEGIN PRIVATE KEY", "BEGIN RSA PRIVATE KEY"),
             "jwk": json.dumps(key.to_private_jwk()),
             "jwk-in-set": json.dumps({"keys": [key.to_private_jwk()]})}
    before = len(ida.recorder.requests)
    resp = paste(ida, client_id, texts[private])
    assert resp.status_code == 400
    html = resp.text
    assert "Dette er en privat nøkkel" in html and "verken lagret eller sendt videre" in html
    assert 'id="public_key-error"' in html and 'aria-invalid="true"' in html
    assert key.to_private_jwk()["d"] not in html and "PRIVATE KEY-----" not in html, "not echoed back"
    after = ida.recorder.requests[before:]
    assert not [r for r in after if r.method in ("PUT", "POST") and "jwks" in r.url.path]
    assert b"PRIVATE KEY" not in ida.recorder.bodies()
    assert key.to_private_jwk()["d"].encode() not in ida.recorder.bodies()
    assert stored_kids(ida, client_id) == []


@pytest.mark.parametrize(("text", "says"), [
    ("", "Lim inn en offentlig nøkkel"),
    ("hello", "Dette er ikke en offentlig nøkkel vi kan lese"),
    ('{"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}', "Bare RSA-nøkler godtas"),
])
def test_unreadable_input_is_explained(ida: Stack, text: str, says: str) -> None:
    client_id = ida.create_system()
    resp = paste(ida, client_id, text)
    assert resp.status_code == 400
    assert says in resp.text
    assert "<title>Feil: " in resp.text
    assert not ida.recorder.api_calls("PUT", "/jwks")


def test_keys_are_added_not_replaced_and_duplicates_are_refused(ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    client_id = ida.create_system()
    paste(ida, client_id, public_pem(rsa_keys[0]))
    paste(ida, client_id, public_jwk_text(rsa_keys[1]))
    assert stored_kids(ida, client_id) == [rsa_keys[0].kid, rsa_keys[1].kid]
    again = paste(ida, client_id, public_pem(rsa_keys[1]))
    assert again.status_code == 400
    assert "allerede registrert" in again.text
    assert token(ida, client_id, rsa_keys[0]).status_code == 200
    assert token(ida, client_id, rsa_keys[1]).status_code == 200


def test_at_most_five_keys(ida: Stack, rsa_keys: list[PrivateKeyHandle], spare_keys: list[PrivateKeyHandle]) -> None:
    client_id = ida.create_system()
    five = [rsa_keys[0], rsa_keys[1], *spare_keys[:3]]
    for key in five:
        assert paste(ida, client_id, public_pem(key), follow_redirects=False).status_code == 303
    page = ida.browser.get(f"/portal/systems/{client_id}").text
    assert "Systemet har 5 nøkler" in page and "keys/paste" not in page
    resp = paste(ida, client_id, public_pem(spare_keys[3]))
    assert resp.status_code == 400
    assert "allerede 5 nøkler" in resp.text
    assert stored_kids(ida, client_id) == [k.kid for k in five]
    assert 'class="ds-alert" data-color="warning" id="key-condition"' in resp.text, "a condition, as an alert"
    assert "ds-validation-message" not in resp.text and "ds-error-summary" not in resp.text


def test_expired_keys_are_dropped_not_renewed(ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    client_id = ida.create_system()
    old = rsa_keys[0]
    long_ago = ida.runtime.clock.now() - timedelta(days=400)
    with ida.store.begin() as uow:
        replace_client_keys(uow, client_id, [(old.kid, old.public_jwk)], OP, long_ago)
    ida.runtime.registry.refresh()
    page = ida.browser.get(f"/portal/systems/{client_id}").text
    assert "Systemet kan ikke hente tokens" in page and "Nøkkelen er utløpt" in page
    assert paste(ida, client_id, public_pem(rsa_keys[1]), follow_redirects=False).status_code == 303
    assert stored_kids(ida, client_id) == [rsa_keys[1].kid]
    assert token(ida, client_id, old).status_code == 400


def test_the_key_is_recorded_as_pasted(ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    client_id = ida.create_system()
    assert paste(ida, client_id, public_pem(rsa_keys[0]), follow_redirects=False).status_code == 303
    jwks = ida.recorder.api_calls("PUT", "/jwks")[-1]
    [sent] = json.loads(jwks.content)["keys"]
    assert sent["origin"] == "paste"
    with ida.store.read() as uow:
        client = uow.get_client(client_id)
    assert client is not None and [k.origin for k in client.keys] == ["paste"]


def test_of_a_pasted_certificate_the_public_key_is_registered(ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    """A system signs with its own key, never a certificate (docs/protocol.md §3.2): the certificate's key it is."""
    from tests.api.v1.test_jwks import self_signed_certificate

    key = rsa_keys[0]
    client_id = ida.create_system()
    resp = paste(ida, client_id, self_signed_certificate(key), follow_redirects=False)
    assert resp.status_code == 303, resp.text
    with ida.store.read() as uow:
        client = uow.get_client(client_id)
    assert client is not None and "x5c" not in client.keys[0].jwk
    assert token(ida, client_id, key).status_code == 200


def test_the_pages_own_script_is_on_the_page(ida: Stack) -> None:
    page = key_page(ida, "paste")
    assert '<script src="/portal/static/keycheck.js"></script>' in page
    assert 'id="paste-form" novalidate' in page
    assert 'data-private="Dette er en privat nøkkel. Den ble ikke sendt, og feltet er tømt.' in page


def test_two_keys_pasted_at_the_same_time_are_both_kept(ida: Stack, spare_keys: list[PrivateKeyHandle]) -> None:
    """Each way adds its key with the key set's If-Match read-modify-write: no addition overwrites another."""
    import asyncio

    from .stack import PORTAL_URL

    client_id = ida.create_system()
    csrf = ida.csrf("/portal/")
    path = f"/portal/systems/{client_id}/keys/paste"

    async def both() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ida.browser.app), base_url=PORTAL_URL,
                                     cookies=dict(ida.browser.cookies)) as http:
            return list(await asyncio.gather(*(
                http.post(path, data={"public_key": public_pem(k), "csrf_token": csrf}) for k in spare_keys[:2])))

    assert [r.status_code for r in asyncio.run(both())] == [303, 303]
    assert sorted(stored_kids(ida, client_id)) == sorted(k.kid for k in spare_keys[:2])
    assert all(r.headers.get("if-match") for r in ida.recorder.api_calls("PUT", "/jwks"))
