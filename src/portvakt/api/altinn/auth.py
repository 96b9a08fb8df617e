"""Who calls the Altinn side: a bearer token from the token service, checked in-process or via its /jwk.

The Altinn side accepts tokens carrying the `altinn:maskinporten/...` scopes (spec §4.1 step 2, §4.2).
Whoever builds the app chooses the TokenCheck: LocalTokenCheck in the token service's own process,
RemoteTokenCheck when the Altinn side runs as its own process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from portvakt.domain.errors import Forbidden
from portvakt.domain.policy import Caller, require
from portvakt.oauth.bearer import BearerValidator, InvalidToken
from portvakt.resource import JwksUnavailable, ResourceError, TokenValidator

from ..v1.auth import portal_acting_for
from ..v1.problems import MEDIA_TYPE, ProblemError

log = logging.getLogger("portvakt.altinn")
_bearer = HTTPBearer(auto_error=False, description="An access token from the token service's /token")
_CHALLENGE = 'Bearer realm="altinn"'


class TokenRefused(Exception):
    """The token is malformed, expired or not from the trusted issuer (RFC 6750 §3.1 invalid_token)."""


class TokenCheckUnavailable(Exception):
    """The issuer's keys could not be fetched: the token was not judged (503, not 401)."""

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__("the token issuer's signing keys are not available; try again later")
        self.retry_after = max(1, retry_after)


class TokenCheck(Protocol):
    """Validates a bearer token and names its caller; raises TokenRefused (401), Forbidden (403, a token
    a supplier holds for the org) or TokenCheckUnavailable (503)."""

    def validate(self, token: str) -> Caller: ...


def own_token(supplier_orgno: str | None) -> None:
    """Only an organisation's own token: one a supplier holds on its behalf may not delegate for it (§4.1 step 5)."""
    if supplier_orgno is not None:
        raise Forbidden("the Altinn side accepts only an organisation's own token, not one a supplier holds for it")


class LocalTokenCheck:
    """In the token service's process: check with its own keyring (oauth.bearer.BearerValidator)."""

    def __init__(self, validator: BearerValidator) -> None:
        self._validator = validator

    def validate(self, token: str) -> Caller:
        """Signature, iss, exp, iat; the caller is the token's consumer (spec §3.1)."""
        try:
            p = self._validator.validate(token)
        except InvalidToken as exc:
            raise TokenRefused(str(exc)) from None
        own_token(p.supplier_orgno)
        return Caller(p.orgno, p.client_id, p.scopes)


class RemoteTokenCheck:
    """In a separate process: check against the token service's issuer URL and /jwk (resource.TokenValidator)."""

    def __init__(self, validator: TokenValidator) -> None:
        self._validator = validator

    def validate(self, token: str) -> Caller:
        """Signature via the issuer's JWKS, then claims (spec §2.2, §2.5); the caller is the consumer."""
        try:
            t = self._validator.validate(token)
        except JwksUnavailable as exc:
            log.warning("token check: %s", exc.detail)
            raise TokenCheckUnavailable(exc.retry_after) from None
        except ResourceError as exc:
            raise TokenRefused(exc.description) from None
        own_token(t.supplier)
        return Caller(t.consumer, t.client_id, t.scopes)


def authenticated(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller:
    """The calling organisation: the token's consumer (401 without a valid token, RFC 6750 §3.1), or the one
    the portal acts for (Portvakt-Acting-For, with altinn:portal only)."""
    tokens: TokenCheck = request.app.state.altinn.tokens
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ProblemError("unauthorized", "send Authorization: Bearer <access token>",
                           {"www-authenticate": _CHALLENGE})
    try:
        caller = tokens.validate(credentials.credentials)
    except TokenRefused as exc:
        raise ProblemError("unauthorized", str(exc),
                           {"www-authenticate": f'{_CHALLENGE}, error="invalid_token"'}) from None
    return portal_acting_for(request, caller)


def with_scope(scope: str) -> Callable[[Caller], Caller]:
    """A dependency: an authenticated caller whose token carries `scope` (403 otherwise, RFC 6750 §3.1)."""

    def dependency(caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
        require(caller, scope)
        return caller

    return dependency


def unavailable(request: Request, exc: Exception) -> JSONResponse:
    """TokenCheckUnavailable as a 503 problem with Retry-After (RFC 9457, RFC 9110 §15.6.4)."""
    retry = exc.retry_after if isinstance(exc, TokenCheckUnavailable) else 1
    body = {"type": "/problems/unavailable", "title": "Temporarily unavailable", "status": 503,
            "detail": "the token issuer's signing keys are not available; try again later"}
    return JSONResponse(body, status_code=503, media_type=MEDIA_TYPE,
                        headers={"retry-after": str(retry), "cache-control": "no-store"})


AuthenticatedDep = Annotated[Caller, Depends(authenticated)]
