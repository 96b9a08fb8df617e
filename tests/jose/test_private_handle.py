"""PrivateKeyHandle: generate, PKCS#8/PKCS#1 PEM in, PKCS#8 PEM out (optionally encrypted), private JWK."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from portvakt.jose import KeyFormatError, PrivateKeyHandle, parse_public_key, thumbprint

from .conftest import Keys


def test_public_jwk_and_kid(keys: Keys) -> None:
    handle = keys.handle
    jwk = handle.public_jwk
    assert set(jwk) == {"kty", "n", "e", "kid", "alg", "use"}
    assert (jwk["kty"], jwk["alg"], jwk["use"], jwk["kid"]) == ("RSA", "RS256", "sig", handle.kid)
    assert handle.kid == thumbprint(jwk)
    assert handle.bits == 2048
    pem = keys.rsa.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    assert parse_public_key(pem).kid == handle.kid


def test_public_jwk_is_a_copy(keys: Keys) -> None:
    keys.handle.public_jwk["kid"] = "changed"
    assert keys.handle.public_jwk["kid"] == keys.handle.kid


def test_repr_shows_no_material(keys: Keys) -> None:
    text = repr(keys.handle)
    assert keys.handle.kid in text
    for member in ("n", "d", "p", "q"):
        assert keys.handle.to_private_jwk()[member] not in text


def test_pem_round_trip_without_password(keys: Keys) -> None:
    pem = keys.handle.to_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert PrivateKeyHandle.from_pem(pem).kid == keys.handle.kid


def test_pem_round_trip_with_password(keys: Keys) -> None:
    pem = keys.handle.to_pem(b"correct horse")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert PrivateKeyHandle.from_pem(pem, b"correct horse").kid == keys.handle.kid


def test_wrong_password(keys: Keys) -> None:
    pem = keys.handle.to_pem(b"correct horse")
    with pytest.raises(KeyFormatError) as err:
        PrivateKeyHandle.from_pem(pem, b"wrong horse")
    assert "password" in str(err.value)
    assert "horse" not in str(err.value)
    assert err.value.__cause__ is None


def test_missing_and_superfluous_password(keys: Keys) -> None:
    with pytest.raises(KeyFormatError, match="no password was given"):
        PrivateKeyHandle.from_pem(keys.handle.to_pem(b"pw"))
    with pytest.raises(KeyFormatError, match="not encrypted"):
        PrivateKeyHandle.from_pem(keys.handle.to_pem(), b"pw")


def test_empty_password_refused(keys: Keys) -> None:
    with pytest.raises(KeyFormatError, match="empty"):
        keys.handle.to_pem(b"")


def test_pkcs1_and_encrypted_pkcs1(keys: Keys) -> None:
    plain = keys.rsa.private_bytes(Encoding.PEM, PrivateFormat.TraditionalOpenSSL, NoEncryption())
    assert plain.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert PrivateKeyHandle.from_pem(plain).kid == keys.handle.kid
    locked = keys.rsa.private_bytes(Encoding.PEM, PrivateFormat.TraditionalOpenSSL, BestAvailableEncryption(b"pw"))
    assert PrivateKeyHandle.from_pem(locked, b"pw").kid == keys.handle.kid


@pytest.mark.parametrize("data", [b"", b"garbage", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"])
def test_unreadable_pem(data: bytes) -> None:
    with pytest.raises(KeyFormatError):
        PrivateKeyHandle.from_pem(data)


def test_public_pem_is_not_a_private_key(keys: Keys) -> None:
    with pytest.raises(KeyFormatError):
        PrivateKeyHandle.from_pem(keys.rsa.public_key().public_bytes(Encoding.PEM, PublicFormat.PKCS1))


def test_non_rsa_and_small_keys_refused(keys: Keys) -> None:
    ec_pem = keys.ec.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    with pytest.raises(KeyFormatError, match="only RSA"):
        PrivateKeyHandle.from_pem(ec_pem)
    small = keys.small_rsa.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    with pytest.raises(KeyFormatError, match="2048 to 8192"):
        PrivateKeyHandle.from_pem(small)


def test_str_input_refused(keys: Keys) -> None:
    with pytest.raises(KeyFormatError, match="bytes"):
        PrivateKeyHandle.from_pem(keys.handle.to_pem().decode())  # type: ignore[arg-type]


@pytest.mark.parametrize("bits", [1024, 2047, 2049, 8200, 16384])
def test_generate_refuses_bad_sizes(bits: int) -> None:
    with pytest.raises(KeyFormatError, match="bits"):
        PrivateKeyHandle.generate(bits)


def test_private_jwk(keys: Keys) -> None:
    jwk = keys.handle.to_private_jwk()
    assert {"kty", "n", "e", "d", "p", "q", "dp", "dq", "qi", "kid", "alg", "use"} <= set(jwk)
    assert jwk["kid"] == keys.handle.kid
    public = {k: jwk[k] for k in ("kty", "n", "e")}
    assert parse_public_key(public).kid == keys.handle.kid
