"""The Altinn side as an ASGI app: its routers, problem details and OpenAPI document (docs/protocol.md §4).

It serves full paths (/maskinporten-api/..., /accessmanagement/...), so the same app runs as its own
process or inside the token service's app via `route.mount_altinn`.
"""

from __future__ import annotations

from fastapi import FastAPI

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
