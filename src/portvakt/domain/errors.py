"""Domain errors: each carries a client-safe message; the edges render them (problem details, CLI)."""

from __future__ import annotations


class DomainError(Exception):
    """Base for errors the domain raises on purpose; `message` is safe to show to the caller."""

    kind = "domain-error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Invalid(DomainError):
    """The input breaks a rule of the spec."""

    kind = "invalid"


class NotFound(DomainError):
    """No such entity, or one the caller may not know exists."""

    kind = "not-found"


class Conflict(DomainError):
    """The entity exists already, or the change conflicts with its state."""

    kind = "conflict"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    kind = "forbidden"


class StoreUnavailable(Exception):
    """The registry could not be read or written in time (busy, locked or down); the edges answer 503.

    Not a DomainError: it says nothing about the request, and no handler of rule violations may swallow it.
    The message is for the log; callers are told only to try again (docs/security.md, Store outage).
    """
