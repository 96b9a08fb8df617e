"""The key pages in the person's language (item 7): each refusal of a key says why in Norwegian on the Norwegian page
and in English on the English one, never echoing the key; conditions of the key set are alerts; the title says
"Feil: " when a form was refused; the field states its maximum length."""

from __future__ import annotations

import ast
import base64
import json
from pathlib import Path

import pytest

from portvakt.jose import KeyFormatError, PrivateKeyHandle
from portvakt.portal.i18n import CATALOGUES
from portvakt.portal.routes.keys import KEY_ERRORS, PASTE_MAX, key_error

from .keyhelp import public_jwk_text, public_pem
from .stack import Stack

JOSE_KEYS = Path(__file__).resolve().parents[2] / "src" / "portvakt" / "jose" / "keys.py"
#: Functions of jose/keys.py that parse_public_key never calls (a JWK Set, a thumbprint of a stored key, a stored key).
NOT_PASTE_PATHS = ("parse_jwks", "thumbprint", "cryptography_public_key")


def _text(node: ast.expr, constants: dict[str, str]) -> str | None:
    """The message of a KeyFormatError(...) argument: a literal, an f-string (its literal parts), a module constant,
    or a sum of those."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)  # type: ignore[misc]
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.BinOp):
        left, right = _text(node.left, constants), _text(node.right, constants)
        return None if left is None or right is None else left + right
    return None


def jose_messages() -> list[str]:
    """Every message jose/keys.py gives a KeyFormatError."""
    tree = ast.parse(JOSE_KEYS.read_text())
    constants: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            value = _text(node.value, constants)
            if value is not None:
                constants[node.targets[0].id] = value
    found = []
    reachable = [n for n in tree.body if not (isinstance(n, ast.FunctionDef) and n.name in NOT_PASTE_PATHS)]
    for node in (inner for top in reachable for inner in ast.walk(top)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "KeyFormatError" and node.args:
            text = _text(node.args[0], constants)
            if text is not None and not text.startswith("{}"):  # "keys[{index}]: {err}" re-raises one of these
                found.append(text)
    return found


def test_every_refusal_of_the_jose_room_has_its_own_text() -> None:
    messages = jose_messages()
    assert len(messages) >= 15
    unmapped = [m for m in messages if key_error(KeyFormatError(m)) == "key.error.unreadable"]
    assert unmapped == []


def test_every_key_error_text_exists_in_both_languages() -> None:
    for _, key in [*KEY_ERRORS, ("", "key.error.set"), ("", "key.error.unreadable"), ("", "key.error.kid_taken")]:
        assert key in CATALOGUES["nb"] and key in CATALOGUES["en"], key
        assert CATALOGUES["nb"][key] != CATALOGUES["en"][key]


def paste(stack: Stack, client_id: str, text: str) -> str:
    resp = stack.post(f"/portal/systems/{client_id}/keys/paste", {"public_key": text})
    assert resp.status_code == 400
    assert "<title>Feil: " in resp.text or "<title>Error: " in resp.text
    return resp.text


@pytest.fixture(scope="module")
def small_key() -> dict[str, str]:
    """A JWK with a 1024-bit modulus (too small: refused before any other check)."""
    n = (1 << 1023) | 1
    return {"kty": "RSA", "n": base64.urlsafe_b64encode(n.to_bytes(128, "big")).rstrip(b"=").decode(), "e": "AQAB"}


@pytest.mark.parametrize(("case", "nb", "en"), [
    ("pem", "PEM-teksten kunne ikke leses", "The PEM text could not be read"),
    ("json", "JSON-en er ikke gyldig", "The JSON is not valid"),
    ("kty", "JWK-en mangler «kty»", "The JWK has no “kty”"),
    ("set", "Dette er et nøkkelsett (JWKS)", "This is a key set (JWKS)"),
    ("size", "mellom 2048 og 8192 bit", "2048 to 8192 bits"),
    ("exponent", "eksponenten må være 65537", "exponent must be 65537"),
    ("alg", "«alg» må være RS256", "“alg” must be RS256"),
    ("use", "«use» må være «sig»", "“use” must be “sig”"),
    ("kid", "«kid» kan ha 1 til 100 tegn", "“kid” may have 1 to 100 characters"),
])
def test_a_refused_key_says_why_in_the_pages_language_without_echoing_it(
        ida: Stack, rsa_keys: list[PrivateKeyHandle], small_key: dict[str, str], case: str, nb: str, en: str) -> None:
    jwk = rsa_keys[0].public_jwk
    texts = {
        "pem": "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzzzz\n-----END PUBLIC KEY-----",
        "json": '{"kty": "RSA", "n": ',
        "kty": json.dumps({"n": jwk["n"], "e": jwk["e"]}),
        "set": json.dumps({"keys": [jwk]}),
        "size": json.dumps(small_key),
        "exponent": json.dumps({**jwk, "e": "Aw"}),
        "alg": json.dumps({**jwk, "alg": "HS256"}),
        "use": json.dumps({**jwk, "use": "enc"}),
        "kid": json.dumps({**jwk, "kid": "has spaces in it"}),
    }
    client_id = ida.create_system()
    norwegian = paste(ida, client_id, texts[case])
    assert nb in norwegian
    ida.browser.get("/portal/language?lang=en&next=/portal/")
    english = paste(ida, client_id, texts[case])
    assert en in english and nb not in english
    for html in (norwegian, english):
        assert jwk["n"][:40] not in html, "the pasted key is not echoed"
        assert "could not be read" not in html or case == "pem", "no English jose message on the page"
    assert not ida.recorder.api_calls("PUT", "/jwks")


def test_the_field_states_its_maximum_and_a_longer_text_is_refused(ida: Stack,
                                                                  rsa_keys: list[PrivateKeyHandle]) -> None:
    client_id = ida.create_system()
    page = ida.browser.get(f"/portal/systems/{client_id}/keys/paste").text
    assert f'maxlength="{PASTE_MAX}"' in page and "Høyst 10\u00a0000 tegn." in page
    assert 'aria-describedby="public_key-hint"' in page and "<title>Feil: " not in page
    html = paste(ida, client_id, public_pem(rsa_keys[0]) + "\n" * 10 + "x" * PASTE_MAX)
    assert "Teksten er for lang. En offentlig nøkkel er høyst 10\u00a0000 tegn." in html
    assert 'id="public_key-error"' in html


@pytest.fixture(scope="module")
def five_keys() -> list[PrivateKeyHandle]:
    return [PrivateKeyHandle.generate(2048) for _ in range(5)]


def test_a_full_key_set_is_an_alert_on_every_key_page_and_no_form(ida: Stack,
                                                                 five_keys: list[PrivateKeyHandle]) -> None:
    client_id = ida.create_system()
    for handle in five_keys:
        resp = ida.post(f"/portal/systems/{client_id}/keys/paste", {"public_key": public_jwk_text(handle)},
                        follow_redirects=False)
        assert resp.status_code == 303
    for way in ("paste", "browser", "pkcs12"):
        page = ida.browser.get(f"/portal/systems/{client_id}/keys/{way}").text
        assert 'class="ds-alert" data-color="warning" id="key-condition"' in page, way
        assert "Systemet har allerede 5 nøkler" in page and "Fjern en nøkkel på systemsiden" in page
        assert "<form method=\"post\" action=\"/portal/systems/" not in page, way
        assert "ds-error-summary" not in page and "<title>Feil: " not in page


def test_a_key_set_that_kept_changing_is_an_alert(ida: Stack, rsa_keys: list[PrivateKeyHandle],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The If-Match read-modify-write gave up after a second 412: a condition of the set, not of the pasted key."""
    from portvakt.portal.keyset import KeyRefused
    from portvakt.portal.routes import keys

    async def changed(*_: object, **__: object) -> None:
        raise KeyRefused("system.keys.changed")

    monkeypatch.setattr(keys, "register_key", changed)
    client_id = ida.create_system()
    html = paste(ida, client_id, public_jwk_text(rsa_keys[0]))
    assert 'id="key-condition"' in html and "ble endret av noen andre samtidig" in html
    assert "ds-validation-message" not in html
