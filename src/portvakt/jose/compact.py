"""Decode a compact JWS without verifying it: decoding is not validating (RFC 7515 §7.1, RFC 8725 §3)."""

from __future__ import annotations

from binascii import a2b_base64
from dataclasses import dataclass, field
from typing import Any

from ._json import JSONRefusedError, loads_object
from .errors import MalformedJWT

#: Header parameters we refuse outright: unknown critical extensions (RFC 7515 §4.1.11) and the
#: unencoded-payload option (RFC 7797 §3), neither of which a grant needs.
_REFUSED_HEADERS = ("crit", "b64")

_NOT_BASE64URL = "the JWT may contain only base64url characters (A-Z a-z 0-9 - _) and '.' (RFC 7515 §2)"
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_PADDING = (b"", b"", b"==", b"=")
#: The last character of a segment whose length is 2 or 3 mod 4 must leave the unused bits zero,
#: so that each byte string has exactly one encoding (RFC 4648 §3.5).
#: (Checked after mapping "-_" to "+/", so the sets use the standard alphabet.)
_CANONICAL_LAST = (b"", b"", b"AQgw", b"AEIMQUYcgkosw048")


@dataclass(frozen=True)
class UnverifiedJWT:
    """A parsed but NOT verified JWT: trust nothing in it until Verifier.verify has passed."""

    header: dict[str, Any]
    claims: dict[str, Any]
    _signing_input: bytes = field(repr=False, compare=False)
    _signature: bytes = field(repr=False, compare=False)


def peek(token: str, *, max_length: int = 16384) -> UnverifiedJWT:
    """Split and decode a compact JWS (RFC 7515 §5.2 steps 1-7) without verifying; only MalformedJWT."""
    if not isinstance(token, str):
        raise MalformedJWT("the JWT must be a string")
    if len(token) > max_length:
        raise MalformedJWT(f"the JWT is longer than {max_length} characters")
    if "+" in token or "/" in token or "=" in token or not token.isascii():
        raise MalformedJWT(_NOT_BASE64URL)
    raw = token.encode("ascii")
    segments = raw.translate(_TO_STANDARD).split(b".")
    if len(segments) != 3:
        raise MalformedJWT("the JWT must be three base64url segments separated by '.' (RFC 7515 §7.1)")
    header_segment, payload_segment, signature_segment = segments
    header = _json_segment(header_segment, "header")
    _check_header(header)
    claims = _json_segment(payload_segment, "claims")
    signature = _b64_segment(signature_segment, "signature")
    signing_input = raw[: len(header_segment) + 1 + len(payload_segment)]
    return UnverifiedJWT(header, claims, _signing_input=signing_input, _signature=signature)


def _b64_segment(segment: bytes, name: str) -> bytes:
    """Decode one segment (already mapped to the standard alphabet) as canonical base64url (RFC 7515 §2)."""
    rem = len(segment) % 4
    if rem == 1 or (rem and segment[-1] not in _CANONICAL_LAST[rem]):
        raise MalformedJWT(f"the JWT {name} is not canonical base64url without padding (RFC 7515 §2)")
    try:
        return a2b_base64(segment + _PADDING[rem], strict_mode=True)
    except ValueError:
        raise MalformedJWT(f"the JWT {name} is not valid base64url (RFC 7515 §2)") from None


def _json_segment(segment: bytes, name: str) -> dict[str, Any]:
    """Decode one segment as a UTF-8 JSON object (RFC 7515 §5.2 steps 3-4, RFC 7519 §7.2 step 10)."""
    raw = _b64_segment(segment, name)
    try:
        return loads_object(raw.decode("utf-8"), unique=False)
    except (UnicodeDecodeError, JSONRefusedError):
        raise MalformedJWT(f"the JWT {name} is not a UTF-8 JSON object") from None


def _check_header(header: dict[str, Any]) -> None:
    """Require a string alg (RFC 7515 §4.1.1) and string kid if any; refuse crit and b64."""
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        raise MalformedJWT('the JWT header needs an "alg" string (RFC 7515 §4.1.1)')
    if "kid" in header and not isinstance(header["kid"], str):
        raise MalformedJWT('the JWT header "kid" must be a string (RFC 7515 §4.1.4)')
    for name in _REFUSED_HEADERS:
        if name in header:
            raise MalformedJWT(f'the JWT header parameter "{name}" is not supported (RFC 7515 §4.1.11)')
