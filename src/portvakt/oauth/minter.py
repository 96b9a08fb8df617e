"""The access-token minter: the one place that decides what a token contains (docs/protocol.md §2.1-§2.3, T11)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from portvakt.domain.orgno import iso6523
from portvakt.resource.validator import UNSPECIFIED_AUDIENCE
from portvakt.settings import TokenSettings
from portvakt.wire.protocol import SYSTEMUSER_TYPE

from .keyring import Keyring
from .systemuser import FoundSystemUser


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What the checks decided: which client asks, who the token is for, and what it may do (docs/protocol.md §2.2).

    `lifetime` is the client's own access_token_lifetime (None: the default); `max_ages` are the scopes'
    at_max_age (0: no limit). The minter turns both into the token's lifetime (T11). `system_user`, when the grant
    asked for one (docs/protocol.md §6.5), becomes the token's `authorization_details`.
    """

    client_id: str
    client_orgno: str
    client_amr: str
    scopes: tuple[str, ...]
    consumer_orgno: str
    supplier_orgno: str | None = None
    delegation_source: str | None = None
    audience: list[str] | None = None
    pid: str | None = None
    lifetime: int | None = None
    max_ages: tuple[int, ...] = ()
    system_user: FoundSystemUser | None = None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A signed access token and the figures the response reports (docs/protocol.md §1.4)."""

    access_token: str
    expires_in: int
    scope: str
    jti: str
    exp: int


def systemuser_details(found: FoundSystemUser) -> dict[str, Any]:
    """docs/protocol.md §6.5: the token's one authorization_details object for a system user; `ID` upper-case
    (decision U52), `systemuser_id` an array, `externalRef` always (the owner's orgno when the grant gave none)."""
    return {"type": SYSTEMUSER_TYPE, "systemuser_org": iso6523(found.owner_orgno),
            "systemuser_id": [found.system_user_id], "system_id": found.system_id, "externalRef": found.external_ref}


class AccessTokenMinter:
    """Builds the claims of docs/protocol.md §2.2 for the issuer `issuer` (a URL) and signs them with the keyring's
    active key (header kid = RFC 7638 thumbprint)."""

    def __init__(self, keyring: Keyring, issuer: str, rules: TokenSettings) -> None:
        self._keyring = keyring
        self.issuer = issuer
        self._default_lifetime = rules.default_access_token_lifetime
        self._max_lifetime = rules.max_access_token_lifetime

    def lifetime(self, grant: TokenGrant) -> int:
        """T11: min(the client's lifetime or the default, the smallest non-zero at_max_age, the hard maximum)."""
        ages = [age for age in grant.max_ages if age > 0]
        return min(grant.lifetime or self._default_lifetime, self._max_lifetime, *ages)

    def claims(self, grant: TokenGrant, now: int, lifetime: int) -> dict[str, Any]:
        """docs/protocol.md §2.2: iss, client_amr, token_type, client_id, aud, consumer, [supplier, delegation_source],
        scope, [pid], [authorization_details (§6.5)], iat, exp, client_orgno, jti."""
        aud: str | list[str] = UNSPECIFIED_AUDIENCE
        if grant.audience:
            aud = grant.audience[0] if len(grant.audience) == 1 else grant.audience
        claims: dict[str, Any] = {
            "iss": self.issuer, "client_amr": grant.client_amr, "token_type": "Bearer",
            "client_id": grant.client_id, "aud": aud, "consumer": iso6523(grant.consumer_orgno),
        }
        if grant.supplier_orgno is not None:
            claims["supplier"] = iso6523(grant.supplier_orgno)
        if grant.delegation_source is not None:
            claims["delegation_source"] = grant.delegation_source
        claims["scope"] = " ".join(grant.scopes)
        if grant.pid is not None:
            claims["pid"] = grant.pid
        if grant.system_user is not None:
            claims["authorization_details"] = [systemuser_details(grant.system_user)]
        claims.update(iat=now, exp=now + lifetime, client_orgno=grant.client_orgno, jti=secrets.token_urlsafe(32))
        return claims

    def mint(self, grant: TokenGrant, now: int) -> IssuedToken:
        """Sign the token; expires_in is the whole lifetime, as the token is made this second (docs/protocol.md
        §2.3)."""
        lifetime = self.lifetime(grant)
        claims = self.claims(grant, now, lifetime)
        token = self._keyring.active_signer().sign(claims)
        return IssuedToken(token, lifetime, claims["scope"], claims["jti"], claims["exp"])
