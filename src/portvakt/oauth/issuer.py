"""The access-token issuer: the one place that decides what a token contains (docs/protocol.md §2.1-§2.3)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from portvakt.domain.models import Client
from portvakt.domain.orgno import iso6523

from .keyring import Keyring

UNSPECIFIED_AUDIENCE = "unspecified"


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What the checks decided: who the token is for and what it may do."""

    client: Client
    client_amr: str
    scopes: tuple[str, ...]
    consumer_orgno: str
    supplier_orgno: str | None
    delegation_source: str | None
    audience: list[str] | None
    pid: str | None
    lifetime: int


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A signed access token and the figures the response reports."""

    access_token: str
    expires_in: int
    scope: str
    jti: str
    exp: int


class AccessTokenIssuer:
    """Builds the claims of docs/protocol.md §2.2 and signs them with the active key (header kid = RFC 7638
    thumbprint)."""

    def __init__(self, keyring: Keyring, issuer: str) -> None:
        self._keyring = keyring
        self._issuer = issuer

    def claims(self, grant: TokenGrant, now: int) -> dict[str, Any]:
        """docs/protocol.md §2.2: iss, client_amr, token_type, client_id, aud, consumer, [supplier, delegation_source],
        scope, [pid], iat, exp, client_orgno, jti."""
        scope = " ".join(grant.scopes)
        aud: str | list[str] = UNSPECIFIED_AUDIENCE
        if grant.audience:
            aud = grant.audience[0] if len(grant.audience) == 1 else grant.audience
        claims: dict[str, Any] = {
            "iss": self._issuer, "client_amr": grant.client_amr, "token_type": "Bearer",
            "client_id": grant.client.client_id, "aud": aud, "consumer": iso6523(grant.consumer_orgno),
        }
        if grant.supplier_orgno is not None:
            claims["supplier"] = iso6523(grant.supplier_orgno)
        if grant.delegation_source is not None:
            claims["delegation_source"] = grant.delegation_source
        claims["scope"] = scope
        if grant.pid is not None:
            claims["pid"] = grant.pid
        claims.update(iat=now, exp=now + grant.lifetime, client_orgno=grant.client.client_orgno,
                      jti=secrets.token_urlsafe(32))
        return claims

    def issue(self, grant: TokenGrant, now: int) -> IssuedToken:
        """Sign the token; expires_in is the whole lifetime (the token was made this second)."""
        claims = self.claims(grant, now)
        token = self._keyring.active_signer().sign(claims)
        return IssuedToken(token, grant.lifetime, claims["scope"], claims["jti"], claims["exp"])
