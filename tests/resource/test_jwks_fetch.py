"""JwksCache's fetch: unusable answers and members, discovery (RFC 8414 §3), settings and the HTTP client."""

from __future__ import annotations

import pytest

from portvakt.jose import PrivateKeyHandle
from portvakt.resource import JwksCache, JwksUnavailable, TokenValidator

from .conftest import ISSUER, JWKS_URI, NOW, FakeIssuer, Ticker, sign


@pytest.mark.parametrize(("status", "body", "why"), [
    (500, None, "HTTP 500"), (200, b"<html>", "did not answer JSON"), (200, b'{"nokeys": []}', '"keys" array'),
    (200, b"[1, 2]", '"keys" array'),
])
def test_unusable_answer_without_cache_is_unavailable(cache: JwksCache, issuer: FakeIssuer, status: int,
                                                      body: bytes | None, why: str) -> None:
    issuer.status, issuer.body = status, body
    with pytest.raises(JwksUnavailable, match="signing keys are not available") as info:
        cache.verifier("any")
    assert why in info.value.detail


def test_unusable_answer_keeps_the_cached_set(cache: JwksCache, issuer: FakeIssuer, issuer_key: PrivateKeyHandle,
                                              ticker: Ticker) -> None:
    cache.verifier(issuer_key.kid)
    issuer.body = b"not json"
    ticker.advance(3600)
    assert cache.verifier(issuer_key.kid) is not None
    assert issuer.fetches == 2


def test_unusable_members_are_skipped(cache: JwksCache, issuer: FakeIssuer, issuer_key: PrivateKeyHandle,
                                      next_key: PrivateKeyHandle) -> None:
    ec = {"kty": "EC", "crv": "P-256", "kid": "ec", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
          "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
    issuer.jwks = {"keys": [ec, issuer_key.public_jwk, next_key.to_private_jwk(), "junk"]}
    assert cache.verifier(issuer_key.kid) is not None
    assert cache.kids == {issuer_key.kid}


def test_duplicate_kids_are_both_ignored(cache: JwksCache, issuer: FakeIssuer, issuer_key: PrivateKeyHandle,
                                         next_key: PrivateKeyHandle) -> None:
    twin = dict(next_key.public_jwk, kid=issuer_key.kid)
    issuer.jwks = {"keys": [issuer_key.public_jwk, twin, next_key.public_jwk]}
    assert cache.kids == set()
    assert cache.verifier(issuer_key.kid) is None
    assert cache.kids == {next_key.kid}


def test_refresh_forces_a_fetch_and_reports_failure(cache: JwksCache, issuer: FakeIssuer) -> None:
    cache.refresh()
    cache.refresh()
    assert issuer.fetches == 2
    issuer.up = False
    with pytest.raises(JwksUnavailable):
        cache.refresh()


def test_discovers_jwks_uri_from_metadata(issuer: FakeIssuer, issuer_key: PrivateKeyHandle) -> None:
    validator = TokenValidator(ISSUER.rstrip("/"), http=issuer.client(), clock=lambda: NOW)
    assert validator.validate(sign(issuer_key, iss=ISSUER)).consumer == "314330897"
    assert issuer.requests == ["/.well-known/oauth-authorization-server", "/jwk"]
    assert validator.jwks.jwks_uri == JWKS_URI


@pytest.mark.parametrize(("metadata", "why"), [
    ({"issuer": "https://evil.test/", "jwks_uri": JWKS_URI}, "another issuer"),
    ({"issuer": ISSUER}, "no usable jwks_uri"),
    ({"issuer": ISSUER, "jwks_uri": "file:///etc/passwd"}, "no usable jwks_uri"),
])
def test_bad_metadata_is_unavailable(issuer: FakeIssuer, metadata: dict[str, str], why: str) -> None:
    issuer.metadata = metadata
    cache = JwksCache.from_issuer(ISSUER, http=issuer.client())
    with pytest.raises(JwksUnavailable) as info:
        cache.verifier("kid")
    assert why in info.value.detail
    assert cache.jwks_uri is None


@pytest.mark.parametrize("kwargs", [{"min_refresh_interval": -1}, {"max_age": -1}, {"timeout": 0}])
def test_rejects_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        JwksCache(JWKS_URI, **kwargs)  # type: ignore[arg-type]


def test_rejects_a_non_http_uri() -> None:
    with pytest.raises(ValueError, match="http"):
        JwksCache("ftp://issuer.test/jwk")


def test_makes_and_closes_its_own_client() -> None:
    cache = JwksCache(JWKS_URI, timeout=0.5)
    client = cache._client()
    assert cache._client() is client and not client.follow_redirects and client.timeout.connect == 0.5
    cache.close()
    cache.close()
    assert client.is_closed


def test_an_injected_client_is_not_closed(issuer: FakeIssuer) -> None:
    client = issuer.client()
    JwksCache(JWKS_URI, http=client).close()
    assert not client.is_closed


def test_deeply_nested_json_is_unusable(cache: JwksCache, issuer: FakeIssuer) -> None:
    issuer.body = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(JwksUnavailable) as info:
        cache.verifier("kid")
    assert "did not answer JSON" in info.value.detail
