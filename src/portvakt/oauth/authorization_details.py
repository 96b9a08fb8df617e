"""Rich authorization requests (RFC 9396) in the grant: the one supported type, an Altinn system user.

Maskinporten puts accepted details in the token or refuses them; it never ignores them (docs/security.md "Ignored
authorization_details"). The grant's `authorization_details` claim is read here (docs/protocol.md §6.5): a JSON
array of one object of a supported type (else MP-301), with only that type's fields (else MP-302), whose values
are valid (else MP-303). The token request's `authorization_details` form parameter is refused with MP-270: the
details are read from the signed grant only, where Maskinporten reads them.

A new type plugs in at SUPPORTED_TYPES, with a reader that returns what the token service acts on; the metadata's
`authorization_details_types_supported` lists it on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from portvakt.domain.orgno import is_valid_orgno
from portvakt.wire.protocol import ICD_NO_ORGNO, ISO6523_AUTHORITY, MAX_EXTERNAL_REF, SYSTEMUSER_TYPE

from . import mp_codes as mp

#: The fields an urn:altinn:systemuser object may have in a grant (docs/protocol.md §6.5, MP-302).
SYSTEMUSER_FIELDS = frozenset({"type", "systemuser_org", "externalRef"})
_ORG_FIELDS = frozenset({"authority", "ID", "id"})
_PREFIX = f"{ICD_NO_ORGNO}:"
_ABSENT = object()


@dataclass(frozen=True, slots=True)
class SystemUserDetails:
    """A grant's ask for a system user (docs/protocol.md §6.5): the owner's orgno, and the externalRef the grant
    gave (None when it gave none, or an empty one: the lookup then uses the owner's orgno)."""

    owner_orgno: str
    external_ref: str | None = None

    @property
    def lookup_ref(self) -> str:
        """The external reference the lookup matches: the grant's, else the owner's orgno (docs/protocol.md §6.5)."""
        return self.external_ref or self.owner_orgno


def _short(value: object) -> str:
    """A caller's value for an error text: its repr, at most 80 characters."""
    return repr(value)[:80]


def _orgno_of(org: object) -> str:
    """docs/protocol.md §6.5: systemuser_org is {"authority": "iso6523-actorid-upis", "ID": "0192:<orgno>"};
    a lower-case `id` is read as `ID` (decision U52). Unknown keys MP-302, bad values MP-303."""
    if not isinstance(org, dict):
        raise mp.MP303(": systemuser_org must be an object {\"authority\", \"ID\"}")
    if not org.keys() <= _ORG_FIELDS:
        extra = sorted(str(k)[:40] for k in org if k not in _ORG_FIELDS)
        raise mp.MP302(f": systemuser_org may hold only authority and ID, not {', '.join(extra[:3])}")
    if "ID" in org and "id" in org:
        raise mp.MP303(": systemuser_org names ID twice (ID and id)")
    if org.get("authority") != ISO6523_AUTHORITY:
        raise mp.MP303(f": systemuser_org.authority must be {ISO6523_AUTHORITY}, not {_short(org.get('authority'))}")
    ident = org["ID"] if "ID" in org else org.get("id")
    if not isinstance(ident, str) or not ident.startswith(_PREFIX) or not is_valid_orgno(ident[len(_PREFIX):]):
        raise mp.MP303(f": systemuser_org.ID must be {_PREFIX} and a valid 9-digit organisation number, not "
                       f"{_short(ident)}")
    return ident[len(_PREFIX):]


def read_systemuser(item: Mapping[str, Any]) -> SystemUserDetails:
    """docs/protocol.md §6.5: only type, systemuser_org and externalRef (MP-302); the owner's orgno and an optional
    externalRef, a string as a system user can have it (at most MAX_EXTERNAL_REF characters, trimmed; MP-303)."""
    if not item.keys() <= SYSTEMUSER_FIELDS:
        extra = sorted(str(k)[:40] for k in item if k not in SYSTEMUSER_FIELDS)
        raise mp.MP302(f": {SYSTEMUSER_TYPE} allows only type, systemuser_org and externalRef, not "
                       f"{', '.join(extra[:3])}")
    if "systemuser_org" not in item:
        raise mp.MP303(": systemuser_org is missing")
    owner = _orgno_of(item["systemuser_org"])
    ref = item.get("externalRef")
    if ref is not None and (not isinstance(ref, str) or len(ref) > MAX_EXTERNAL_REF or ref != ref.strip()):
        raise mp.MP303(f": externalRef must be a string of at most {MAX_EXTERNAL_REF} characters (the longest a "
                       "system user has), without leading or trailing whitespace")
    return SystemUserDetails(owner, ref or None)


#: type -> the reader of one object of that type (raises an OAuthError, or returns what the token service acts on).
SUPPORTED_TYPES: Mapping[str, Callable[[Mapping[str, Any]], SystemUserDetails]] = MappingProxyType(
    {SYSTEMUSER_TYPE: read_systemuser})


def supported_types() -> list[str]:
    """RFC 9396 §10: the value of `authorization_details_types_supported` in the metadata."""
    return sorted(SUPPORTED_TYPES)


def check_details(value: object) -> SystemUserDetails:
    """RFC 9396 §2 and docs/protocol.md §6.5: a JSON array of exactly one object of a supported `type` (one party
    per grant), else MP-301; then that type's reader."""
    if not isinstance(value, list) or not all(isinstance(d, dict) for d in value):
        raise mp.MP301(": authorization_details must be a JSON array of objects (RFC 9396 §2)")
    if len(value) != 1:
        raise mp.MP301(f": authorization_details must hold exactly one object, of type {SYSTEMUSER_TYPE} (one "
                       f"party per grant), not {len(value)}")
    item = value[0]
    kind = item.get("type")
    read = SUPPORTED_TYPES.get(kind) if isinstance(kind, str) else None
    if read is None:
        raise mp.MP301(f": {_short(kind)}; the supported types are {', '.join(supported_types())}")
    return read(item)


def from_claim(claims: Mapping[str, Any]) -> SystemUserDetails | None:
    """RFC 9396 §6.3 / §7: the grant's `authorization_details` claim, if present at all, is checked."""
    value = claims.get("authorization_details", _ABSENT)
    return None if value is _ABSENT else check_details(value)


def from_form(value: str | None) -> None:
    """RFC 9396 §6.2: the token request's `authorization_details` parameter is refused (MP-270), whatever it holds;
    the details belong in the signed grant (docs/protocol.md §1.1, decision U51)."""
    if value is not None:
        raise mp.MP270()
