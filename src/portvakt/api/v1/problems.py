"""RFC 9457 problem details: one stable `type` per kind of error, rendered once for the whole API."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Scope

from portvakt.domain.errors import DomainError, StoreUnavailable

from ..limits import too_large_detail
from ..oauth_errors import new_trace_id

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("portvakt.api")
MEDIA_TYPE = "application/problem+json"
RETRY_AFTER = "5"  # seconds, as /token's 503s (decision T1)
#: Set on an exception once `unexpected` answered and logged it: the trace id it was given.
_ANSWERED = "_portvakt_trace_id"

#: kind -> (status, title). The `type` is `/problems/<kind>` (a relative reference, RFC 9457 §3.1.1).
KINDS: dict[str, tuple[int, str]] = {
    "invalid": (400, "The request breaks a rule"),
    "malformed": (400, "The request could not be read"),
    "unauthorized": (401, "A valid bearer token is required"),
    "forbidden": (403, "The token does not allow this"),
    "not-found": (404, "No such resource"),
    "method-not-allowed": (405, "Method not allowed"),
    "conflict": (409, "Conflict with the current state"),
    "precondition-failed": (412, "The resource changed since it was read"),
    "too-large": (413, "Request body too large"),
    "unsupported-media-type": (415, "Unsupported media type"),
    "server-error": (500, "Internal error"),
    "unavailable": (503, "Temporarily unavailable"),
}


class FieldError(BaseModel):
    """One offending field."""

    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 §3.1 members, plus `errors` naming offending fields and, on every 5xx, the `trace_id` the log line
    carries too (RFC 9457 §3.2)."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None
    trace_id: str | None = None


class ProblemError(Exception):
    """Raise to answer with a problem of a kind (the API's own refusals outside the domain)."""

    def __init__(self, kind: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.kind, self.detail, self.headers = kind, detail, headers or {}


def problem(kind: str, detail: str | None = None, *, errors: list[FieldError] | None = None,
            headers: dict[str, str] | None = None, trace_id: str | None = None) -> JSONResponse:
    """The response for one problem; a 5xx always with a trace id (a new one unless given)."""
    status, title = KINDS[kind]
    if status >= 500 and trace_id is None:
        trace_id = new_trace_id()
    body = Problem(type=f"/problems/{kind}", title=title, status=status, detail=detail, errors=errors,
                   trace_id=trace_id)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=MEDIA_TYPE,
                        headers=headers)


def _validation(request: Request, exc: Exception) -> JSONResponse:
    from fastapi.exceptions import RequestValidationError

    errs = exc.errors() if isinstance(exc, RequestValidationError) else []
    if any(e.get("type") == "json_invalid" for e in errs):
        return problem("malformed", "the body is not valid JSON")
    fields = [FieldError(field=".".join(str(p) for p in e.get("loc", ())[1:]) or "body",
                         message=str(e.get("msg", "invalid"))) for e in errs]
    return problem("invalid", "the request does not match the schema", errors=fields)


def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    errors = [FieldError(field=exc.field, message=exc.message)] if exc.field else None
    headers = {"www-authenticate": 'Bearer realm="portvakt", error="insufficient_scope"'} \
        if exc.kind == "forbidden" else None
    return problem(exc.kind, exc.message, errors=errors, headers=headers)


def _own(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem(exc.kind, exc.detail, headers=exc.headers)


def http_problem(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's HTTP errors (unknown path, wrong method) as problems."""
    assert isinstance(exc, StarletteHTTPException)
    kind = {404: "not-found", 405: "method-not-allowed", 415: "unsupported-media-type",
            401: "unauthorized", 403: "forbidden", 409: "conflict"}.get(exc.status_code, "malformed")
    return problem(kind, str(exc.detail), headers=dict(exc.headers or {}))


def store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """A busy or unreachable registry: 503 with Retry-After and a trace id, never a 500 (docs/security.md, Store
    outage; RFC 9110 §15.6.4)."""
    trace_id = new_trace_id()
    log.warning("store unavailable on %s %s trace_id=%s: %s", request.method, request.url.path, trace_id, exc,
                extra={"trace_id": trace_id})
    return problem("unavailable", "the registry could not be read or written in time; try again later",
                   headers={"retry-after": RETRY_AFTER, "cache-control": "no-store"}, trace_id=trace_id)


def too_large(scope: Scope, limit: int) -> JSONResponse:
    """The 413 of every endpoint but /token (docs/security.md, Resource exhaustion; RFC 9110 §15.5.14)."""
    return problem("too-large", too_large_detail(limit))


def unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Any other error, of every app: a 500 problem whose trace id the log line carries too, and nothing of the
    error itself (RFC 9457 §3; RFC 9110 §15.6.1). The one handler for Exception. An exception it answered once
    (a mounted app's handler, then its parent's) is logged once, under the same trace id."""
    trace_id = answered_trace_id(exc)
    if trace_id is None:
        trace_id = new_trace_id()
        log.error("unhandled error on %s %s trace_id=%s", request.method, request.url.path, trace_id, exc_info=exc,
                  extra={"trace_id": trace_id})
        with contextlib.suppress(AttributeError, TypeError):
            setattr(exc, _ANSWERED, trace_id)
    return problem("server-error", "something unexpected went wrong; the operator can find it in the log",
                   trace_id=trace_id)


def answered_trace_id(exc: BaseException) -> str | None:
    """The trace id `unexpected` gave this exception when it answered it, or None."""
    value = getattr(exc, _ANSWERED, None)
    return value if isinstance(value, str) else None


def _edge_response(kind: str) -> dict[str, Any]:
    """An OpenAPI response entry for a problem kind that the app's edge answers, not the operation."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {"description": KINDS[kind][1], "content": {MEDIA_TYPE: {"schema": schema}}}


def drop_default_422(app: FastAPI) -> None:
    """FastAPI documents 422 on every operation; this API answers 400 problems instead (RFC 9457). The answers of
    the edge are documented too: 413 on every operation with a body (decision H11), 503 on all (decision H19)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = original()
            for path in doc.get("paths", {}).values():
                for operation in path.values():
                    answers = operation.setdefault("responses", {})
                    answers.pop("422", None)
                    if "requestBody" in operation:
                        answers.setdefault("413", _edge_response("too-large"))
                    answers.setdefault("503", _edge_response("unavailable"))
            for name in ("HTTPValidationError", "ValidationError"):
                doc.get("components", {}).get("schemas", {}).pop(name, None)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    """Every error of the API becomes a problem+json response."""
    from fastapi.exceptions import RequestValidationError

    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(ProblemError, _own)
    app.add_exception_handler(StoreUnavailable, store_unavailable)
    app.add_exception_handler(StarletteHTTPException, http_problem)
    app.add_exception_handler(Exception, unexpected)
    drop_default_422(app)


def responses(*kinds: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the problem kinds an operation can answer with."""
    out: dict[int | str, dict[str, Any]] = {}
    for kind in ("malformed", "unauthorized", *kinds):
        status, title = KINDS[kind]
        out[status] = {"model": Problem, "description": title,
                       "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    return out
