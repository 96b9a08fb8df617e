"""Bearer tokens in HTTP: read the header, validate, and the FastAPI dependency (RFC 6750 §2.1, §3)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from http import HTTPStatus

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .errors import BearerError, InvalidRequest, JwksUnavailable, MissingToken, ResourceError
from .token import AccessToken
from .validator import TokenValidator

#: b64token after the scheme (RFC 6750 §2.1); the scheme is case-insensitive (RFC 9110 §11.1).
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
_REALM = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]+")


def bearer_token(authorization: str | None) -> str:
    """The token from an Authorization value; MissingToken if absent or another scheme (RFC 6750 §3.1)."""
    if authorization is None or not authorization.strip():
        raise MissingToken("the request has no access token")
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise MissingToken("the request has no Bearer access token")
    credentials = credentials.strip(" ")
    if not credentials:
        raise InvalidRequest("the Authorization header has the Bearer scheme but no token (RFC 6750 §2.1)")
    if not _B64TOKEN.fullmatch(credentials):
        raise InvalidRequest("the Authorization header must be Bearer followed by one token (RFC 6750 §2.1)")
    return credentials


def check_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    """Required scopes must be scope-tokens: printable ASCII without space, quote or backslash (RFC 6749 §3.3)."""
    for scope in scopes:
        if not isinstance(scope, str) or not _SCOPE_TOKEN.fullmatch(scope):
            raise ValueError(f"not a valid scope-token (RFC 6749 §3.3): {scope!r}")
    return tuple(scopes)


def authenticate(validator: TokenValidator, authorization_header: str | None, *scopes: str) -> AccessToken:
    """Validate the Bearer token in `authorization_header` and require every scope in `scopes` (RFC 6750 §3).

    Raises MissingToken (401), InvalidRequest (400), InvalidToken (401), InsufficientScope (403) or
    JwksUnavailable (503); each carries `status`, a client-safe `description` and, for the Bearer
    errors, `challenge(realm)` for the WWW-Authenticate header.
    """
    return validator.validate(bearer_token(authorization_header), required_scopes=check_scopes(scopes))


class TokenRejected(HTTPException):
    """An HTTPException (Starlette's, so FastAPI renders it too) with the status and challenge (RFC 6750 §3)."""

    def __init__(self, error: ResourceError, realm: str) -> None:
        headers: dict[str, str] = {}
        if isinstance(error, BearerError):
            headers["WWW-Authenticate"] = error.challenge(realm)
        if isinstance(error, JwksUnavailable):
            headers["Retry-After"] = str(error.retry_after)
        super().__init__(error.status, error.description, headers=headers)
        self.error = error


def require_token(validator: TokenValidator, *scopes: str, realm: str = "api") -> Callable[[Request], AccessToken]:
    """A dependency: `token: AccessToken = Depends(require_token(v, "brreg:x"))` (RFC 6750 §2.1, §3).

    It is a plain (sync) function on purpose: FastAPI runs sync dependencies in its threadpool, so a
    key-set fetch never blocks the event loop. Failures raise TokenRejected (an HTTPException) with
    the status and WWW-Authenticate header; `install(app)` renders its body as a problem document.
    """
    required = check_scopes(scopes)
    if not _REALM.fullmatch(realm):
        raise ValueError("the realm must be printable ASCII without quote or backslash (RFC 6750 §3)")

    def token_dependency(request: Request) -> AccessToken:
        values = request.headers.getlist("authorization")
        try:
            if len(values) > 1:
                raise InvalidRequest("the request has more than one Authorization header (RFC 6750 §3.1)")
            return authenticate(validator, values[0] if values else None, *required)
        except ResourceError as err:
            raise TokenRejected(err, realm) from None

    return token_dependency


def problem_response(request: Request, exc: Exception) -> Response:
    """Render TokenRejected as application/problem+json with its headers (RFC 9457 §3, §4.2.1)."""
    if not isinstance(exc, TokenRejected):
        raise exc
    error = exc.error
    body: dict[str, object] = {"type": "about:blank", "title": HTTPStatus(error.status).phrase,
                               "status": error.status, "detail": error.description}
    if isinstance(error, BearerError) and error.error is not None:
        body["error"] = error.error
    headers = dict(exc.headers or {})
    headers["Cache-Control"] = "no-store"
    return JSONResponse(body, status_code=error.status, headers=headers, media_type="application/problem+json")


def install(app: Starlette) -> None:
    """Register problem_response for TokenRejected on a FastAPI/Starlette app (else: {"detail": ...})."""
    app.add_exception_handler(TokenRejected, problem_response)
