"""Test helpers for API providers: the provider's own middleware, checked against real tokens from a test issuer.

    from portvakt.resource.testing import ManualClock, expire, pointed_at

    def test_expired(maskinporten, maskinporten_token):            # portvakt.testing's fixtures
        with pointed_at(app_validator, maskinporten) as clock:     # the validator the API built at import
            token = maskinporten_token(client, [scope])
            assert call_api(token).status_code == 200
            expire(clock, token)                                    # the validator's clock, past exp + leeway
            assert call_api(token).status_code == 401               # invalid_token: expired

The issuer is a URL or anything with an `issuer` attribute (a `portvakt.testing.Maskinporten`). The key cache is
the production one (`JwksCache`, discovery through RFC 8414 metadata), with no wait between fetches, so a key the
test server publishes later is seen at once. Every refusal is the validator's own (RFC 6750 §3.1, RFC 7519 §4.1):
expired, another scope (insufficient_scope), another audience (a token whose grant named another `resource`);
a wrong consumer is the API's own rule on `AccessToken.consumer`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

import httpx

from portvakt.jose import peek

from .jwks import JwksCache
from .validator import TokenValidator

#: TokenValidator's default leeway on exp, iat and nbf (seconds).
DEFAULT_LEEWAY = 10.0


class HasIssuer(Protocol):
    """A test server: its issuer identifier."""

    @property
    def issuer(self) -> str:
        """The issuer URL, as the tokens' `iss` (docs/protocol.md §2.2)."""
        ...


class ManualClock:
    """Wall-clock time plus an offset a test moves: pass it as `TokenValidator(clock=...)` (or to pointed_at)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock `seconds` forward (negative: back)."""
        self.offset += seconds

    def reset(self) -> None:
        """Back to wall-clock time."""
        self.offset = 0.0


def issuer_of(issuer: str | HasIssuer) -> str:
    """The issuer URL of a URL or a test server."""
    return issuer if isinstance(issuer, str) else issuer.issuer


def key_cache_for(issuer: str | HasIssuer, *, http: httpx.Client | None = None) -> JwksCache:
    """The production key cache for the issuer (RFC 8414 discovery, then its jwks_uri), refetching without delay."""
    return JwksCache.from_issuer(issuer_of(issuer), http=http, min_refresh_interval=0.0)


def validator_for(issuer: str | HasIssuer, *, audience: str | None = None,
                  own_audiences: Collection[str] | None = None, leeway: float = DEFAULT_LEEWAY,
                  clock: Callable[[], float] | None = None, http: httpx.Client | None = None) -> TokenValidator:
    """A TokenValidator of the test issuer's tokens, as an API would configure one for Maskinporten."""
    return TokenValidator(issuer_of(issuer), jwks=key_cache_for(issuer, http=http), audience=audience,
                          own_audiences=own_audiences, leeway=leeway, clock=clock or time.time)


@contextmanager
def pointed_at(validator: TokenValidator, issuer: str | HasIssuer, *, clock: ManualClock | None = None,
               http: httpx.Client | None = None) -> Iterator[ManualClock]:
    """Point an existing validator (the one the API's app built, e.g. for https://maskinporten.no/) at the test
    issuer for the block: its issuer, its key cache and its clock (a ManualClock, yielded); restored at the end."""
    moved = clock or ManualClock()
    saved = (validator.issuer, validator._jwks, validator._clock)
    validator.issuer = issuer_of(issuer)
    validator._jwks = key_cache_for(issuer, http=http)
    validator._clock = moved
    try:
        yield moved
    finally:
        cache = validator._jwks
        validator.issuer, validator._jwks, validator._clock = saved
        if isinstance(cache, JwksCache):
            cache.close()


def expiry(token: object) -> float:
    """The `exp` of a token: its compact JWS string, its claims, or an object with `claims` (RFC 7519 §4.1.4)."""
    claims: Any = token if isinstance(token, Mapping) else getattr(token, "claims", None)
    if claims is None:
        claims = peek(str(token)).claims
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise ValueError('the token has no numeric "exp" claim')
    return float(exp)


def expire(clock: ManualClock, token: object, *, leeway: float = DEFAULT_LEEWAY) -> None:
    """Move `clock` just past the token's exp plus the validator's leeway: from now on the validator refuses it as
    expired (401 invalid_token, RFC 6750 §3.1)."""
    clock.offset = expiry(token) + leeway + 1 - time.time()


def parse_challenge(value: str) -> dict[str, str]:
    """The parameters of a `WWW-Authenticate: Bearer ...` value (RFC 6750 §3), with "scheme" for the scheme:
    `{"scheme": "Bearer", "realm": "api", "error": "invalid_token", ...}`."""
    scheme, _, rest = value.strip().partition(" ")
    found = {"scheme": scheme}
    i = 0
    while i < len(rest):
        name_end = rest.find("=", i)
        if name_end < 0:
            break
        name = rest[i:name_end].strip(" ,")
        if rest[name_end + 1:name_end + 2] == '"':
            close = rest.find('"', name_end + 2)
            close = len(rest) if close < 0 else close
            found[name] = rest[name_end + 2:close]
            i = close + 1
        else:
            comma = rest.find(",", name_end)
            comma = len(rest) if comma < 0 else comma
            found[name] = rest[name_end + 1:comma].strip()
            i = comma + 1
    return found
