"""Bearer authentication of the self-service API with portvakt's own access tokens (RFC 6750)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from portvakt.domain.policy import Caller
from portvakt.oauth.bearer import BearerValidator, InvalidToken

from .problems import ProblemError

_bearer = HTTPBearer(auto_error=False, description="An access token from this server's /token")


def caller(request: Request,
           credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller:
    """The calling organisation: the token's consumer (spec §3.1)."""
    validator: BearerValidator = request.app.state.bearer
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ProblemError("unauthorized", "send Authorization: Bearer <access token>",
                           {"www-authenticate": 'Bearer realm="portvakt"'})
    try:
        principal = validator.validate(credentials.credentials)
    except InvalidToken as exc:
        raise ProblemError("unauthorized", str(exc),
                           {"www-authenticate": f'Bearer realm="portvakt", error="invalid_token", '
                                                f'error_description="{exc}"'}) from exc
    return Caller(principal.orgno, principal.client_id, principal.scopes)


CallerDep = Annotated[Caller, Depends(caller)]
