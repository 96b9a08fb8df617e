"""What every app of a process shares, in one place: /healthz, the handler of unexpected errors, the `/` of a
server with the portal, and how endpoints reach the store and the clock of their app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from portvakt.domain.ports import Clock, Store, UnitOfWork

from .v1.problems import unexpected

PORTAL_PATH = "/portal"


async def health(request: Request) -> Response:
    """GET /healthz: the process answers; it reads no store, so a busy one never slows it (docs/security.md,
    Store outage)."""
    return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store"})


async def to_portal(request: Request) -> Response:
    """GET / of a server with the portal: people land on the portal (RFC 9110 §15.4.4)."""
    return RedirectResponse(f"{PORTAL_PATH}/", status_code=303)


def install_plumbing(app: Starlette) -> None:
    """The root app of every process: /healthz, and unexpected errors as a 500 problem with a trace id."""
    app.router.add_route("/healthz", health, methods=["GET"])
    app.add_exception_handler(Exception, unexpected)


class Seat(Protocol):
    """Where an app keeps its store and its clock (api.runtime.Runtime, api.altinn.deps.AltinnContext)."""

    @property
    def store(self) -> Store: ...

    @property
    def clock(self) -> Clock: ...


@dataclass(frozen=True, slots=True)
class StoreAccess:
    """`writing`, `reading` and `now` for the endpoints of one app; `seat` says where the app keeps its store
    and clock. A change is one transaction, with its audit events and change-feed rows (decision S3)."""

    seat: Callable[[Request], Seat]

    @contextmanager
    def writing(self, request: Request) -> Iterator[UnitOfWork]:
        """One transaction; after it commits, this process's caches are refreshed at once (decision A12)."""
        with self.seat(request).store.begin() as uow:
            yield uow

    @contextmanager
    def reading(self, request: Request) -> Iterator[UnitOfWork]:
        """A read-only snapshot."""
        with self.seat(request).store.read() as uow:
            yield uow

    def now(self, request: Request) -> datetime:
        """The injected clock's time."""
        return self.seat(request).clock.now()
