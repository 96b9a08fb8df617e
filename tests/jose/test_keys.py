"""parse_public_key / parse_jwks / thumbprint: the accepted forms and every rule (RFC 7517, 7518, 7638)."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st
from joserfc.util import int_to_base64

from portvakt.jose import KeyFormatError, PublicKey, parse_jwks, parse_public_key, thumbprint

from .conftest import RFC7638_E, RFC7638_N, RFC7638_THUMBPRINT, Keys


def public_jwk(key: rsa.RSAPrivateKey, **extra: Any) -> dict[str, Any]:
    numbers = key.public_key().public_numbers()
    return {"kty": "RSA", "n": int_to_base64(numbers.n), "e": int_to_base64(numbers.e), **extra}


def test_thumbprint_matches_rfc7638_example() -> None:
    jwk = {"kty": "RSA", "n": RFC7638_N, "e": RFC7638_E, "alg": "RS256", "kid": "2011-04-29"}
    assert thumbprint(jwk) == RFC7638_THUMBPRINT


def test_rfc7638_key_without_kid_gets_thumbprint_kid() -> None:
    key = parse_public_key({"kty": "RSA", "n": RFC7638_N, "e": RFC7638_E})
    assert key.kid == RFC7638_THUMBPRINT
    assert key.bits == 2048
    assert key.jwk == {"kty": "RSA", "n": RFC7638_N, "e": RFC7638_E, "kid": RFC7638_THUMBPRINT}


@pytest.mark.parametrize("jwk", [{"kty": "EC", "n": "x", "e": "AQAB"}, {"n": "x", "e": "AQAB"}, {"kty": "RSA"}])
def test_thumbprint_needs_rsa_members(jwk: dict[str, Any]) -> None:
    with pytest.raises(KeyFormatError):
        thumbprint(jwk)


def test_pem_spki(keys: Keys) -> None:
    pem = keys.rsa.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    key = parse_public_key(pem)
    assert key.jwk == {**public_jwk(keys.rsa), "kid": keys.handle.kid, "use": "sig"}
    assert key.kid == keys.handle.kid
    assert key.bits == 2048
    assert parse_public_key(pem.decode()) == key


def test_pem_pkcs1(keys: Keys) -> None:
    pem = keys.rsa.public_key().public_bytes(Encoding.PEM, PublicFormat.PKCS1)
    assert b"BEGIN RSA PUBLIC KEY" in pem
    assert parse_public_key(pem, kid="k1").jwk == {**public_jwk(keys.rsa), "kid": "k1", "use": "sig"}


def test_pem_with_surrounding_text(keys: Keys) -> None:
    pem = keys.rsa.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    assert parse_public_key("\ufeffmy key:\n" + pem + "\n").kid == keys.handle.kid


def test_certificate_gives_x5c(keys: Keys) -> None:
    pem = keys.cert.public_bytes(Encoding.PEM)
    key = parse_public_key(pem)
    assert key.kid == keys.handle.kid
    assert key.jwk["x5c"] == [base64.b64encode(keys.cert.public_bytes(Encoding.DER)).decode()]
    assert base64.b64decode(key.jwk["x5c"][0], validate=True) == keys.cert.public_bytes(Encoding.DER)
    assert set(key.jwk) == {"kty", "n", "e", "kid", "use", "x5c"}


def test_certificate_chain_refused(keys: Keys) -> None:
    pem = keys.cert.public_bytes(Encoding.PEM) * 2
    with pytest.raises(KeyFormatError, match="one PEM certificate"):
        parse_public_key(pem)


def test_ec_certificate_refused(keys: Keys) -> None:
    with pytest.raises(KeyFormatError, match="only RSA keys"):
        parse_public_key(keys.ec_cert.public_bytes(Encoding.PEM))


def test_jwk_dict_and_json(keys: Keys) -> None:
    jwk = public_jwk(keys.rsa, kid="client-key.1", alg="RS256", use="sig", key_ops=["verify"], ext=True)
    key = parse_public_key(jwk)
    assert key == PublicKey(
        jwk={**public_jwk(keys.rsa), "kid": "client-key.1", "alg": "RS256", "use": "sig"},
        kid="client-key.1",
        bits=2048,
    )
    assert parse_public_key(json.dumps(jwk)) == key
    assert parse_public_key(json.dumps(jwk).encode()) == key


def test_jwk_leading_zero_is_normalised(keys: Keys) -> None:
    jwk = public_jwk(keys.rsa)
    padded = base64.urlsafe_b64encode(b"\0" + base64.urlsafe_b64decode(jwk["n"] + "==")).rstrip(b"=")
    key = parse_public_key({**jwk, "n": padded.decode()})
    assert key.jwk["n"] == jwk["n"]
    assert key.kid == keys.handle.kid


def test_kid_argument_wins(keys: Keys) -> None:
    assert parse_public_key(public_jwk(keys.rsa, kid="own"), kid="given").kid == "given"


@pytest.mark.parametrize("kid", ["", "a" * 101, "has space", "slash/kid", "æøå", "kid\n"])
def test_bad_kid_refused(keys: Keys, kid: str) -> None:
    with pytest.raises(KeyFormatError, match="kid"):
        parse_public_key(public_jwk(keys.rsa), kid=kid)
    with pytest.raises(KeyFormatError, match="kid"):
        parse_public_key(public_jwk(keys.rsa, kid=kid))


@pytest.mark.parametrize("kid", ["a", "A-z_0.9", "x" * 100])
def test_good_kid_accepted(keys: Keys, kid: str) -> None:
    assert parse_public_key(public_jwk(keys.rsa), kid=kid).kid == kid


def test_non_string_kid_refused(keys: Keys) -> None:
    with pytest.raises(KeyFormatError, match="kid"):
        parse_public_key(public_jwk(keys.rsa, kid=7))


def test_small_rsa_refused(keys: Keys) -> None:
    pem = keys.small_rsa.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(KeyFormatError, match="2048 to 8192 bits"):
        parse_public_key(pem)
    with pytest.raises(KeyFormatError, match="2048 to 8192 bits"):
        parse_public_key(public_jwk(keys.small_rsa))


def test_huge_modulus_refused() -> None:
    n = int_to_base64((1 << 8193) | 1)
    with pytest.raises(KeyFormatError, match="2048 to 8192 bits"):
        parse_public_key({"kty": "RSA", "n": n, "e": "AQAB"})


@pytest.mark.parametrize("e", [1, 2, 4, 65536])
def test_bad_exponent_refused(e: int) -> None:
    with pytest.raises(KeyFormatError, match="exponent"):
        parse_public_key({"kty": "RSA", "n": RFC7638_N, "e": int_to_base64(e)})


def test_ec_keys_refused(keys: Keys) -> None:
    pem = keys.ec.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    for data in (pem, {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}, {"kty": "OKP", "crv": "Ed25519"}):
        with pytest.raises(KeyFormatError, match=r"only RSA keys are accepted.*RS256, RS384 or RS512"):
            parse_public_key(data)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"alg": "PS256"}, "alg"),
        ({"alg": "HS256"}, "alg"),
        ({"use": "enc"}, "use"),
        ({"key_ops": ["encrypt"]}, "key_ops"),
        ({"n": ""}, "n and e"),
        ({"n": 5}, "n and e"),
        ({"n": "a+b/"}, "base64url"),
        ({"e": "AQAB="}, "base64url"),
        ({"kty": None}, "kty"),
    ],
)
def test_jwk_member_rules(keys: Keys, change: dict[str, Any], match: str) -> None:
    with pytest.raises(KeyFormatError, match=match):
        parse_public_key({**public_jwk(keys.rsa), **change})


@pytest.mark.parametrize(
    "data",
    [
        "",
        "hello",
        b"\xff\xfe\x00",
        "{not json",
        "[1, 2]",
        '{"kty": "RSA", "kty": "RSA"}',
        '{"kty": "RSA", "n": NaN}',
        "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        12,
    ],
)
def test_unparseable_refused(data: Any) -> None:
    with pytest.raises(KeyFormatError) as err:
        parse_public_key(data)
    assert err.value.__cause__ is None


def test_jwks(keys: Keys) -> None:
    jwks = {"keys": [public_jwk(keys.rsa, kid="a"), keys.other_handle.public_jwk]}
    parsed = parse_jwks(jwks)
    assert [k.kid for k in parsed] == ["a", keys.other_handle.kid]
    assert parse_jwks(json.dumps(jwks)) == parsed
    assert parse_jwks({"keys": []}) == []


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"kty": "RSA"}, '"keys" array'),
        ({"keys": {}}, '"keys" array'),
        ({"keys": [1]}, r"keys\[0\] is not a JSON object"),
        ({"keys": [{"kty": "EC"}]}, r"keys\[0\]: only RSA"),
        ("[]", "JSON"),
    ],
)
def test_jwks_rules(data: Any, match: str) -> None:
    with pytest.raises(KeyFormatError, match=match):
        parse_jwks(data)


def test_jwks_duplicate_kids_refused(keys: Keys) -> None:
    with pytest.raises(KeyFormatError, match="same kid"):
        parse_jwks({"keys": [public_jwk(keys.rsa, kid="a"), public_jwk(keys.other_rsa, kid="a")]})
    with pytest.raises(KeyFormatError, match="same kid"):
        parse_jwks({"keys": [public_jwk(keys.rsa), public_jwk(keys.rsa)]})


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
JWK_MEMBERS = st.sampled_from(["kty", "n", "e", "kid", "alg", "use", "key_ops", "x5c", "crv", "d"])


@given(
    jwk=st.dictionaries(JWK_MEMBERS, JSON | st.sampled_from(["RSA", "EC", "oct", RFC7638_N, "AQAB", "sig"])),
    as_text=st.booleans(),
)
def test_arbitrary_jwks_raise_only_key_format_error(jwk: dict[str, Any], as_text: bool) -> None:
    try:
        key = parse_public_key(json.dumps(jwk) if as_text else jwk)
    except KeyFormatError:
        return
    assert key.jwk["kty"] == "RSA"
    assert not {"d", "p", "q", "dp", "dq", "qi", "oth", "k"} & set(key.jwk)


@given(st.text(max_size=200) | st.binary(max_size=200))
def test_arbitrary_input_raises_only_key_format_error(data: str | bytes) -> None:
    with contextlib.suppress(KeyFormatError):
        parse_public_key(data)
    with contextlib.suppress(KeyFormatError):
        parse_jwks(data)
