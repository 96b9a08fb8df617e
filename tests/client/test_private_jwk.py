"""portvakt.client loads a private JWK file (RFC 7518 §6.3.2), the JSON the portal's browser key pair offers: the
key, and its kid (the JWK's own, else the RFC 7638 thumbprint); a refusal never shows key material."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portvakt.client import key_file_kind, load_private_jwk, load_private_key
from portvakt.jose import KeyFormatError, PrivateKeyHandle, Signer, Verifier, parse_public_key, peek


@pytest.fixture(scope="module")
def handle() -> PrivateKeyHandle:
    return PrivateKeyHandle.generate(2048)


def browser_jwk(handle: PrivateKeyHandle) -> dict[str, Any]:
    """The private JWK as keygen.js writes it: WebCrypto's RSA members, kid = RFC 7638 thumbprint, alg, use."""
    jwk = handle.to_private_jwk()
    return {m: jwk[m] for m in ("kty", "n", "e", "d", "p", "q", "dp", "dq", "qi")} | {
        "kid": handle.kid, "alg": "RS256", "use": "sig"}


def write(tmp_path: Path, doc: object, name: str = "portvakt-abc-private.jwk.json", indent: int | None = 2) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=indent) + "\n")
    return path


def test_the_browser_jwk_loads_with_its_kid_and_signs(tmp_path: Path, handle: PrivateKeyHandle) -> None:
    path = write(tmp_path, browser_jwk(handle))
    assert key_file_kind(path) == "jwk"
    loaded, kid = load_private_jwk(path)
    assert kid == handle.kid and loaded.kid == handle.kid and loaded.public_jwk == handle.public_jwk
    token = Signer(loaded, kid=kid).sign({"iss": "x"})
    Verifier(parse_public_key(handle.public_jwk)).verify(peek(token))
    assert load_private_key(path).kid == handle.kid, "load_private_key takes it too (no password)"


def test_the_kid_is_the_jwks_own_else_the_thumbprint(tmp_path: Path, handle: PrivateKeyHandle) -> None:
    own = browser_jwk(handle) | {"kid": "my-key-2025"}
    assert load_private_jwk(write(tmp_path, own, "own.json"))[1] == "my-key-2025"
    bare = {k: v for k, v in browser_jwk(handle).items() if k not in ("kid", "alg", "use")}
    assert load_private_jwk(write(tmp_path, bare, "bare.json", indent=None))[1] == handle.kid


def test_a_byte_order_mark_and_leading_space_are_fine(tmp_path: Path, handle: PrivateKeyHandle) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf\n  " + json.dumps(browser_jwk(handle)).encode())
    assert key_file_kind(path) == "jwk" and load_private_jwk(path)[1] == handle.kid


def secret_members(handle: PrivateKeyHandle) -> list[str]:
    jwk = handle.to_private_jwk()
    return [jwk[m] for m in ("d", "p", "q", "dp", "dq", "qi")]


@pytest.mark.parametrize(("change", "message"), [
    (lambda j: {k: v for k, v in j.items() if k != "qi"}, '"qi" is missing'),
    (lambda j: {k: v for k, v in j.items() if k != "d"}, '"d" is missing'),
    (lambda j: j | {"kty": "EC"}, "only RSA private JWKs"),
    (lambda j: j | {"alg": "ES256"}, '"alg" must be RS256, RS384 or RS512'),
    (lambda j: j | {"kid": 7}, '"kid" must be a non-empty string'),
    (lambda j: j | {"oth": []}, "multi-prime"),
    (lambda j: j | {"dp": "!!not base64!!"}, '"dp" is not base64url'),
    (lambda j: j | {"d": j["dp"]}, "not a valid RSA private key"),
    (lambda j: {"keys": [j]}, "is a JWK Set"),
    (lambda j: [j], "must hold one JSON object"),
])
def test_a_bad_jwk_is_refused_readably_without_its_material(tmp_path: Path, handle: PrivateKeyHandle,
                                                            change: Any, message: str) -> None:
    path = write(tmp_path, change(browser_jwk(handle)))
    with pytest.raises(KeyFormatError, match=message) as refused:
        load_private_key(path)
    for secret in secret_members(handle):
        assert secret not in str(refused.value) and secret[:16] not in str(refused.value)


def test_broken_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"kty": "RSA", "d": ')
    with pytest.raises(KeyFormatError, match="is not valid JSON"):
        load_private_key(path)


def test_a_public_jwk_is_not_a_private_key(tmp_path: Path, handle: PrivateKeyHandle) -> None:
    with pytest.raises(KeyFormatError, match='"d" is missing'):
        load_private_jwk(write(tmp_path, handle.public_jwk))
