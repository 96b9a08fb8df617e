"""Validates portvakt's own access tokens for its APIs (RFC 6750 §3): signature, iss, exp, iat."""

from __future__ import annotations

from dataclasses import dataclass

from portvakt.domain.orgno import is_valid_orgno
from portvakt.domain.ports import Clock
from portvakt.jose import JoseError, MalformedJWT, Verifier, parse_jwks, peek

from .keyring import Keyring

LEEWAY = 10


class InvalidToken(Exception):
    """The bearer token is missing, malformed, expired, or not signed by this server (RFC 6750 §3.1)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who calls an API: the token's consumer org, its client, and its scopes."""

    orgno: str
    client_id: str
    scopes: frozenset[str]
    supplier_orgno: str | None = None

    def has(self, scope: str) -> bool:
        """True if the token carries the scope."""
        return scope in self.scopes


class BearerValidator:
    """Checks tokens against the published signing keys of the keyring (same process, no HTTP)."""

    def __init__(self, keyring: Keyring, issuer: str, clock: Clock) -> None:
        self._keyring = keyring
        self._issuer = issuer
        self._clock = clock
        self._jwks = b""
        self._verifiers: dict[str, Verifier] = {}

    def _verifier(self, kid: object) -> Verifier:
        if self._jwks != self._keyring.jwks_json:
            self._jwks = self._keyring.jwks_json
            self._verifiers = {k.kid: Verifier(k) for k in parse_jwks(self._jwks)}
        verifier = self._verifiers.get(kid) if isinstance(kid, str) else None
        if verifier is None:
            raise InvalidToken("the token is not signed by a key of this server")
        return verifier

    def validate(self, token: str) -> Principal:
        """Verify signature (RS256 only), iss, exp and iat (with 10 s leeway); return the principal."""
        try:
            jwt = peek(token)
            self._verifier(jwt.header.get("kid")).verify(jwt, ("RS256",))
        except MalformedJWT as exc:
            raise InvalidToken("the token is malformed") from exc
        except JoseError as exc:
            raise InvalidToken("the token signature does not verify") from exc
        c = jwt.claims
        now = self._clock.now().timestamp()
        if c.get("iss") != self._issuer:
            raise InvalidToken("the token was issued by another issuer")
        exp, iat = c.get("exp"), c.get("iat")
        if not isinstance(exp, int) or exp + LEEWAY <= now:
            raise InvalidToken("the token has expired")
        if not isinstance(iat, int) or iat - LEEWAY > now:
            raise InvalidToken("the token is not valid yet")
        return Principal(orgno=_orgno(c.get("consumer")), client_id=str(c.get("client_id", "")),
                         scopes=frozenset(str(c.get("scope", "")).split()),
                         supplier_orgno=_orgno(c["supplier"]) if "supplier" in c else None)


def _orgno(value: object) -> str:
    ident = value.get("ID") if isinstance(value, dict) else None
    orgno = ident.removeprefix("0192:") if isinstance(ident, str) else ""
    if not is_valid_orgno(orgno):
        raise InvalidToken("the token names no valid organisation")
    return orgno
