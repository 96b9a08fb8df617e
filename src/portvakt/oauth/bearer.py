"""The one validator of portvakt's own access tokens on its own APIs (RFC 6750 §3), in-process or remote.

/api/v1 and the Altinn side check a token with `own_api_validator`, whatever the key source: the keyring in the
token service's process (KeyringKeys), the issuer's /jwk when the Altinn side runs alone (JwksCache). The same
token gets the same answer everywhere (docs/security.md, One token, two answers).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx

from portvakt.domain.ports import Clock
from portvakt.jose import JoseError, Verifier, parse_jwks
from portvakt.resource.jwks import JwksCache
from portvakt.resource.validator import KeySource, TokenValidator

from .keyring import Keyring

#: What this server signs with (docs/protocol.md §2.1): its own APIs accept nothing else.
OWN_ALGORITHMS = ("RS256",)
LEEWAY = 10


class KeyringKeys:
    """A KeySource over the keyring's published JWK set (same process, no HTTP); Verifiers rebuilt on change."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._lock = threading.Lock()
        self._jwks = b""
        self._verifiers: dict[str, Verifier] = {}

    def verifier(self, kid: str) -> Verifier | None:
        """The Verifier of a published key of this server, or None."""
        published = self._keyring.jwks_json
        with self._lock:
            if published != self._jwks:
                try:
                    self._verifiers = {k.kid: Verifier(k) for k in parse_jwks(published)}
                except JoseError:
                    self._verifiers = {}
                self._jwks = published
            return self._verifiers.get(kid)


def own_audiences(issuer: str) -> frozenset[str]:
    """This server's own API identifiers as `aud` values: its issuer identifier, with or without the slash."""
    return frozenset({issuer, issuer.rstrip("/") + "/", issuer.rstrip("/")})


def own_api_validator(issuer: str, keys: KeySource, clock: Callable[[], float]) -> TokenValidator:
    """The validator of /api/v1 and the Altinn side: RS256, iss, exp, iat, nbf, and aud only this server's."""
    return TokenValidator(issuer, jwks=keys, own_audiences=own_audiences(issuer), leeway=LEEWAY,
                          algorithms=OWN_ALGORITHMS, clock=clock)


def _seconds(clock: Clock) -> Callable[[], float]:
    """The injected clock as the validator reads it (POSIX seconds)."""
    return lambda: clock.now().timestamp()


def local_validator(keyring: Keyring, issuer: str, clock: Clock) -> TokenValidator:
    """In the token service's process: the keyring is the key source."""
    return own_api_validator(issuer, KeyringKeys(keyring), _seconds(clock))


def remote_validator(issuer: str, clock: Clock, http: httpx.Client | None = None) -> TokenValidator:
    """Elsewhere (the Altinn side alone): the issuer's /jwk, discovered from its metadata (RFC 8414 §3)."""
    return own_api_validator(issuer, JwksCache.from_issuer(issuer, http=http), _seconds(clock))
