"""Why a request was refused, as RFC 6750 §3 errors; `str(e)` is client-safe and never holds the token."""

from __future__ import annotations

import re
from typing import ClassVar

#: RFC 6750 §3: error_description and scope values may use only %x20-21 / %x23-5B / %x5D-7E.
_NOT_NQSCHAR = re.compile(r'[^\x20\x21\x23-\x5b\x5d-\x7e]')


def header_safe(value: str) -> str:
    """Replace every character RFC 6750 §3 forbids inside a quoted attribute (", \\, non-ASCII)."""
    return _NOT_NQSCHAR.sub("?", value)


class ResourceError(Exception):
    """Base of every refusal; `status` is the HTTP status and `description` is safe to show a client."""

    status: ClassVar[int] = 500

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class BearerError(ResourceError):
    """A refusal that carries an RFC 6750 §3 `WWW-Authenticate: Bearer` challenge."""

    error: ClassVar[str | None] = None

    def challenge(self, realm: str) -> str:
        """The WWW-Authenticate value: realm, then error and error_description if any (RFC 6750 §3)."""
        parts = [f'Bearer realm="{header_safe(realm)}"']
        if self.error is not None:
            parts.append(f'error="{self.error}"')
            parts.append(f'error_description="{header_safe(self.description)}"')
        return ", ".join(parts)


class MissingToken(BearerError):
    """No Bearer credentials at all: 401 with a bare challenge, no error code (RFC 6750 §3.1)."""

    status = 401


class InvalidRequest(BearerError):
    """The Authorization header is malformed or repeated: 400 invalid_request (RFC 6750 §3.1)."""

    status = 400
    error = "invalid_request"


class InvalidToken(BearerError):
    """The token is malformed, unsigned by the issuer, expired or for another audience (RFC 6750 §3.1)."""

    status = 401
    error = "invalid_token"


class InsufficientScope(BearerError):
    """The token lacks a scope the resource requires: 403 with the required `scope` (RFC 6750 §3.1)."""

    status = 403
    error = "insufficient_scope"

    def __init__(self, description: str, scope: str) -> None:
        super().__init__(description)
        self.scope = scope

    def challenge(self, realm: str) -> str:
        """The challenge with `scope="..."` naming every required scope (RFC 6750 §3)."""
        return f'{super().challenge(realm)}, scope="{header_safe(self.scope)}"'


class JwksUnavailable(ResourceError):
    """No key set could be fetched and none is cached: 503, the token was not judged (RFC 9110 §15.6.4).

    `detail` says why (for logs, not for clients); `retry_after` is the seconds until the next fetch
    attempt is allowed.
    """

    status = 503

    def __init__(self, detail: str, retry_after: int = 1) -> None:
        super().__init__("the token issuer's signing keys are not available; try again later")
        self.detail = detail
        self.retry_after = max(1, retry_after)
