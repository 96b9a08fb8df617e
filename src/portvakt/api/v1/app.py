"""The `/api/v1` sub-application: its routers, its problem details, its OpenAPI document."""

from __future__ import annotations

from fastapi import FastAPI

from ..bearer import TokenCheckUnavailable, TokenGate, unavailable
from ..runtime import Runtime
from . import access, audit, clients, delegationsources, jwks, problems, scopes


def create_v1(rt: Runtime) -> FastAPI:
    """The self-service API, served at /api/v1 with its OpenAPI document at /api/v1/openapi.json; the swagger-ui
    page /api/v1/docs (scripts from a CDN) only when settings allow it (docs/security.md, Third-party script)."""
    app = FastAPI(title="portvakt self-service API", version="1",
                  description="Maskinporten-compatible self-service API: clients, keys, scopes and access. "
                              "Authenticate with an access token from this server's /token.",
                  openapi_url="/openapi.json", redoc_url=None,
                  docs_url="/docs" if rt.settings.resolved_interactive_docs() else None)
    app.state.runtime = rt
    app.state.gate = TokenGate(rt.validator, rt.portal_clients)
    problems.install(app)
    app.add_exception_handler(TokenCheckUnavailable, unavailable)
    app.include_router(delegationsources.router)
    app.include_router(clients.router)
    app.include_router(jwks.router)
    app.include_router(scopes.router)
    app.include_router(access.router)
    app.include_router(audit.router)
    return app
