"""The validated access token an API sees: who the consumer is, who acts for it, and what it may do (docs/protocol.md
§2.2)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from portvakt.wire.protocol import ICD_NO_ORGNO, ISO6523_AUTHORITY

from .errors import InvalidToken

_ORG_ID = re.compile(ICD_NO_ORGNO + r":([0-9]{9})")


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A token whose signature and claims were checked; the raw token is deliberately not kept.

    `consumer` and `supplier` are bare organisation numbers; use `consumer` for access control, not
    `client_id` (docs/protocol.md §2.2). `supplier` and `delegation_source` are set when a vendor acts for the
    consumer through an Altinn delegation (docs/protocol.md §4.2 step 5).
    """

    consumer: str
    supplier: str | None
    client_id: str
    scopes: frozenset[str]
    delegation_source: str | None
    claims: dict[str, Any] = field(repr=False, hash=False)

    def has_scope(self, scope: str) -> bool:
        """True if `scope` was granted (scope values are case-sensitive, RFC 6749 §3.3)."""
        return scope in self.scopes


def scope_set(value: object) -> frozenset[str]:
    """The space-delimited `scope` claim as a set (RFC 6749 §3.3, RFC 8693 §4.2)."""
    if not isinstance(value, str):
        raise InvalidToken('the access token has no "scope" string')
    return frozenset(part for part in value.split(" ") if part)


def orgno(value: object, name: str) -> str:
    """The bare orgno of an ISO 6523 `consumer`/`supplier` claim {"authority", "ID": "0192:<orgno>"} (docs/protocol.md
    §2.2)."""
    if isinstance(value, dict) and value.get("authority", ISO6523_AUTHORITY) == ISO6523_AUTHORITY:
        org_id = value.get("ID")
        match = _ORG_ID.fullmatch(org_id) if isinstance(org_id, str) else None
        if match:
            return match.group(1)
    raise InvalidToken(f'the access token claim "{name}" is not an ISO 6523 organisation id 0192:<orgno>')


def access_token(claims: dict[str, Any]) -> AccessToken:
    """Build the AccessToken from claims already checked for iss, exp, iat and aud (docs/protocol.md §2.2)."""
    client_id = claims.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise InvalidToken('the access token has no "client_id" string')
    source = claims.get("delegation_source")
    if source is not None and not isinstance(source, str):
        raise InvalidToken('the access token claim "delegation_source" is not a string')
    supplier = claims.get("supplier")
    return AccessToken(consumer=orgno(claims.get("consumer"), "consumer"),
                       supplier=None if supplier is None else orgno(supplier, "supplier"),
                       client_id=client_id, scopes=scope_set(claims.get("scope")),
                       delegation_source=source, claims=claims)
