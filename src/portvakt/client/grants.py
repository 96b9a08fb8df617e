"""Sign JWT grants (docs/protocol.md §1.2-§1.3) and exchange them at the token endpoint (docs/protocol.md §1.1).

A grant names a registered key by `kid`, or carries an enterprise certificate's chain as `x5c` (docs/protocol.md §5).
With `systemuser_org` it asks for a system user's token (docs/protocol.md §6): its `authorization_details` names the
system user's owner, and optionally the system user's `externalRef`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from portvakt.jose import PrivateKeyHandle, Signer
from portvakt.wire.protocol import ICD_NO_ORGNO, ISO6523_AUTHORITY, JWT_BEARER, MAX_EXTERNAL_REF, is_valid_orgno
from portvakt.wire.protocol import SYSTEMUSER_TYPE as SYSTEM_USER_TYPE

from .keys import check_chain_key, load_certificate, load_private_key

__all__ = ["JWT_BEARER", "SYSTEM_USER_TYPE", "GrantSigner", "TokenError", "discover", "fetch_token",
           "load_private_key", "systemuser_details"]

class TokenError(Exception):
    """The token endpoint refused, or could not be reached; carries the OAuth error body if any."""

    def __init__(self, message: str, body: dict[str, Any] | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.body = body or {}
        self.status = status


def systemuser_details(systemuser_org: str, external_ref: str | None = None) -> list[dict[str, Any]]:
    """The grant's `authorization_details` for a system user of `systemuser_org` (docs/protocol.md §6); raises
    ValueError for an orgno that is not 9 digits with a valid mod-11 check digit, or an empty externalRef."""
    if not isinstance(systemuser_org, str) or not is_valid_orgno(systemuser_org):
        shown = systemuser_org[:20] if isinstance(systemuser_org, str) else type(systemuser_org).__name__
        hint = " (give the 9 digits without the 0192: prefix)" if shown.startswith(f"{ICD_NO_ORGNO}:") else ""
        raise ValueError(f"systemuser_org {shown!r} is not an organisation number: it must be 9 digits with a "
                         f"valid mod-11 check digit{hint}")
    detail: dict[str, Any] = {"type": SYSTEM_USER_TYPE, "systemuser_org": {
        "authority": ISO6523_AUTHORITY, "ID": f"{ICD_NO_ORGNO}:{systemuser_org}"}}
    if external_ref is not None:
        if (not isinstance(external_ref, str) or not external_ref.strip() or external_ref != external_ref.strip()
                or len(external_ref) > MAX_EXTERNAL_REF):
            raise ValueError(f"external_ref must be a non-empty string of at most {MAX_EXTERNAL_REF} characters, "
                             "without leading or trailing spaces; leave it out for the system user whose external "
                             "reference is the owner's orgno")
        detail["externalRef"] = external_ref
    return [detail]


def party_details(consumer_org: str | None, systemuser_org: str | None,
                  external_ref: str | None) -> list[dict[str, Any]] | None:
    """The system user's authorization_details, or None; ValueError for options that exclude each other."""
    if systemuser_org is None:
        if external_ref is not None:
            raise ValueError("external_ref goes with systemuser_org (the system user's owner)")
        return None
    if consumer_org is not None:
        raise ValueError("systemuser_org and consumer_org exclude each other: a grant names one party "
                         "(a system user's owner, or a consumer through a delegation)")
    return systemuser_details(systemuser_org, external_ref)


@dataclass(frozen=True)
class GrantSigner:
    """Makes single-use grants for one client and key: with `kid` (a registered key), or with `x5c` (an
    enterprise certificate chain, leaf first; then no kid is sent, docs/protocol.md §1.2)."""

    client_id: str
    key: PrivateKeyHandle
    kid: str | None = None
    audience: str = ""
    alg: str = "RS256"
    lifetime: int = 120
    x5c: Sequence[str] | None = None
    _signer: Signer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.audience:
            raise ValueError("GrantSigner needs the audience: the authorization server's issuer URL")
        if (self.kid is None) == (self.x5c is None):
            raise ValueError("GrantSigner needs exactly one of kid (a registered key) and x5c (a certificate chain)")
        if self.x5c is not None:
            check_chain_key(self.key, self.x5c)
        signer = Signer(self.key, alg=self.alg, kid=self.kid, x5c=self.x5c)  # made once; a bad kid fails here
        object.__setattr__(self, "_signer", signer)
        if signer.x5c is not None:
            object.__setattr__(self, "x5c", signer.x5c)

    @classmethod
    def from_pkcs12(cls, path: str | Path, password: bytes | str, *, client_id: str, audience: str,
                    alg: str = "RS256", lifetime: int = 120) -> GrantSigner:
        """A signer of x5c grants with the key and certificate chain of an enterprise certificate's PKCS#12."""
        key, x5c = load_certificate(path, password)
        return cls(client_id=client_id, key=key, audience=audience, alg=alg, lifetime=lifetime, x5c=x5c)

    def grant(self, scope: str, *, consumer_org: str | None = None, resource: str | list[str] | None = None,
              systemuser_org: str | None = None, external_ref: str | None = None, now: int | None = None) -> str:
        """A signed grant: iss = client_id, aud = the issuer, fresh jti, exp - iat = lifetime (≤ 120); with
        `systemuser_org` (and optional `external_ref`) the system user's `authorization_details`
        (docs/protocol.md §6); ValueError for a bad orgno or options that exclude each other."""
        details = party_details(consumer_org, systemuser_org, external_ref)
        iat = int(time.time()) if now is None else now
        claims: dict[str, Any] = {"aud": self.audience, "iss": self.client_id, "scope": scope, "iat": iat,
                                  "exp": iat + self.lifetime, "jti": str(uuid.uuid4())}
        if consumer_org is not None:
            claims["consumer_org"] = consumer_org
        if resource is not None:
            claims["resource"] = resource
        if details is not None:
            claims["authorization_details"] = details
        return self._signer.sign(claims)


def discover(issuer: str, client: httpx.Client) -> dict[str, Any]:
    """The issuer's RFC 8414 metadata."""
    url = issuer.rstrip("/") + "/.well-known/oauth-authorization-server"
    try:
        resp = client.get(url)
    except httpx.HTTPError as exc:
        raise TokenError(f"cannot reach {url}: {exc.__class__.__name__}") from exc
    if resp.status_code != 200:
        raise TokenError(f"{url} answered HTTP {resp.status_code}", status=resp.status_code)
    data: dict[str, Any] = resp.json()
    return data


def fetch_token(signer: GrantSigner, scope: str, *, token_endpoint: str, consumer_org: str | None = None,
                resource: str | list[str] | None = None, systemuser_org: str | None = None,
                external_ref: str | None = None, client: httpx.Client | None = None) -> dict[str, Any]:
    """POST one grant; returns the token response, or raises TokenError with the OAuth error body (ValueError,
    before anything is sent, for a bad `systemuser_org` or `external_ref`)."""
    assertion = signer.grant(scope, consumer_org=consumer_org, resource=resource, systemuser_org=systemuser_org,
                             external_ref=external_ref)
    http = client or httpx.Client(timeout=10)
    try:
        resp = http.post(token_endpoint, data={"grant_type": JWT_BEARER, "assertion": assertion})
    except httpx.HTTPError as exc:
        raise TokenError(f"cannot reach {token_endpoint}: {exc.__class__.__name__}") from exc
    finally:
        if client is None:
            http.close()
    try:
        body: dict[str, Any] = resp.json()
    except ValueError:
        body = {}
    if resp.status_code != 200:
        raise TokenError(f"{body.get('error', 'error')}: {body.get('error_description', resp.text[:200])}",
                         body, resp.status_code)
    return body
