"""create_portal: the portal as one Starlette app, to be mounted at /portal."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portvakt.sms import DevOutbox, SmsGateway

from .assets import DesignAssets, find_assets
from .backend import Backend
from .clock import Clock, Monotonic
from .config import PortalConfig
from .errors import PortalError
from .ratelimit import LoginLimiter, SharedFailures
from .render import Renderer
from .routes import (
    access,
    access_change,
    delegate,
    delegations,
    dev,
    keys,
    people,
    systems,
    systemuser_requests,
    systemusers,
)
from .security import SecurityHeaders
from .sessions import SessionStore
from .tokens import PortalTokenSource
from .web import PageError, PortalState, Redirect, base, state

log = logging.getLogger("portvakt.portal")
STATIC = Path(__file__).parent / "static"
_TITLES = {404: ("error.not_found.title", "error.not_found"), 405: ("error.title", "error.method")}


def _error_page(request: Request, status: int, title: str, text: str, values: dict[str, str]) -> Response:
    return state(request).renderer.page(request, "error.html", status=status, title=title, text=text,
                                        values=values)


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return _error_page(request, exc.status, exc.title, exc.text, exc.values)


async def _redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Redirect)
    return RedirectResponse(base(request) + exc.path, status_code=303)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    title, text = _TITLES.get(exc.status_code, ("error.title", "error.bad_form"))
    return _error_page(request, exc.status_code, title, text, {})


async def _portal_error(request: Request, exc: Exception) -> Response:
    """An API refusal no page handled, or the APIs unavailable: a readable page, never the details."""
    assert isinstance(exc, PortalError)
    if exc.kind == "unavailable":
        return _error_page(request, 503, "error.unavailable.title", "error.unavailable", {})
    return _error_page(request, 400, "error.title", "form.refused", {"reason": exc.message})


class CatchUnexpected:
    """ASGI middleware: an unexpected exception becomes the 500 page (inside the security headers), logged once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if scope["type"] != "http":
                raise
            request = Request(scope)
            log.error("portal: unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
            if not started:
                page = _error_page(request, 500, "error.title", "error.server", {})
                await page(scope, receive, send)


def _routes(config: PortalConfig, outbox: DevOutbox | None, assets: DesignAssets) -> list[BaseRoute]:
    routes: list[BaseRoute] = [*people.ROUTES, *systems.ROUTES, *keys.ROUTES, *delegate.ROUTES, *delegations.ROUTES,
                               *access.ROUTES, *access_change.ROUTES, *systemuser_requests.ROUTES,
                               *systemusers.ROUTES]
    if config.dev_mode and outbox is not None:
        routes += dev.ROUTES
    routes.append(Route("/static/ds/{name}", assets.serve, methods=["GET"]))
    routes.append(Mount("/static", app=StaticFiles(directory=STATIC), name="static"))
    return routes


def _state(config: PortalConfig, client: httpx.AsyncClient, clock: Clock, monotonic: Monotonic,
           assets: DesignAssets, sms: SmsGateway, outbox: DevOutbox | None,
           login_counts: SharedFailures | None = None) -> PortalState:
    """The portal's components, every one reading time from `clock` or `monotonic` (docs/decisions.md P13)."""
    s = config.settings
    tokens = PortalTokenSource(config, client, clock=clock, monotonic=monotonic)
    return PortalState(
        config=config, clock=clock,
        sessions=SessionStore(config.session_secret, idle=s.session_idle_seconds, lifetime=s.session_max_seconds,
                              now=monotonic, max_sessions=s.max_sessions, per_person=s.max_sessions_per_person),
        limiter=LoginLimiter(s.login_max_failures, s.login_max_failures_per_ip, s.login_window_seconds,
                             now=monotonic, shared=login_counts),
        backend=Backend(config, client, tokens), sms=sms, outbox=outbox,
        renderer=Renderer(assets.stylesheets(), dev_sms=config.dev_mode and outbox is not None))


def create_portal(config: PortalConfig, *, sms: SmsGateway, clock: Clock, monotonic: Monotonic,
                  outbox: DevOutbox | None = None, http: httpx.AsyncClient | None = None,
                  login_counts: SharedFailures | None = None) -> Starlette:
    """The portal app; `clock` gives wall time, `monotonic` times windows (never wall time), `http` reaches the APIs
    (default: a new client), `outbox` backs /dev/sms in dev mode, `login_counts` shares the login throttle's counts
    with the other portal nodes (default: this process counts alone)."""
    client = http or httpx.AsyncClient(timeout=config.settings.timeout_seconds, follow_redirects=False)
    assets = DesignAssets(find_assets(config.settings.assets_dir))
    app = Starlette(routes=_routes(config, outbox, assets),
                    middleware=[Middleware(SecurityHeaders), Middleware(CatchUnexpected)],
                    exception_handlers={PageError: _page_error, Redirect: _redirect, HTTPException: _http_error,
                                        PortalError: _portal_error})
    app.state.portal = _state(config, client, clock, monotonic, assets, sms, outbox, login_counts)
    return app
