"""How endpoints reach the store: one transaction per change, and the token service sees it at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from fastapi import Request

from portvakt.domain.audit import Actor
from portvakt.domain.policy import Caller
from portvakt.domain.ports import UnitOfWork

from ..runtime import Runtime


def runtime(request: Request) -> Runtime:
    """The wired components of this process."""
    rt: Runtime = request.app.state.runtime
    return rt


@contextmanager
def writing(request: Request) -> Iterator[UnitOfWork]:
    """One transaction; after it commits, this process's caches are refreshed at once (wiring's ObservedStore)."""
    with runtime(request).store.begin() as uow:
        yield uow


@contextmanager
def reading(request: Request) -> Iterator[UnitOfWork]:
    """A read-only snapshot."""
    with runtime(request).store.read() as uow:
        yield uow


def now(request: Request) -> datetime:
    """The injected clock's time."""
    return runtime(request).clock.now()


def actor(caller: Caller) -> Actor:
    """The audit actor of an API call: the token's org and client, and the person the portal acts for."""
    return Actor(caller.orgno, caller.client_id, caller.person)
