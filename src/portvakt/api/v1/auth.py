"""Bearer authentication of the self-service API with portvakt's own access tokens (RFC 6750)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from portvakt.domain.policy import Caller, acting_for
from portvakt.oauth.bearer import BearerValidator, InvalidToken

from .problems import ProblemError

_bearer = HTTPBearer(auto_error=False, description="An access token from this server's /token")
#: Sent only by the portal (a token with altinn:portal): the organisation it acts for, and the signed-in person.
ACTING_FOR = "Portvakt-Acting-For"
PERSON = "Portvakt-Person"


def portal_acting_for(request: Request, caller: Caller) -> Caller:
    """The caller as the portal acting for an organisation, when the request names one (policy.acting_for)."""
    return acting_for(caller, request.headers.get(ACTING_FOR), request.headers.get(PERSON))


def caller(request: Request,
           credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller:
    """The calling organisation: the token's consumer (spec §3.1), or the one the portal acts for."""
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
    return portal_acting_for(request, Caller(principal.orgno, principal.client_id, principal.scopes))


CallerDep = Annotated[Caller, Depends(caller)]
