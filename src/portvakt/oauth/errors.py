"""OAuth errors with Maskinporten's MP codes (docs/protocol.md §1.5); one class per OAuth `error` value, named after it.

Each error has a client-safe description and an optional internal detail that only the log sees.
Codes marked `portvakt` are ours, where Maskinporten documents a text but no code.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import ClassVar

_ASCII_SWAPS = str.maketrans({'"': "'", "\\": "/", "\u2026": "...", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O",
                              "ß": "ss", "\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'",
                              "§": "section "})


def wire_description(text: str) -> str:
    """RFC 6749 §5.2: error_description holds %x20-21 / %x23-5B / %x5D-7E only; names such as "Bærum" are spelled
    in ASCII ("Baerum"), anything else becomes "?"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_ASCII_SWAPS))
    kept = (c for c in decomposed if not unicodedata.combining(c))
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in kept)


class OAuthError(Exception):
    """An error of the token endpoint, rendered once at the edge as RFC 6749 §5.2 JSON."""

    error: ClassVar[str] = "invalid_request"
    status: ClassVar[int] = 400

    def __init__(self, code: str, description: str, *, detail: str = "") -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = wire_description(description)
        self.detail = detail


class InvalidRequestError(OAuthError):
    """RFC 6749 §5.2 invalid_request."""

    error = "invalid_request"


class InvalidGrantError(OAuthError):
    """RFC 6749 §5.2 invalid_grant."""

    error = "invalid_grant"


class InvalidScopeError(OAuthError):
    """RFC 6749 §5.2 invalid_scope."""

    error = "invalid_scope"


class UnsupportedGrantTypeError(OAuthError):
    """RFC 6749 §5.2 unsupported_grant_type."""

    error = "unsupported_grant_type"


class InvalidAuthorizationDetailsError(OAuthError):
    """RFC 9396 §5 invalid_authorization_details: a type we do not support, or details we cannot read."""

    error = "invalid_authorization_details"


class ForbiddenError(OAuthError):
    """Maskinporten's 403 `forbidden` (docs/protocol.md §1.5 MP-250/251)."""

    error = "forbidden"
    status = 403


class TemporarilyUnavailableError(OAuthError):
    """RFC 6749 §4.1.2.1 temporarily_unavailable: a dependency is down; fail closed."""

    error = "temporarily_unavailable"
    status = 503


class ServerError(OAuthError):
    """Anything unexpected; the description never carries internals."""

    error = "server_error"
    status = 500


@dataclass(frozen=True)
class MPCode:
    """One entry of the error catalogue: code, OAuth class, wire text and a page for people."""

    code: str
    cls: type[OAuthError]
    text: str
    title: str
    explanation: str
    origin: str = "maskinporten"

    def __call__(self, suffix: str = "", *, detail: str = "") -> OAuthError:
        """Build the error; `suffix` (e.g. the offending scope) follows the documented text."""
        return self.cls(self.code, f"{self.text}{suffix}", detail=detail)
