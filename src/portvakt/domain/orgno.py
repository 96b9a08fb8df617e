"""Norwegian organisation numbers (Enhetsregisteret) and their ISO 6523 form."""

from __future__ import annotations

from portvakt.wire.protocol import ICD_NO_ORGNO, ISO6523_AUTHORITY
from portvakt.wire.protocol import is_valid_orgno as is_valid_orgno

from .errors import Invalid


def require_orgno(value: str, field: str = "orgno") -> str:
    """Return the orgno, or raise Invalid naming the field (docs/protocol.md §2.2: 9 digits, mod-11)."""
    if not isinstance(value, str) or not is_valid_orgno(value):
        raise Invalid(f"{field} must be a 9-digit organisation number with a valid mod-11 check digit",
                      field=field)
    return value


def iso6523(orgno: str) -> dict[str, str]:
    """The `consumer`/`supplier` claim value: ISO 6523 actor id with ICD 0192 (docs/protocol.md §2.2)."""
    return {"authority": ISO6523_AUTHORITY, "ID": f"{ICD_NO_ORGNO}:{orgno}"}
