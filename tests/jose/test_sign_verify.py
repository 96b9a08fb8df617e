"""Signer and Verifier: explicit RS256/384/512 allow-list, tampering detected, PyJWT interoperates."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portvakt.jose import (
    GRANT_ALGORITHMS,
    BadSignature,
    JoseError,
    KeyFormatError,
    MalformedJWT,
    PublicKey,
    Signer,
    UnsupportedAlgorithm,
    Verifier,
    parse_public_key,
    peek,
)

from .conftest import Keys

CLAIMS = {"iss": "client-1", "aud": "https://as.example/", "scope": "a:b c:d", "iat": 1, "exp": 2, "jti": "j"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def seg(value: Any) -> str:
    return b64(json.dumps(value).encode())


def verifier(keys: Keys) -> Verifier:
    return Verifier(parse_public_key(keys.handle.public_jwk))


def test_grant_algorithms() -> None:
    assert GRANT_ALGORITHMS == ("RS256", "RS384", "RS512")


@pytest.mark.parametrize("alg", GRANT_ALGORITHMS)
def test_round_trip(keys: Keys, alg: str) -> None:
    token = Signer(keys.handle, alg=alg).sign(CLAIMS)
    jwt = peek(token)
    assert jwt.header == {"kid": keys.handle.kid, "alg": alg}
    assert jwt.claims == CLAIMS
    Verifier(parse_public_key({k: v for k, v in keys.handle.public_jwk.items() if k != "alg"})).verify(jwt)


def test_header_is_exactly_kid_and_alg_in_that_order(keys: Keys) -> None:
    token = Signer(keys.handle, kid="signing-key-1").sign(CLAIMS)
    raw = base64.urlsafe_b64decode(token.split(".")[0] + "==")
    assert raw == b'{"kid":"signing-key-1","alg":"RS256"}'


def test_claims_are_compact_json(keys: Keys) -> None:
    token = Signer(keys.handle).sign({"name": "Bø AS", "n": [1, 2]})
    assert base64.urlsafe_b64decode(token.split(".")[1] + "==") == '{"name":"Bø AS","n":[1,2]}'.encode()


def test_header_extras(keys: Keys) -> None:
    token = Signer(keys.handle).sign(CLAIMS, header={"typ": "at+jwt"})
    assert peek(token).header == {"kid": keys.handle.kid, "alg": "RS256", "typ": "at+jwt"}
    verifier(keys).verify(peek(token))


@pytest.mark.parametrize("name", ["alg", "kid", "crit", "b64"])
def test_header_extras_may_not_override(keys: Keys, name: str) -> None:
    with pytest.raises(JoseError, match="may not set"):
        Signer(keys.handle).sign(CLAIMS, header={name: "x"})


def test_unserializable_claims(keys: Keys) -> None:
    with pytest.raises(JoseError, match="JSON"):
        Signer(keys.handle).sign({"x": object()})
    with pytest.raises(JoseError, match="JSON"):
        Signer(keys.handle).sign({"x": float("nan")})


@pytest.mark.parametrize("alg", ["none", "HS256", "ES256", "PS256", "rs256", ""])
def test_signer_refuses_other_algorithms(keys: Keys, alg: str) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        Signer(keys.handle, alg=alg)


def test_signer_kid_rules(keys: Keys) -> None:
    assert Signer(keys.handle).kid == keys.handle.kid
    with pytest.raises(KeyFormatError):
        Signer(keys.handle, kid="no spaces")


def _forge(keys: Keys, alg: str) -> str:
    """A token whose header claims `alg`, signed the way that alg would be (or not at all)."""
    head_claims = f"{seg({'kid': keys.handle.kid, 'alg': alg})}.{seg(CLAIMS)}".encode()
    public_pem = keys.rsa.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    if alg == "none":
        sig = b""
    elif alg == "HS256":  # the classic confusion: HMAC keyed with the public key
        sig = hmac.new(public_pem, head_claims, hashlib.sha256).digest()
    elif alg == "ES256":
        sig = ec.generate_private_key(ec.SECP256R1()).sign(head_claims, ec.ECDSA(hashes.SHA256()))
    else:  # PS256 with the right RSA key
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        sig = keys.rsa.sign(head_claims, pss, hashes.SHA256())
    return f"{head_claims.decode()}.{b64(sig)}"


@pytest.mark.parametrize("alg", ["none", "HS256", "ES256", "PS256"])
def test_verify_refuses_algorithms_off_the_list(keys: Keys, alg: str) -> None:
    with pytest.raises(UnsupportedAlgorithm) as err:
        verifier(keys).verify(peek(_forge(keys, alg)))
    assert "RS256, RS384, RS512" in str(err.value)


@pytest.mark.parametrize("alg", ["none", "HS256", "ES256", "PS256"])
def test_verify_refuses_even_if_caller_allows_them(keys: Keys, alg: str) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        verifier(keys).verify(peek(_forge(keys, alg)), algorithms=[alg, "RS256"])


def test_verify_honours_a_narrower_allow_list(keys: Keys) -> None:
    token = Signer(keys.handle, alg="RS512").sign(CLAIMS)
    key = parse_public_key({k: v for k, v in keys.handle.public_jwk.items() if k != "alg"})
    Verifier(key).verify(peek(token))
    with pytest.raises(UnsupportedAlgorithm, match=r"accepted: RS256$"):
        Verifier(key).verify(peek(token), algorithms=("RS256",))


def test_verify_honours_the_keys_registered_alg(keys: Keys) -> None:
    token = Signer(keys.handle, alg="RS384").sign(CLAIMS)
    with pytest.raises(UnsupportedAlgorithm, match="registered alg"):
        verifier(keys).verify(peek(token))  # public_jwk says alg RS256


def test_tampered_payload(keys: Keys) -> None:
    head, _, sig = Signer(keys.handle).sign(CLAIMS).split(".")
    with pytest.raises(BadSignature):
        verifier(keys).verify(peek(f"{head}.{seg({**CLAIMS, 'scope': 'admin'})}.{sig}"))


def test_tampered_header(keys: Keys) -> None:
    _, body, sig = Signer(keys.handle).sign(CLAIMS).split(".")
    with pytest.raises(BadSignature):
        verifier(keys).verify(peek(f"{seg({'alg': 'RS256', 'kid': 'other'})}.{body}.{sig}"))


@pytest.mark.parametrize("signature", ["", "AAAA", None])
def test_tampered_signature(keys: Keys, signature: str | None) -> None:
    head, body, sig = Signer(keys.handle).sign(CLAIMS).split(".")
    if signature is None:
        raw = bytearray(base64.urlsafe_b64decode(sig + "=="))
        raw[10] ^= 1
        signature = b64(bytes(raw))
    with pytest.raises(BadSignature) as err:
        verifier(keys).verify(peek(f"{head}.{body}.{signature}"))
    assert sig not in str(err.value)
    assert err.value.__cause__ is None


def test_other_key(keys: Keys) -> None:
    token = Signer(keys.other_handle).sign(CLAIMS)
    with pytest.raises(BadSignature):
        verifier(keys).verify(peek(token))


def test_verifier_refuses_a_bad_public_key() -> None:
    with pytest.raises(KeyFormatError):
        Verifier(PublicKey(jwk={"kty": "EC"}, kid="x", bits=256))
    with pytest.raises(KeyFormatError):
        Verifier(PublicKey(jwk={"kty": "RSA", "n": "AQAB", "e": "AQAB"}, kid="x", bits=17))


def test_pyjwt_verifies_our_token(keys: Keys) -> None:
    token = Signer(keys.handle).sign(CLAIMS)
    key = pyjwt.PyJWK(keys.handle.public_jwk).key
    decoded = pyjwt.decode(token, key, algorithms=["RS256"], options={"verify_aud": False, "verify_exp": False})
    assert decoded == CLAIMS
    assert pyjwt.get_unverified_header(token) == {"kid": keys.handle.kid, "alg": "RS256"}


@pytest.mark.parametrize("alg", GRANT_ALGORITHMS)
def test_we_verify_a_pyjwt_grant(keys: Keys, alg: str) -> None:
    pem = keys.rsa.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    token = pyjwt.encode(CLAIMS, pem, algorithm=alg, headers={"kid": "vendor-key"})
    key = parse_public_key(keys.rsa.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    Verifier(key).verify(peek(token))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(0, 10_000), char=st.sampled_from("ABCDEFabcdef0123456789-_"))
def test_any_single_change_fails_to_verify(keys: Keys, position: int, char: str) -> None:
    token = Signer(keys.handle).sign(CLAIMS)
    i = position % len(token)
    if token[i] == "." or token[i] == char:
        return
    mutated = token[:i] + char + token[i + 1 :]
    try:
        verifier(keys).verify(peek(mutated))
    except (MalformedJWT, UnsupportedAlgorithm, BadSignature):
        return
    pytest.fail("a changed token verified")
