"""The ASGI application: routes of this process and the background refresh of its caches."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, MutableMapping
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portvakt.domain.errors import StoreUnavailable
from portvakt.domain.ports import Clock, Store
from portvakt.oauth.bearer import local_validator
from portvakt.settings import LimitSettings

from .altinn import TokenGate, create_altinn_app, mount_altinn
from .error_pages import error_index, error_page
from .limits import BodyLimit
from .runtime import Runtime
from .token import TokenEndpoint
from .v1.app import create_v1
from .v1.problems import http_problem, store_unavailable, too_large
from .wellknown import jwk_endpoint, metadata_endpoint

log = logging.getLogger("portvakt")
PURGE_EVERY = 60.0


async def _refresher(rt: Runtime) -> None:
    """Read the change feed every cache_poll_seconds; purge used grants and old changes now and then."""
    since_purge = 0.0
    while True:
        await asyncio.sleep(rt.settings.cache_poll_seconds)
        try:
            await asyncio.to_thread(rt.catalog.refresh)
            since_purge += rt.settings.cache_poll_seconds
            if since_purge >= PURGE_EVERY:
                since_purge = 0.0
                now = rt.clock.now()
                await asyncio.to_thread(rt.replay.purge, now)
                await asyncio.to_thread(rt.store.prune_changes, now - timedelta(hours=1))
        except Exception:
            log.exception("cache refresh failed; retrying")


class FastPath:
    """ASGI front: POST /token goes straight to its endpoint; everything else (the portal mounted later too)
    to the framework; both behind the one body limit (docs/security.md, Resource exhaustion)."""

    def __init__(self, app: FastAPI, token: TokenEndpoint, limits: LimitSettings) -> None:
        self.app = app
        self._token = BodyLimit(token, limits.max_body_bytes, token.too_large)
        self._framework = BodyLimit(app, limits.max_body_bytes, too_large)

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/token":
            await self._token(scope, receive, send)
        else:
            await self._framework(scope, receive, send)


def create_app(rt: Runtime, *, altinn: bool = True) -> FastPath:
    """Wire the routes to one runtime; `altinn` also serves the Altinn side on the same store (docs/protocol.md §4)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_refresher(rt))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(title="portvakt", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.runtime = rt
    app.add_route("/jwk", jwk_endpoint(rt), methods=["GET"])  # type: ignore[arg-type]
    app.add_route("/.well-known/oauth-authorization-server", metadata_endpoint(rt),  # type: ignore[arg-type]
                  methods=["GET"])
    app.add_route("/errors/", error_index, methods=["GET"])
    app.add_route("/errors/{code}", error_page, methods=["GET"])
    app.add_route("/healthz", _health, methods=["GET"])
    app.mount("/api/v1", create_v1(rt))
    if altinn:
        tokens = TokenGate(local_validator(rt.keyring, rt.issuer, rt.clock), rt.portal_clients, "altinn")
        mount_altinn(app, create_altinn_app(rt.store, rt.clock, tokens,
                                            docs=rt.settings.resolved_interactive_docs()))
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(StarletteHTTPException, http_problem)
    app.add_exception_handler(StoreUnavailable, store_unavailable)
    return FastPath(app, TokenEndpoint(rt), rt.settings.limits)


def create_altinn_service(store: Store, clock: Clock, tokens: TokenGate, *, limits: LimitSettings | None = None,
                          docs: bool = False) -> BodyLimit:
    """The Altinn side as a process of its own (`serve --only altinn`), with /healthz (docs/protocol.md §4), behind
    the body
    limit (docs/security.md, Resource exhaustion)."""
    app = create_altinn_app(store, clock, tokens, docs=docs)
    app.add_route("/healthz", _health, methods=["GET"])
    app.add_exception_handler(Exception, _unexpected)
    return BodyLimit(app, (limits or LimitSettings()).max_body_bytes, too_large)


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store"})


async def _unexpected(request: Request, exc: Any) -> Response:
    log.error("unhandled error on %s", request.url.path, exc_info=exc)
    return JSONResponse({"type": "about:blank", "title": "Internal Server Error", "status": 500}, status_code=500)
