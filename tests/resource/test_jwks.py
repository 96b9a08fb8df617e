"""JwksCache: cached, refreshed on unknown kid and age, rate-limited, and the issuer-down branches (docs/protocol.md
§2.5)."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from portvakt.jose import PrivateKeyHandle
from portvakt.resource import InvalidToken, JwksCache, JwksUnavailable, TokenValidator
from portvakt.resource._fetch import freshness

from .conftest import JWKS_URI, FakeIssuer, Ticker, sign


def test_fetches_once_then_serves_from_cache(validator: TokenValidator, issuer: FakeIssuer,
                                             issuer_key: PrivateKeyHandle) -> None:
    for _ in range(5):
        validator.validate(sign(issuer_key))
    assert issuer.fetches == 1


def test_verifier_is_built_once_and_kept_across_refreshes(cache: JwksCache, issuer: FakeIssuer,
                                                          issuer_key: PrivateKeyHandle, ticker: Ticker) -> None:
    first = cache.verifier(issuer_key.kid)
    assert first is not None and cache.verifier(issuer_key.kid) is first
    ticker.advance(3601)
    assert cache.verifier(issuer_key.kid) is first
    assert issuer.fetches == 2


def test_unknown_kid_refreshes_and_finds_a_rotated_key(validator: TokenValidator, issuer: FakeIssuer,
                                                       issuer_key: PrivateKeyHandle, next_key: PrivateKeyHandle,
                                                       cache: JwksCache, ticker: Ticker) -> None:
    validator.validate(sign(issuer_key))
    issuer.publish(issuer_key, next_key)
    ticker.advance(30)
    assert validator.validate(sign(next_key)).consumer == "314330897"
    assert issuer.fetches == 2
    assert cache.kids == {issuer_key.kid, next_key.kid}


def test_unknown_kids_refresh_at_most_once_per_interval(validator: TokenValidator, issuer: FakeIssuer,
                                                        issuer_key: PrivateKeyHandle, stranger_key: PrivateKeyHandle,
                                                        ticker: Ticker) -> None:
    validator.validate(sign(issuer_key))
    with pytest.raises(InvalidToken):
        validator.validate(sign(stranger_key))
    assert issuer.fetches == 1  # the set is younger than the interval: no fetch
    ticker.advance(30)
    for _ in range(10):
        with pytest.raises(InvalidToken, match="key the issuer does not publish"):
            validator.validate(sign(stranger_key))
    assert issuer.fetches == 2
    ticker.advance(29)
    with pytest.raises(InvalidToken):
        validator.validate(sign(stranger_key))
    assert issuer.fetches == 2
    ticker.advance(1)
    with pytest.raises(InvalidToken):
        validator.validate(sign(stranger_key))
    assert issuer.fetches == 3


def test_concurrent_unknown_kids_cause_one_fetch(cache: JwksCache, issuer: FakeIssuer,
                                                 issuer_key: PrivateKeyHandle, ticker: Ticker) -> None:
    cache.verifier(issuer_key.kid)
    ticker.advance(30)
    issuer.on_request = lambda: time.sleep(0.05)
    start = threading.Barrier(16)
    results: list[object] = []

    def lookup() -> None:
        start.wait()
        results.append(cache.verifier("bogus"))

    threads = [threading.Thread(target=lookup) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [None] * 16
    assert issuer.fetches == 2


def test_refreshed_when_older_than_max_age(cache: JwksCache, issuer: FakeIssuer, issuer_key: PrivateKeyHandle,
                                           ticker: Ticker) -> None:
    cache.verifier(issuer_key.kid)
    ticker.advance(3599)
    cache.verifier(issuer_key.kid)
    assert issuer.fetches == 1
    ticker.advance(1)
    cache.verifier(issuer_key.kid)
    assert issuer.fetches == 2


@pytest.mark.parametrize(("cache_control", "age", "fresh_for"), [
    ("public, max-age=300", None, 300),
    ("max-age=99999", None, 3600),
    ("public, max-age=300", "100", 200),
])
def test_cache_control_max_age_is_honoured_within_max_age(cache: JwksCache, issuer: FakeIssuer,
                                                          issuer_key: PrivateKeyHandle, ticker: Ticker,
                                                          cache_control: str, age: str | None, fresh_for: int) -> None:
    issuer.headers = {"Cache-Control": cache_control, **({"Age": age} if age else {})}
    cache.verifier(issuer_key.kid)
    ticker.advance(fresh_for - 1)
    cache.verifier(issuer_key.kid)
    assert issuer.fetches == 1
    ticker.advance(1)
    cache.verifier(issuer_key.kid)
    assert issuer.fetches == 2


@pytest.mark.parametrize(("headers", "expected"), [
    ({}, 3600.0), ({"cache-control": "no-store"}, 0.0), ({"cache-control": "no-cache, max-age=60"}, 0.0),
    ({"cache-control": 'max-age="60"'}, 60.0), ({"cache-control": "max-age=soon"}, 0.0),
    ({"cache-control": "max-age=60", "age": "90"}, 0.0), ({"cache-control": "private"}, 3600.0),
])
def test_freshness(headers: dict[str, str], expected: float) -> None:
    assert freshness(httpx.Headers(headers), 3600.0) == expected


def test_issuer_down_keeps_using_cached_keys(validator: TokenValidator, issuer: FakeIssuer,
                                             issuer_key: PrivateKeyHandle, ticker: Ticker) -> None:
    validator.validate(sign(issuer_key))
    issuer.up = False
    ticker.advance(7200)
    for _ in range(3):
        assert validator.validate(sign(issuer_key)).client_id == "vendor-client"
    assert issuer.fetches == 2  # one failed attempt, then none within the interval


def test_issuer_down_without_cached_keys_is_unavailable(validator: TokenValidator, issuer: FakeIssuer,
                                                        issuer_key: PrivateKeyHandle, ticker: Ticker) -> None:
    issuer.up = False
    token = sign(issuer_key)
    with pytest.raises(JwksUnavailable) as info:
        validator.validate(token)
    assert info.value.status == 503
    assert "ConnectError" in info.value.detail and JWKS_URI in info.value.detail
    assert token not in str(info.value) and JWKS_URI not in str(info.value)
    ticker.advance(10)
    with pytest.raises(JwksUnavailable) as again:
        validator.validate(token)
    assert again.value.retry_after == 20
    assert issuer.fetches == 1
    issuer.up = True
    ticker.advance(20)
    assert validator.validate(token).consumer == "314330897"
    assert issuer.fetches == 2
