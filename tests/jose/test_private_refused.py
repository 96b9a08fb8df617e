"""Private key material in any form is refused before parsing, and the error never echoes the input."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from portvakt.jose import KeyFormatError, PrivateKeyRefused, parse_jwks, parse_public_key

from .conftest import Keys, assert_no_echo


def _pem(key: Any, fmt: PrivateFormat, password: bytes | None = None) -> bytes:
    enc = BestAvailableEncryption(password) if password else NoEncryption()
    return bytes(key.private_bytes(Encoding.PEM, fmt, enc))


PRIVATE_INPUTS: dict[str, Callable[[Keys], Any]] = {
    "pkcs8 pem": lambda k: _pem(k.rsa, PrivateFormat.PKCS8),
    "pkcs1 RSA PRIVATE KEY": lambda k: _pem(k.rsa, PrivateFormat.TraditionalOpenSSL),
    "encrypted pkcs8": lambda k: _pem(k.rsa, PrivateFormat.PKCS8, b"secret-pw"),
    "encrypted pkcs1": lambda k: _pem(k.rsa, PrivateFormat.TraditionalOpenSSL, b"secret-pw"),
    "ec pkcs8": lambda k: _pem(k.ec, PrivateFormat.PKCS8),
    "EC PRIVATE KEY": lambda k: _pem(k.ec, PrivateFormat.TraditionalOpenSSL),
    "openssh": lambda k: _pem(k.rsa, PrivateFormat.OpenSSH),
    "pkcs8 pem as str": lambda k: _pem(k.rsa, PrivateFormat.PKCS8).decode(),
    "public then private pem": lambda k: (
        k.rsa.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        + _pem(k.other_rsa, PrivateFormat.PKCS8)
    ),
    "private jwk dict": lambda k: k.handle.to_private_jwk(),
    "private jwk json": lambda k: json.dumps(k.handle.to_private_jwk()),
    "private jwk json bytes": lambda k: json.dumps(k.handle.to_private_jwk()).encode(),
    "jwk with only d": lambda k: {**k.handle.public_jwk, "d": k.handle.to_private_jwk()["d"]},
    "jwk with only p": lambda k: {**k.handle.public_jwk, "p": k.handle.to_private_jwk()["p"]},
    "ec jwk with d": lambda k: {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "d": "c2VjcmV0LWQtdmFsdWU"},
    "escaped d member": lambda k: json.dumps(k.handle.public_jwk)[:-1] + ', "\\u0064": "c2VjcmV0LWQ"}',
    "oct jwk": lambda k: {"kty": "oct", "k": "c2VjcmV0LWhtYWMta2V5LXZhbHVl"},
    "k without kty": lambda k: {"k": "c2VjcmV0LWhtYWMta2V5LXZhbHVl"},
    "pem inside a jwk member": lambda k: {
        **k.handle.public_jwk,
        "x-note": _pem(k.rsa, PrivateFormat.PKCS8).decode(),
    },
}


def _secret_parts(keys: Keys) -> list[str]:
    """Private values that must never appear in a message."""
    jwk = keys.handle.to_private_jwk()
    return [jwk[m] for m in ("d", "p", "q", "dp", "dq", "qi")]


@pytest.mark.parametrize("name", sorted(PRIVATE_INPUTS))
def test_private_material_refused(keys: Keys, name: str) -> None:
    data = PRIVATE_INPUTS[name](keys)
    with pytest.raises(PrivateKeyRefused) as err:
        parse_public_key(data)
    message = str(err.value)
    assert "private key material" in message
    assert err.value.__cause__ is None
    assert err.value.__context__ is None
    text = json.dumps(data) if isinstance(data, dict) else data
    assert_no_echo(message, text)
    assert_no_echo(repr(err.value), text)
    for secret in _secret_parts(keys):
        assert secret not in message


@pytest.mark.parametrize("name", sorted(PRIVATE_INPUTS))
def test_private_material_refused_even_with_kid(keys: Keys, name: str) -> None:
    with pytest.raises(PrivateKeyRefused):
        parse_public_key(PRIVATE_INPUTS[name](keys), kid="bad kid with spaces")


def test_private_refused_is_a_key_format_error() -> None:
    assert issubclass(PrivateKeyRefused, KeyFormatError)


def test_jwks_with_one_private_key_refused(keys: Keys) -> None:
    jwks = {"keys": [keys.other_handle.public_jwk, keys.handle.to_private_jwk()]}
    for data in (jwks, json.dumps(jwks), json.dumps(jwks).encode()):
        with pytest.raises(PrivateKeyRefused) as err:
            parse_jwks(data)
        assert_no_echo(str(err.value), json.dumps(jwks))


def test_jwks_with_oct_key_refused(keys: Keys) -> None:
    with pytest.raises(PrivateKeyRefused):
        parse_jwks({"keys": [keys.other_handle.public_jwk, {"kty": "oct", "k": "AAAA"}]})


def test_other_key_errors_do_not_echo_input(keys: Keys) -> None:
    small: rsa.RSAPrivateKey = keys.small_rsa
    cases: list[str | bytes] = [
        small.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo),
        json.dumps({**keys.handle.public_jwk, "alg": "PS256"}),
        json.dumps({**keys.handle.public_jwk, "n": keys.handle.public_jwk["n"][:-3] + "+++"}),
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAnotakey\n-----END PUBLIC KEY-----",
    ]
    for data in cases:
        with pytest.raises(KeyFormatError) as err:
            parse_public_key(data)
        assert_no_echo(str(err.value), data)
