"""What the Altinn endpoints are handed: the store, the clock and the token check of their app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request

from portvakt.domain.errors import NotFound
from portvakt.domain.ports import Clock, PasswordHasher, Store, UnitOfWork

from ..v1.deps import actor
from .auth import TokenGate

__all__ = ["AltinnContext", "actor", "context", "entity_id", "now", "reading", "writing"]
#: Ids this side makes are UUIDs; anything outside this shape cannot exist, so it is 404 without a lookup.
_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


@dataclass(frozen=True, slots=True)
class AltinnContext:
    """The components one Altinn app uses (kept on app.state.altinn)."""

    store: Store
    clock: Clock
    tokens: TokenGate
    hasher: PasswordHasher


def context(request: Request) -> AltinnContext:
    """The app's components."""
    ctx: AltinnContext = request.app.state.altinn
    return ctx


@contextmanager
def writing(request: Request) -> Iterator[UnitOfWork]:
    """One transaction (with its audit events and change-feed entries)."""
    with context(request).store.begin() as uow:
        yield uow


@contextmanager
def reading(request: Request) -> Iterator[UnitOfWork]:
    """A read-only snapshot."""
    with context(request).store.read() as uow:
        yield uow


def now(request: Request) -> datetime:
    """The injected clock's time."""
    return context(request).clock.now()


def entity_id(value: str, what: str) -> str:
    """A path id of the shape this side makes; NotFound for anything else (never a storage error)."""
    if not _ID.fullmatch(value):
        raise NotFound(f"no {what} {value[:100]!r}")
    return value
