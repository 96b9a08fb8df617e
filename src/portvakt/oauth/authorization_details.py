"""Rich authorization requests (RFC 9396): the supported types, and the refusal of everything else.

Maskinporten puts accepted details in the token or refuses them; it never ignores them. portvakt
supports no type yet, so every `authorization_details`, as a grant claim or as a form parameter, is
refused with MP-270 (docs/security.md "Ignored authorization_details").

System users plug in here: add "urn:altinn:systemuser" to SUPPORTED_TYPES with a check that returns
the details to put in the token (RFC 9396 §9.1), carry the result through to the issuer, and the
metadata's `authorization_details_types_supported` lists the type on its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from . import mp_codes as mp

#: A checked authorization details object, as it goes into the access token.
Details = dict[str, Any]

#: type -> the check of one object of that type (raises an OAuthError, or returns what the token carries).
SUPPORTED_TYPES: Mapping[str, Callable[[Mapping[str, Any]], Details]] = MappingProxyType({})

_ABSENT = object()


def supported_types() -> list[str]:
    """RFC 9396 §10: the value of `authorization_details_types_supported` in the metadata."""
    return sorted(SUPPORTED_TYPES)


def check_details(value: object) -> list[Details]:
    """RFC 9396 §2, §5: a JSON array of objects, each of a supported `type`; else MP-270."""
    if not isinstance(value, list) or not value or not all(isinstance(d, dict) for d in value):
        raise mp.MP270(": it must be a non-empty JSON array of objects (RFC 9396 §2)")
    checked: list[Details] = []
    for item in value:
        kind = item.get("type")
        check = SUPPORTED_TYPES.get(kind) if isinstance(kind, str) else None
        if check is None:
            raise mp.MP270(": no authorization details type is supported",
                           detail=f"type={str(kind)[:80]!r}")
        checked.append(check(item))
    return checked


def from_claim(claims: Mapping[str, Any]) -> list[Details]:
    """RFC 9396 §6.3 / §7: the grant's `authorization_details` claim, if present at all, is checked."""
    value = claims.get("authorization_details", _ABSENT)
    return [] if value is _ABSENT else check_details(value)


def from_form(value: str | None) -> list[Details]:
    """RFC 9396 §6.2: the token request's `authorization_details` parameter, JSON-encoded, is checked."""
    if value is None:
        return []
    try:
        decoded = json.loads(value)
    except (ValueError, RecursionError):
        raise mp.MP270(": the parameter is not JSON (RFC 9396 §2)") from None
    return check_details(decoded)
