"""The Altinn side as an ASGI app: its routers, problem details and OpenAPI document (docs/protocol.md §4).

It serves full paths (/maskinporten-api/..., /accessmanagement/...), so the same app runs as its own
process or inside the token service's app via `mount_altinn`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from portvakt.altinn.passwords import Argon2PasswordHasher
from portvakt.domain.ports import Clock, PasswordHasher, Store

from ..v1 import problems
from . import (
    altinn_problems,
    authorize,
    clientdelegation,
    delegations,
    exchange,
    lookup,
    people,
    request_decisions,
    schemes,
    systemregister,
    systemuser_requests,
    systemusers,
)
from .auth import TokenCheckUnavailable, TokenGate, unavailable
from .deps import AltinnContext
from .exchange import TokenExchange

PREFIXES = ("/maskinporten-api/", "/accessmanagement/", "/authentication/", "/authorization/")
OPENAPI = "/accessmanagement/openapi.json"


def create_altinn_app(store: Store, clock: Clock, tokens: TokenGate, *,
                      hasher: PasswordHasher | None = None, docs: bool = False,
                      token_exchange: TokenExchange | None = None, public_url: str | None = None,
                      portal_url: str | None = None) -> FastAPI:
    """The Altinn side on `store`, authenticating callers with `tokens` (the one validator, api.bearer);
    people's passwords are checked with `hasher` (default: argon2id, RFC 9106 parameters). The swagger-ui page
    (scripts from a CDN) only with `docs` (docs/security.md, Third-party script). The token exchange and its keys
    (docs/protocol.md §6.7) only with `token_exchange` (else their paths answer 404). `public_url` and `portal_url`
    (settings.altinn) make Location headers, page links and a system-user request's confirmUrl; by default the
    request's base URL and `<base>portal/`."""
    app = FastAPI(title="portvakt Altinn side", version="1",
                  description="Delegation schemes, delegations and the lookup the token service asks "
                              "(Maskinporten API delegation). Authenticate with an access token carrying "
                              "altinn:maskinporten/... scopes. The portal (a token with altinn:portal) "
                              "logs people in here and may act for the organisation a person represents "
                              "with the headers Portvakt-Acting-For and Portvakt-Person.",
                  openapi_url=OPENAPI, docs_url="/accessmanagement/docs" if docs else None, redoc_url=None)
    app.state.gate = tokens
    app.state.exchange = token_exchange
    app.state.altinn = AltinnContext(store=store, clock=clock, tokens=tokens,
                                     hasher=hasher or Argon2PasswordHasher(), public_url=public_url,
                                     portal_url=portal_url)
    problems.install(app)
    altinn_problems.install(app)
    app.add_exception_handler(TokenCheckUnavailable, unavailable)
    app.include_router(schemes.router)
    app.include_router(delegations.router)
    app.include_router(lookup.router)
    app.include_router(people.router)
    for part in (systemregister, systemuser_requests, request_decisions, systemusers, clientdelegation, authorize,
                 exchange):
        app.include_router(part.router)
    return app


class AltinnRoute(BaseRoute):
    """Hands every request under the Altinn prefixes to the Altinn app, path unchanged."""

    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...] = PREFIXES) -> None:
        self.app = app
        self.prefixes = prefixes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """A full match for an http request whose path starts with one of the prefixes."""
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(self.prefixes):
            return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        """Not used: the Altinn app builds its own URLs."""
        raise NotImplementedError

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the Altinn app on the unchanged request."""
        await self.app(scope, receive, send)


def mount_altinn(app: FastAPI, altinn: ASGIApp) -> None:
    """Serve the Altinn app's paths from `app` (one process: token service and Altinn side together)."""
    app.router.routes.append(AltinnRoute(altinn))
