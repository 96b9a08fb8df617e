"""What the test kit's token helpers answer: a Token from the real /token, or TokenRefused with its MP code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from portvakt.client import TokenError
from portvakt.jose import peek


class TokenRefused(TokenError):
    """/token refused (or could not be reached): `status`, `error`, `code` (the MP code) and the OAuth `body`."""

    @property
    def error(self) -> str | None:
        """The OAuth `error` value (RFC 6749 §5.2), e.g. "invalid_scope"."""
        value = self.body.get("error")
        return value if isinstance(value, str) else None

    @property
    def code(self) -> str | None:
        """The MP code, read from `error_uri` (docs/protocol.md §1.5), e.g. "MP-250"."""
        uri = self.body.get("error_uri")
        return uri.rsplit("/", 1)[-1] if isinstance(uri, str) and "/errors/" in uri else None


@dataclass(frozen=True)
class Token:
    """An access token the server issued (docs/protocol.md §1.4); `str(token)` is the token itself."""

    access_token: str = field(repr=False)
    expires_in: int
    scope: str
    token_type: str = "Bearer"  # noqa: S105 (the token type, not a secret)

    @classmethod
    def from_response(cls, body: dict[str, Any]) -> Token:
        """The token response's fields (RFC 6749 §5.1)."""
        return cls(access_token=str(body["access_token"]), expires_in=int(body["expires_in"]),
                   scope=str(body.get("scope", "")), token_type=str(body.get("token_type", "Bearer")))

    def __str__(self) -> str:
        return self.access_token

    @property
    def authorization(self) -> str:
        """The Authorization header value, `Bearer <token>` (RFC 6750 §2.1)."""
        return f"Bearer {self.access_token}"

    @property
    def headers(self) -> dict[str, str]:
        """`{"Authorization": "Bearer <token>"}`, for an HTTP client call."""
        return {"Authorization": self.authorization}

    @property
    def claims(self) -> dict[str, Any]:
        """The token's claims, decoded without verifying (docs/protocol.md §2.2)."""
        return peek(self.access_token).claims

    @property
    def header(self) -> dict[str, Any]:
        """The token's JOSE header (docs/protocol.md §2.1)."""
        return peek(self.access_token).header


def scope_string(scopes: str | Iterable[object]) -> str:
    """Scopes as the grant's space-separated `scope` claim (RFC 6749 §3.3); items may be scope handles."""
    if isinstance(scopes, str):
        return scopes
    return " ".join(str(s) for s in scopes)
