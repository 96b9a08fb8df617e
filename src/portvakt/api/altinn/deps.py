"""What the Altinn endpoints are handed: the store, the clock and the token check of their app."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import Request

from portvakt.domain.errors import NotFound
from portvakt.domain.ports import Clock, PasswordHasher, Store

from ..plumbing import StoreAccess
from ..v1.deps import actor
from .auth import TokenGate

__all__ = ["AltinnContext", "actor", "context", "entity_id", "now", "portal_base", "public_base", "reading",
           "writing"]
#: Ids this side makes are UUIDs; anything outside this shape cannot exist, so it is 404 without a lookup.
_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


@dataclass(frozen=True, slots=True)
class AltinnContext:
    """The components one Altinn app uses (kept on app.state.altinn)."""

    store: Store
    clock: Clock
    tokens: TokenGate
    hasher: PasswordHasher
    #: The Altinn side's own base URL (Location headers, page links); None: the request's base URL.
    public_url: str | None = None
    #: The portal's base URL (a request's confirmUrl); None: <public_url>portal/.
    portal_url: str | None = None


def context(request: Request) -> AltinnContext:
    """The app's components."""
    ctx: AltinnContext = request.app.state.altinn
    return ctx


_ACCESS = StoreAccess(context)
#: One transaction (with its audit events and change-feed entries).
writing = _ACCESS.writing
#: A read-only snapshot.
reading = _ACCESS.reading
#: The injected clock's time.
now = _ACCESS.now


def _slashed(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def public_base(request: Request) -> str:
    """The Altinn side's base URL, ending in `/`: AltinnContext.public_url, else the request's base URL."""
    return _slashed(context(request).public_url or str(request.base_url))


def portal_base(request: Request) -> str:
    """The portal's base URL, ending in `/`: AltinnContext.portal_url, else `<public base>portal/`."""
    portal = context(request).portal_url
    return _slashed(portal) if portal else public_base(request) + "portal/"


def entity_id(value: str, what: str) -> str:
    """A path id of the shape this side makes; NotFound for anything else (never a storage error)."""
    if not _ID.fullmatch(value):
        raise NotFound(f"no {what} {value[:100]!r}")
    return value
