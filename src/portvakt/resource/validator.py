"""Validate a portvakt/Maskinporten access token: signature first, then claims (RFC 7519 §7.2, RFC 8725 §3)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any, Protocol

import httpx

from portvakt.jose import GRANT_ALGORITHMS, BadSignature, MalformedJWT, UnsupportedAlgorithm, Verifier, peek

from ._fetch import same_issuer
from .errors import InsufficientScope, InvalidToken
from .jwks import JwksCache
from .token import AccessToken, access_token

#: Maskinporten's `aud` when the grant named no resource (docs/protocol.md §2.2); never matches a configured audience.
UNSPECIFIED_AUDIENCE = "unspecified"


def _number(claims: dict[str, Any], name: str) -> float:
    """A NumericDate claim that must be present (RFC 7519 §2; docs/protocol.md §2.2 says exp and iat always are)."""
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidToken(f'the access token has no numeric "{name}" claim (RFC 7519 §4.1)')
    return float(value)


class KeySource(Protocol):
    """Where the issuer's signing keys come from: its /jwk over HTTP (JwksCache), or, inside the issuer's own
    process, its keyring (portvakt.oauth.bearer.KeyringKeys)."""

    def verifier(self, kid: str) -> Verifier | None:
        """The Verifier of the published key `kid`, or None; JwksUnavailable if no key set can be had."""
        ...


class TokenValidator:
    """Checks access tokens from one issuer against its published keys, with an explicit alg allow-list.

    `audience`: an API provider's own identifier, which `aud` must contain. `own_audiences`: for the issuer's
    own APIs, `aud` must be absent, "unspecified" or only these (a token restricted to another resource with
    RFC 8707 `resource` is for that resource alone).
    """

    def __init__(self, issuer: str, *, jwks: KeySource | None = None, audience: str | None = None,
                 own_audiences: Collection[str] | None = None, leeway: float = 10,
                 algorithms: Sequence[str] = GRANT_ALGORITHMS, clock: Callable[[], float] = time.time,
                 http: httpx.Client | None = None) -> None:
        if not algorithms or any(alg not in GRANT_ALGORITHMS for alg in algorithms):
            raise ValueError("algorithms must be a non-empty subset of RS256, RS384, RS512 (docs/protocol.md §2.1)")
        if audience is not None and (not audience or audience == UNSPECIFIED_AUDIENCE):
            raise ValueError(f'an audience must be a non-empty value other than "{UNSPECIFIED_AUDIENCE}"')
        if leeway < 0:
            raise ValueError("leeway must be >= 0")
        self.issuer = issuer
        self.audience = audience
        self._own_audiences = None if own_audiences is None else frozenset(own_audiences) | {UNSPECIFIED_AUDIENCE}
        self._jwks = jwks
        self._http = http
        self._leeway = float(leeway)
        self._algorithms = tuple(algorithms)
        self._clock = clock
        self._lock = threading.Lock()

    @property
    def jwks(self) -> KeySource:
        """The key source; by default a cache discovered from the issuer's metadata on first use (RFC 8414 §3)."""
        if self._jwks is None:
            with self._lock:
                if self._jwks is None:
                    self._jwks = JwksCache.from_issuer(self.issuer, http=self._http)
        return self._jwks

    def validate(self, token: str, *, required_scopes: Sequence[str] = ()) -> AccessToken:
        """Verify the signature, iss, exp, iat, nbf, aud (if configured) and the scopes (RFC 6750 §3.1)."""
        claims = self._verified_claims(token)
        self._check_claims(claims)
        result = access_token(claims)
        missing = [scope for scope in required_scopes if scope not in result.scopes]
        if missing:
            raise InsufficientScope(f"the access token lacks the scope {' '.join(missing)}",
                                    scope=" ".join(required_scopes))
        return result

    def _verified_claims(self, token: str) -> dict[str, Any]:
        """Decode, pick the key by kid, verify with the allow-list; decoding is not validating (RFC 8725 §3.1)."""
        try:
            jwt = peek(token)
        except MalformedJWT:
            raise InvalidToken("the access token is not a well-formed JWT (RFC 7515 §7.1)") from None
        if jwt.header.get("alg") not in self._algorithms:
            raise InvalidToken(f"the access token alg is not accepted; accepted: {', '.join(self._algorithms)}")
        kid = jwt.header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken('the access token header has no "kid" (RFC 7515 §4.1.4)')
        verifier = self.jwks.verifier(kid)
        if verifier is None:
            raise InvalidToken("the access token is signed by a key the issuer does not publish")
        try:
            verifier.verify(jwt, self._algorithms)
        except (BadSignature, UnsupportedAlgorithm):
            raise InvalidToken("the access token signature does not verify (RFC 7515 §5.2)") from None
        return jwt.claims

    def _check_claims(self, claims: dict[str, Any]) -> None:
        """iss (one trailing slash tolerated), exp, iat, nbf with leeway, aud if configured (RFC 7519 §4.1)."""
        iss = claims.get("iss")
        if not isinstance(iss, str) or not same_issuer(iss, self.issuer):
            raise InvalidToken("the access token is from another issuer (RFC 7519 §4.1.1)")
        now = self._clock()
        if now >= _number(claims, "exp") + self._leeway:
            raise InvalidToken("the access token has expired (RFC 7519 §4.1.4)")
        if _number(claims, "iat") > now + self._leeway:
            raise InvalidToken("the access token is issued in the future (RFC 7519 §4.1.6)")
        if "nbf" in claims and _number(claims, "nbf") > now + self._leeway:
            raise InvalidToken("the access token is not valid yet (RFC 7519 §4.1.5)")
        self._check_audience(claims)

    def _check_audience(self, claims: dict[str, Any]) -> None:
        """RFC 7519 §4.1.3: `aud` contains the configured audience; or, for the issuer's own APIs, names
        nothing but them (RFC 8707 §2: a token for another resource is for that resource only)."""
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self.audience is not None and self.audience not in audiences:
            raise InvalidToken("the access token is meant for another audience (RFC 7519 §4.1.3)")
        own = self._own_audiences
        if own is not None and "aud" in claims and not (audiences and all(a in own for a in audiences)):
            raise InvalidToken("the access token is meant for another API (RFC 8707 §2)")
