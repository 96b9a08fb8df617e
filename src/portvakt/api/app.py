"""The ASGI apps of one process: the token service's routes, the Altinn side alone, the portal's front, and
the one front (FastPath) every process is served through, with the background refresh of its caches.

FastPath is also where every request gets its request id (X-Request-Id), its duration metric under its route
template, and the 5xx rules (a trace id, no closed connection); and where the process learns it is stopping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, MutableMapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from portvakt.domain.errors import StoreUnavailable
from portvakt.logs import REQUEST_ID, flush_due
from portvakt.settings import LimitSettings

from . import metrics
from .altinn.route import mount_altinn
from .deferred import Deferred
from .error_pages import error_index, error_page
from .health import Drain, Health, drain_plan, replay_probe
from .limits import BodyLimit
from .plumbing import (
    PORTAL_PATH,
    REQUEST_ID_HEADER,
    RouteTemplates,
    install_plumbing,
    request_id,
    serve_guarded,
    to_portal,
)
from .runtime import Runtime
from .token import TokenEndpoint
from .v1.problems import http_problem, store_unavailable, too_large
from .wellknown import jwk_endpoint, metadata_endpoint

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("portvakt")
PURGE_EVERY = 60.0


class ChangePush(Protocol):
    """Tells a worker at once that another process committed a change (decision S12), e.g. PostgreSQL's NOTIFY."""

    def start(self, on_change: Callable[[int | None], None]) -> None:
        """Begin calling `on_change` (from any thread) whenever the change feed may have grown."""

    def stop(self) -> None:
        """Stop calling it; may block briefly (call it off the event loop)."""


async def _refresher(rt: Runtime, wake: asyncio.Event | None = None) -> None:
    """Read the change feed every cache_poll_seconds, or at once when `wake` is set (decision S12); purge used grants
    and old changes now and then (decision S2); publish the registry's staleness (decision S9) and the log lines the
    throttle held back (decision S11)."""
    last_purge = time.monotonic()
    while True:
        await _woken(wake, rt.settings.cache_poll_seconds)
        metrics.STALENESS.set(rt.registry.age())
        flush_due()
        try:
            await asyncio.to_thread(rt.registry.refresh)
            if time.monotonic() - last_purge >= PURGE_EVERY:
                last_purge = time.monotonic()
                now = rt.clock.now()
                await asyncio.to_thread(rt.replay.purge, now)
                await asyncio.to_thread(rt.store.prune_changes, now - timedelta(hours=1))
        except Exception:
            log.exception("cache refresh failed; retrying")


async def _woken(wake: asyncio.Event | None, seconds: float) -> None:
    """Wait `seconds`, or less if `wake` is set; a wake during the refresh that follows is kept for the next wait."""
    if wake is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wake.wait(), seconds)
    wake.clear()


class FastPath:
    """The ASGI front of every process: POST /token (when this process issues tokens) goes straight to its
    endpoint (decision S4), everything else to the framework app; both behind the one body limit
    (docs/security.md, Resource exhaustion). `runtime` is the token service's, None in a process without it;
    `health` holds the process's readiness checks and its drain (decision S10)."""

    def __init__(self, app: Starlette, limits: LimitSettings, token: TokenEndpoint | None = None,
                 runtime: Runtime | None = None, health: Health | None = None) -> None:
        self._app = app
        self.runtime = runtime
        self.health = health or Health(Drain())
        self.portal: ASGIApp | None = None
        self._token = BodyLimit(token, limits.max_body_bytes, token.too_large) if token is not None else None
        self._framework = BodyLimit(app, limits.max_body_bytes, too_large)
        self._templates = RouteTemplates(app)

    def mount_portal(self, portal: ASGIApp) -> None:
        """Serve the portal at /portal, and send people who open / there (behind the same body limit)."""
        self.portal = portal
        self._app.router.mount(PORTAL_PATH, portal)
        self._app.router.add_route("/", to_portal, methods=["GET"])
        self.routes_changed()

    def routes_changed(self) -> None:
        """The app's routes changed (a mount was added, or a deferred app was built): name them anew."""
        self._templates.reset()

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(scope, receive, send)
            else:
                await self._framework(scope, receive, send)
            return
        rid = request_id(scope)
        context = REQUEST_ID.set(rid)
        start = time.perf_counter()
        try:
            if self._token is not None and scope["path"] == "/token":
                await self._token(scope, receive, _TokenReply(send, rid).send)
                endpoint = "/token"
            else:
                await serve_guarded(self._framework, scope, receive, send, rid, self._templates)
                endpoint = self._templates(scope)
        finally:
            REQUEST_ID.reset(context)
        metrics.observe_request(endpoint, scope["method"], time.perf_counter() - start)

    async def _lifespan(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        """The framework's lifespan, with the drain watching it (SIGTERM hook at startup); at the end this worker
        leaves the live metrics."""
        try:
            await self._framework(scope, self.health.drain.lifespan(receive), send)
        finally:
            metrics.process_exiting()


class _TokenReply:
    """The send of one /token request: adds X-Request-Id, and counts a refusal by its MP code."""

    __slots__ = ("_refused", "_rid", "_send")

    def __init__(self, send: Any, rid: str) -> None:
        self._send = send
        self._rid = rid.encode()
        self._refused = False

    async def send(self, message: MutableMapping[str, Any]) -> None:
        """Pass the message on, with the header on the start and the refusal counted from the body."""
        if message["type"] == "http.response.start":
            self._refused = message["status"] != 200
            message = {**message, "headers": [*message.get("headers", ()), (REQUEST_ID_HEADER, self._rid)]}
        elif self._refused and message["type"] == "http.response.body":
            self._refused = False
            metrics.count_token_error(bytes(message.get("body", b"")))
        await self._send(message)


def _lifespan(rt: Runtime, push: ChangePush | None = None) -> Any:
    """The token service's lifespan: the cache refresher runs while the app does (decision S2), woken by `push`
    when there is one (decision S12), which is stopped before the refresher."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        wake = None
        if push is not None:
            wake = asyncio.Event()
            push.start(_waker(asyncio.get_running_loop(), wake))
        task = asyncio.create_task(_refresher(rt, wake))
        try:
            yield
        finally:
            if push is not None:
                await asyncio.to_thread(push.stop)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return lifespan


def _waker(loop: asyncio.AbstractEventLoop, wake: asyncio.Event) -> Callable[[int | None], None]:
    """A callback for any thread that sets `wake` on `loop` (nothing once the loop is closed)."""

    def on_change(_seq: int | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed under a listener that had not stopped yet
            loop.call_soon_threadsafe(wake.set)

    return on_change


def create_app(rt: Runtime, *, altinn: Callable[[], ASGIApp] | None = None, push: ChangePush | None = None,
               defer: bool = False) -> FastPath:
    """The token service on one runtime: /token, /jwk, metadata, error pages and /api/v1; with `altinn`, what
    builds the Altinn side's app (api.altinn.app.create_altinn_app), served on its full paths in the same process
    (docs/protocol.md §4); with `push`, its caches refresh as soon as another process commits a change (decision
    S12); with `defer`, /api/v1 and the Altinn side are each built on their first request (decision F15)."""
    app = Starlette(lifespan=_lifespan(rt, push))  # plain routes only: FastAPI is loaded by /api/v1 and Altinn
    app.state.runtime = rt
    rt.registry.observe(metrics.observe_lookup)
    health = Health(_drain(rt.settings.limits), store=rt.store.last_change_seq,
                    replay=replay_probe(rt.replay, rt.clock), registry=rt.registry)
    app.add_route("/jwk", jwk_endpoint(rt), methods=["GET"])  # type: ignore[arg-type]
    app.add_route("/.well-known/oauth-authorization-server", metadata_endpoint(rt),  # type: ignore[arg-type]
                  methods=["GET"])
    app.add_route("/errors/", error_index, methods=["GET"])
    app.add_route("/errors/{code}", error_page, methods=["GET"])
    install_plumbing(app, health)
    parts = [_built(lambda: _v1(rt), defer)]
    app.mount("/api/v1", parts[0])
    if altinn is not None:
        parts.append(_built(altinn, defer))
        mount_altinn(app, parts[1])
    app.add_exception_handler(StarletteHTTPException, http_problem)
    app.add_exception_handler(StoreUnavailable, store_unavailable)
    front = FastPath(app, rt.settings.limits, TokenEndpoint(rt), rt, health)
    for part in parts:
        if isinstance(part, Deferred):
            part.then(front.routes_changed)
    return front


def _built(build: Callable[[], ASGIApp], defer: bool) -> ASGIApp:
    """The app `build` makes: now, or with `defer` on its first request (decision F15)."""
    return Deferred(build) if defer else build()


def _v1(rt: Runtime) -> ASGIApp:
    """The self-service API (docs/protocol.md §3) on `rt`."""
    from .v1.app import create_v1

    return create_v1(rt)


def _drain(limits: LimitSettings) -> Drain:
    """This process's drain, with the notice period of limits (decision S10)."""
    return Drain(drain_plan(limits)[0])


def create_altinn_service(altinn: FastAPI, limits: LimitSettings) -> FastPath:
    """The Altinn side as a process of its own (`serve --only altinn`, decision D6): its app with /healthz,
    /livez, /readyz (its store, draining) and /metrics."""
    from .altinn.deps import AltinnContext

    context: AltinnContext = altinn.state.altinn
    health = Health(_drain(limits), store=context.store.last_change_seq)
    install_plumbing(altinn, health)
    return FastPath(altinn, limits, health=health)


def create_front(limits: LimitSettings) -> FastPath:
    """A process with neither API (`serve --only portal`): /healthz, /livez, /readyz (draining), /metrics, and the
    portal once mounted."""
    app = Starlette()
    health = Health(_drain(limits))
    install_plumbing(app, health)
    return FastPath(app, limits, health=health)
