"""How endpoints reach the store: one transaction per change, which the token service sees at once in this process
and within about a quarter of a second on every node (the change feed's poll, `PORTVAKT_CACHE_POLL_SECONDS`)."""

from __future__ import annotations

from fastapi import Request

from portvakt.domain.audit import Actor
from portvakt.domain.policy import Caller

from ..plumbing import StoreAccess
from ..runtime import Runtime

__all__ = ["actor", "now", "reading", "runtime", "writing"]


def runtime(request: Request) -> Runtime:
    """The wired components of this process."""
    rt: Runtime = request.app.state.runtime
    return rt


_ACCESS = StoreAccess(runtime)
#: One transaction; after it commits, this process's caches are refreshed at once (wiring's ObservedStore).
writing = _ACCESS.writing
#: A read-only snapshot.
reading = _ACCESS.reading
#: The injected clock's time.
now = _ACCESS.now


def actor(caller: Caller) -> Actor:
    """The audit actor of an API call: the token's org and client, and the person the portal acts for."""
    return Actor(caller.orgno, caller.client_id, caller.person)
