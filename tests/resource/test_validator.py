"""TokenValidator: one test per rejection branch, and the AccessToken it returns (docs/protocol.md §2.2, RFC 7519
§7.2)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from portvakt.jose import PrivateKeyHandle
from portvakt.resource import AccessToken, InsufficientScope, InvalidToken, JwksCache, TokenValidator

from .conftest import CONSUMER, ISSUER, NOW, VENDOR, FakeIssuer, b64, claims, compact, org, sign


def rejected(validator: TokenValidator, token: str, match: str) -> InvalidToken:
    with pytest.raises(InvalidToken, match=match) as info:
        validator.validate(token)
    err = info.value
    assert err.status == 401 and err.error == "invalid_token"
    if len(token) > 8:
        assert token not in str(err) and token not in err.challenge("api")
    return err


def test_delegated_token_becomes_an_access_token(validator: TokenValidator, issuer_key: PrivateKeyHandle) -> None:
    token = sign(issuer_key, consumer=org(CONSUMER), supplier=org(VENDOR),
                 delegation_source="https://altinn.test/", scope="brreg:test/delegable")
    result = validator.validate(token, required_scopes=["brreg:test/delegable"])
    assert (result.consumer, result.supplier, result.delegation_source) == (CONSUMER, VENDOR, "https://altinn.test/")
    assert result.client_id == "vendor-client" and result.scopes == frozenset({"brreg:test/delegable"})
    assert result.claims["jti"] and result.has_scope("brreg:test/delegable")
    assert token not in repr(result) and all(token != getattr(result, f) for f in AccessToken.__dataclass_fields__)


def test_own_token_has_no_supplier(validator: TokenValidator, issuer_key: PrivateKeyHandle) -> None:
    result = validator.validate(sign(issuer_key), required_scopes=("brreg:test/read", "brreg:test/open"))
    assert (result.consumer, result.supplier, result.delegation_source) == (VENDOR, None, None)
    assert result.scopes == {"brreg:test/read", "brreg:test/open"}


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_each_allowed_alg(validator: TokenValidator, issuer: FakeIssuer, issuer_key: PrivateKeyHandle,
                          alg: str) -> None:
    jwk = issuer_key.public_jwk
    del jwk["alg"]  # a published key without alg may sign with any allowed alg (RFC 7517 §4.4)
    issuer.jwks = {"keys": [jwk]}
    assert validator.validate(sign(issuer_key, alg=alg)).consumer == VENDOR


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "a.b", "eyJhbGciOiJSUzI1NiJ9.e30.@@", "x" * 20000])
def test_malformed_token(validator: TokenValidator, token: str) -> None:
    rejected(validator, token, "not a well-formed JWT")


def test_tampered_payload_is_a_bad_signature(validator: TokenValidator, issuer_key: PrivateKeyHandle) -> None:
    header, _, signature = sign(issuer_key).split(".")
    forged = ".".join((header, b64(b'{"iss":"https://issuer.test/","scope":"admin"}'), signature))
    rejected(validator, forged, "signature does not verify")


def test_published_kid_but_another_key(validator: TokenValidator, issuer_key: PrivateKeyHandle,
                                       stranger_key: PrivateKeyHandle) -> None:
    rejected(validator, sign(stranger_key, kid=issuer_key.kid), "signature does not verify")


def test_unknown_key(validator: TokenValidator, stranger_key: PrivateKeyHandle) -> None:
    rejected(validator, sign(stranger_key), "key the issuer does not publish")


def test_alg_none(validator: TokenValidator, issuer_key: PrivateKeyHandle) -> None:
    rejected(validator, compact({"alg": "none", "kid": issuer_key.kid}, claims()), "alg is not accepted")


def test_hs256_with_the_public_key_as_secret(validator: TokenValidator, issuer_key: PrivateKeyHandle) -> None:
    header = {"alg": "HS256", "kid": issuer_key.kid}
    unsigned = compact(header, claims()).rsplit(".", 1)[0]
    mac = hmac.new(issuer_key.public_jwk["n"].encode(), unsigned.encode(), hashlib.sha256).digest()
    rejected(validator, f"{unsigned}.{b64(mac)}", "alg is not accepted")


def test_alg_outside_a_narrowed_allow_list(cache: JwksCache, issuer_key: PrivateKeyHandle) -> None:
    narrow = TokenValidator(ISSUER, jwks=cache, algorithms=["RS512"], clock=lambda: NOW)
    rejected(narrow, sign(issuer_key), "accepted: RS512")


def test_alg_differing_from_the_published_key_alg(validator: TokenValidator, issuer_key: PrivateKeyHandle) -> None:
    rejected(validator, sign(issuer_key, alg="RS512"), "signature does not verify")


def test_no_kid(validator: TokenValidator, issuer_key: PrivateKeyHandle) -> None:
    _, body, signature = sign(issuer_key).split(".")
    rejected(validator, ".".join((b64(b'{"alg":"RS256"}'), body, signature)), 'no "kid"')


@pytest.mark.parametrize(("over", "match"), [
    ({"iss": "https://evil.test/"}, "another issuer"),
    ({"iss": "https://issuer.test//"}, "another issuer"),
    ({"iss": None}, "another issuer"),
    ({"exp": NOW - 10}, "expired"),
    ({"exp": None}, 'numeric "exp"'),
    ({"exp": True}, 'numeric "exp"'),
    ({"exp": "soon"}, 'numeric "exp"'),
    ({"iat": NOW + 11}, "issued in the future"),
    ({"iat": None}, 'numeric "iat"'),
    ({"nbf": NOW + 11}, "not valid yet"),
    ({"consumer": None}, '"consumer" is not'),
    ({"consumer": {"authority": "iso6523-actorid-upis", "ID": "9908:314330897"}}, '"consumer" is not'),
    ({"consumer": {"authority": "other", "ID": "0192:314330897"}}, '"consumer" is not'),
    ({"consumer": "0192:314330897"}, '"consumer" is not'),
    ({"supplier": {"ID": "0192:31433089"}}, '"supplier" is not'),
    ({"client_id": None}, '"client_id"'),
    ({"scope": None}, '"scope"'),
    ({"scope": ["brreg:test/read"]}, '"scope"'),
    ({"delegation_source": 7}, '"delegation_source"'),
])
def test_claim_rejections(validator: TokenValidator, issuer_key: PrivateKeyHandle, over: dict[str, Any],
                          match: str) -> None:
    rejected(validator, sign(issuer_key, **over), match)


@pytest.mark.parametrize("over", [
    {"exp": NOW - 9}, {"iat": NOW + 10}, {"nbf": NOW + 10}, {"iss": ISSUER.rstrip("/")},
    {"aud": ["a", "b"]}, {"aud": None}, {"consumer": {"ID": "0192:314330897"}},
])
def test_within_leeway_and_tolerances(validator: TokenValidator, issuer_key: PrivateKeyHandle,
                                      over: dict[str, Any]) -> None:
    assert validator.validate(sign(issuer_key, **over)).consumer == VENDOR


@pytest.mark.parametrize(("aud", "ok"), [
    ("https://api.brreg.test/", True), (["x", "https://api.brreg.test/"], True), ("unspecified", False),
    (None, False), ("https://other.test/", False), (["unspecified"], False),
])
def test_audience_when_configured(cache: JwksCache, issuer_key: PrivateKeyHandle, aud: Any, ok: bool) -> None:
    strict = TokenValidator(ISSUER, jwks=cache, audience="https://api.brreg.test/", clock=lambda: NOW)
    token = sign(issuer_key, aud=aud)
    if ok:
        assert strict.validate(token).consumer == VENDOR
    else:
        rejected(strict, token, "another audience")


def test_missing_scope(validator: TokenValidator, issuer_key: PrivateKeyHandle) -> None:
    token = sign(issuer_key)
    with pytest.raises(InsufficientScope, match="lacks the scope brreg:test/write") as info:
        validator.validate(token, required_scopes=["brreg:test/read", "brreg:test/write"])
    assert info.value.status == 403 and info.value.scope == "brreg:test/read brreg:test/write"
    assert token not in str(info.value)


def test_scope_match_is_exact(validator: TokenValidator, issuer_key: PrivateKeyHandle) -> None:
    with pytest.raises(InsufficientScope):
        validator.validate(sign(issuer_key, scope="brreg:test/readwrite"), required_scopes=["brreg:test/read"])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"algorithms": ["HS256"]}, "subset"), ({"algorithms": []}, "subset"), ({"algorithms": ["none"]}, "subset"),
    ({"audience": "unspecified"}, "audience"), ({"audience": ""}, "audience"), ({"leeway": -1}, "leeway"),
])
def test_rejects_unsafe_settings(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TokenValidator(ISSUER, **kwargs)
