"""The ASGI apps of one process: the token service's routes, the Altinn side alone, the portal's front, and
the one front (FastPath) every process is served through, with the background refresh of its caches."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, MutableMapping
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from portvakt.domain.errors import StoreUnavailable
from portvakt.settings import LimitSettings

from .altinn import mount_altinn
from .error_pages import error_index, error_page
from .limits import BodyLimit
from .plumbing import PORTAL_PATH, install_plumbing, to_portal
from .runtime import Runtime
from .token import TokenEndpoint
from .v1.app import create_v1
from .v1.problems import http_problem, store_unavailable, too_large
from .wellknown import jwk_endpoint, metadata_endpoint

log = logging.getLogger("portvakt")
PURGE_EVERY = 60.0


async def _refresher(rt: Runtime) -> None:
    """Read the change feed every cache_poll_seconds; purge used grants and old changes now and then (decision S2)."""
    since_purge = 0.0
    while True:
        await asyncio.sleep(rt.settings.cache_poll_seconds)
        try:
            await asyncio.to_thread(rt.registry.refresh)
            since_purge += rt.settings.cache_poll_seconds
            if since_purge >= PURGE_EVERY:
                since_purge = 0.0
                now = rt.clock.now()
                await asyncio.to_thread(rt.replay.purge, now)
                await asyncio.to_thread(rt.store.prune_changes, now - timedelta(hours=1))
        except Exception:
            log.exception("cache refresh failed; retrying")


class FastPath:
    """The ASGI front of every process: POST /token (when this process issues tokens) goes straight to its
    endpoint (decision S4), everything else to the framework app; both behind the one body limit
    (docs/security.md, Resource exhaustion). `runtime` is the token service's, None in a process without it."""

    def __init__(self, app: Starlette, limits: LimitSettings, token: TokenEndpoint | None = None,
                 runtime: Runtime | None = None) -> None:
        self._app = app
        self.runtime = runtime
        self.portal: ASGIApp | None = None
        self._token = BodyLimit(token, limits.max_body_bytes, token.too_large) if token is not None else None
        self._framework = BodyLimit(app, limits.max_body_bytes, too_large)

    def mount_portal(self, portal: ASGIApp) -> None:
        """Serve the portal at /portal, and send people who open / there (behind the same body limit)."""
        self.portal = portal
        self._app.router.mount(PORTAL_PATH, portal)
        self._app.router.add_route("/", to_portal, methods=["GET"])

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if self._token is not None and scope["type"] == "http" and scope["path"] == "/token":
            await self._token(scope, receive, send)
        else:
            await self._framework(scope, receive, send)


def _lifespan(rt: Runtime) -> Any:
    """The token service's lifespan: the cache refresher runs while the app does (decision S2)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_refresher(rt))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return lifespan


def create_app(rt: Runtime, *, altinn: ASGIApp | None = None) -> FastPath:
    """The token service on one runtime: /token, /jwk, metadata, error pages and /api/v1; with `altinn`, the
    Altinn side's app (api.altinn.create_altinn_app) on its full paths in the same process (docs/protocol.md §4)."""
    app = FastAPI(title="portvakt", version="0.1.0", lifespan=_lifespan(rt), docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.runtime = rt
    app.add_route("/jwk", jwk_endpoint(rt), methods=["GET"])  # type: ignore[arg-type]
    app.add_route("/.well-known/oauth-authorization-server", metadata_endpoint(rt),  # type: ignore[arg-type]
                  methods=["GET"])
    app.add_route("/errors/", error_index, methods=["GET"])
    app.add_route("/errors/{code}", error_page, methods=["GET"])
    install_plumbing(app)
    app.mount("/api/v1", create_v1(rt))
    if altinn is not None:
        mount_altinn(app, altinn)
    app.add_exception_handler(StarletteHTTPException, http_problem)
    app.add_exception_handler(StoreUnavailable, store_unavailable)
    return FastPath(app, rt.settings.limits, TokenEndpoint(rt), rt)


def create_altinn_service(altinn: FastAPI, limits: LimitSettings) -> FastPath:
    """The Altinn side as a process of its own (`serve --only altinn`, decision D6): its app with /healthz."""
    install_plumbing(altinn)
    return FastPath(altinn, limits)


def create_front(limits: LimitSettings) -> FastPath:
    """A process with neither API (`serve --only portal`): /healthz, and the portal once mounted."""
    app = Starlette()
    install_plumbing(app)
    return FastPath(app, limits)
