"""The one caller dependency of /api/v1 and the Altinn side: the token, checked by the one validator, names
the calling organisation (RFC 6750 §2.1, §3; docs/security.md, One token, two answers)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from portvakt.domain.orgno import is_valid_orgno
from portvakt.domain.policy import Caller, acting_for, own_token, require_portal
from portvakt.resource import AccessToken, InvalidToken, JwksUnavailable, ResourceError, TokenValidator

from .v1.problems import MEDIA_TYPE, ProblemError

log = logging.getLogger("portvakt.api")
_bearer = HTTPBearer(auto_error=False, description="An access token from this server's /token")
#: Sent only by the portal's own client: the organisation it acts for, and the signed-in person.
ACTING_FOR = "Portvakt-Acting-For"
PERSON = "Portvakt-Person"


@dataclass(frozen=True, slots=True)
class TokenGate:
    """How one app checks callers: the validator, the portal's own client_ids, and its challenge realm."""

    validator: TokenValidator
    portal_clients: frozenset[str]
    realm: str = "portvakt"


class TokenCheckUnavailable(Exception):
    """The issuer's keys could not be fetched: the token was not judged (503, not 401)."""

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__("the token issuer's signing keys are not available; try again later")
        self.retry_after = max(1, retry_after)


def _gate(request: Request) -> TokenGate:
    gate: TokenGate = request.app.state.gate
    return gate


def caller_of(token: AccessToken) -> Caller:
    """The token's consumer (docs/protocol.md §3.1); a supplier's token is refused (policy.own_token)."""
    if not is_valid_orgno(token.consumer):
        raise InvalidToken("the access token names no valid organisation (mod-11)")
    own_token(token.supplier)
    return Caller(token.consumer, token.client_id, token.scopes)


def authenticated(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller:
    """RFC 6750 §3.1: 401 without a valid token; the caller, or the org the portal acts for (policy.acting_for)."""
    gate = _gate(request)
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ProblemError("unauthorized", "send Authorization: Bearer <access token>",
                           {"www-authenticate": f'Bearer realm="{gate.realm}"'})
    try:
        caller = caller_of(gate.validator.validate(credentials.credentials))
    except JwksUnavailable as exc:
        log.warning("token check: %s", exc.detail)
        raise TokenCheckUnavailable(exc.retry_after) from None
    except ResourceError as exc:
        challenge = exc.challenge(gate.realm) if isinstance(exc, InvalidToken) else f'Bearer realm="{gate.realm}"'
        raise ProblemError("unauthorized", exc.description, {"www-authenticate": challenge}) from None
    return acting_for(caller, request.headers.get(ACTING_FOR), request.headers.get(PERSON), gate.portal_clients)


def portal_caller(request: Request, caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
    """Only the portal's own client (policy.require_portal): people's accounts are the portal's business."""
    require_portal(caller, _gate(request).portal_clients)
    return caller


def unavailable(request: Request, exc: Exception) -> JSONResponse:
    """TokenCheckUnavailable as a 503 problem with Retry-After (RFC 9457, RFC 9110 §15.6.4)."""
    retry = exc.retry_after if isinstance(exc, TokenCheckUnavailable) else 1
    body = {"type": "/problems/unavailable", "title": "Temporarily unavailable", "status": 503,
            "detail": "the token issuer's signing keys are not available; try again later"}
    return JSONResponse(body, status_code=503, media_type=MEDIA_TYPE,
                        headers={"retry-after": str(retry), "cache-control": "no-store"})


CallerDep = Annotated[Caller, Depends(authenticated)]
PortalCallerDep = Annotated[Caller, Depends(portal_caller)]
