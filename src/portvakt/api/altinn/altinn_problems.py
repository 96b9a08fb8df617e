"""Altinn's problem documents on the system-user paths (docs/protocol.md §6; RFC 9457): `AltinnProblem` and
`AltinnValidation` from the domain, and a body FastAPI could not bind there, rendered with the request's trace id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from portvakt.domain.altinn_errors import AltinnProblem, AltinnValidation, ValidationError
from portvakt.logs import REQUEST_ID

from ..oauth_errors import new_trace_id
from ..v1.problems import MEDIA_TYPE, responses

__all__ = ["ALTINN_PATHS", "MEDIA_TYPE", "AltinnProblemDoc", "altinn_responses", "install", "problem_body", "trace_id",
           "validation_body"]

#: Where refusals take Altinn's shapes: the system-user paths (the delegation API keeps the /problems/ shapes).
ALTINN_PATHS = ("/authentication/", "/authorization/")
VALIDATION_TITLE = "One or more validation errors occurred."
VALIDATION_CODE = "STD-00000"
#: The problem `type` of each status, as Altinn's (RFC 9110 section links).
_TYPES = {
    400: "https://datatracker.ietf.org/doc/html/rfc9110#section-15.5.1",
    401: "https://datatracker.ietf.org/doc/html/rfc9110#section-15.5.2",
    403: "https://datatracker.ietf.org/doc/html/rfc9110#section-15.5.4",
    404: "https://datatracker.ietf.org/doc/html/rfc9110#section-15.5.5",
    409: "https://datatracker.ietf.org/doc/html/rfc9110#section-15.5.10",
    413: "https://datatracker.ietf.org/doc/html/rfc9110#section-15.5.14",
    500: "https://datatracker.ietf.org/doc/html/rfc9110#section-15.6.1",
}
_MAX_BIND_ERRORS = 20

Handler = Callable[[Request, Exception], Response | Awaitable[Response]]


class ValidationErrorDoc(BaseModel):
    """One validation error: its `AUTH.VLD-000NN` code, a title and the offending members."""

    code: str
    title: str
    paths: list[str]


class AltinnProblemDoc(BaseModel):
    """Altinn's problem document (RFC 9457 §3.1 plus `code` and `traceId`); a validation problem (400,
    `STD-00000`) lists its `validationErrors`."""

    model_config = ConfigDict(populate_by_name=True)

    type: str
    title: str
    status: int
    detail: str | None = None
    code: str
    trace_id: str = Field(alias="traceId")
    validation_errors: list[ValidationErrorDoc] | None = Field(None, alias="validationErrors")


_STATUS_TEXT = {400: "A validation error or a refused request (Altinn's code)", 404: "No such entity (Altinn's code)",
                409: "Conflict with the current state"}


def altinn_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` of an operation on the system-user paths: 400 and the given statuses as Altinn's
    problems; 401 and 403 as the token checks' problems (api/bearer.py)."""
    out = responses("forbidden")
    for status in (400, *statuses):
        if status == 409:
            out[409] = responses("conflict")[409]
            continue
        out[status] = {"model": AltinnProblemDoc, "description": _STATUS_TEXT.get(status, "Refused"),
                       "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/AltinnProblemDoc"}}}}
    return out


def trace_id() -> str:
    """The id of the request being served (its X-Request-Id, which the answer carries too), else a new one."""
    return REQUEST_ID.get() or new_trace_id()


def _type(status: int) -> str:
    return _TYPES.get(status, "about:blank")


def problem_body(exc: AltinnProblem) -> dict[str, Any]:
    """`{"type","title","status","detail"?,"code","traceId"}` (RFC 9457 §3.1, plus Altinn's `code`)."""
    body: dict[str, Any] = {"type": _type(exc.status), "title": exc.title, "status": exc.status}
    if exc.detail:
        body["detail"] = exc.detail
    body["code"] = exc.code
    body["traceId"] = trace_id()
    return body


def validation_body(errors: tuple[ValidationError, ...] | list[ValidationError]) -> dict[str, Any]:
    """The 400 validation problem: `STD-00000` with `validationErrors` `[{"code","title","paths"}]`."""
    return {"type": _type(400), "title": VALIDATION_TITLE, "status": 400, "code": VALIDATION_CODE,
            "traceId": trace_id(),
            "validationErrors": [{"code": e.code, "title": e.title, "paths": list(e.paths)} for e in errors]}


def _answer(body: dict[str, Any], status: int) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers={"cache-control": "no-store"})


def altinn_problem(request: Request, exc: Exception) -> JSONResponse:
    """An AltinnProblem as its problem document (RFC 9457 §3)."""
    assert isinstance(exc, AltinnProblem)
    return _answer(problem_body(exc), exc.status)


def altinn_validation(request: Request, exc: Exception) -> JSONResponse:
    """An AltinnValidation as the 400 validation problem (RFC 9457 §3)."""
    assert isinstance(exc, AltinnValidation)
    return _answer(validation_body(exc.errors), 400)


def _path(loc: tuple[Any, ...]) -> str:
    """FastAPI's error location ("body", "rights", 0, "resource") as a JSON-pointer-like path ("/rights/0/resource")."""
    if loc and loc[0] in ("body", "query", "path", "header"):
        loc = loc[1:]
    return "/" + "/".join(str(p) for p in loc)


def _bind_errors(exc: RequestValidationError) -> list[ValidationError]:
    """What pydantic refused, as validation errors (never the offending value: it may be a secret)."""
    errs = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errs):
        return [ValidationError("STD.VLD-00001", "The body is not valid JSON.", ["/"])]
    out = []
    for e in errs[:_MAX_BIND_ERRORS]:
        message = str(e.get("msg", "invalid"))
        out.append(ValidationError("STD.VLD-00002", message, [_path(tuple(e.get("loc", ())))]))
    return out or [ValidationError("STD.VLD-00002", "The request does not match the schema.", ["/"])]


def install(app: FastAPI) -> None:
    """Render AltinnProblem and AltinnValidation everywhere, and a body that could not be read or bound on the
    system-user paths as Altinn's validation problem (other paths keep the handlers installed before, RFC 9457 §3)."""
    previous: Handler | None = app.exception_handlers.get(RequestValidationError)

    async def bind_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if request.url.path.startswith(ALTINN_PATHS) or previous is None:
            return _answer(validation_body(_bind_errors(exc)), 400)
        answer = previous(request, exc)
        return await answer if isinstance(answer, Awaitable) else answer

    previous_http: Handler | None = app.exception_handlers.get(StarletteHTTPException)

    async def unreadable(request: Request, exc: Exception) -> Response:
        """A body the framework could not read (its 400) there, as Altinn's validation problem."""
        assert isinstance(exc, StarletteHTTPException)
        if (exc.status_code == 400 and request.url.path.startswith(ALTINN_PATHS)) or previous_http is None:
            title = exc.detail if isinstance(exc.detail, str) and exc.detail else "The request could not be read."
            return _answer(validation_body([ValidationError("STD.VLD-00001", title[:200], ["/"])]), 400)
        answer = previous_http(request, exc)
        return await answer if isinstance(answer, Awaitable) else answer

    app.add_exception_handler(AltinnProblem, altinn_problem)
    app.add_exception_handler(AltinnValidation, altinn_validation)
    app.add_exception_handler(RequestValidationError, bind_error)
    app.add_exception_handler(StarletteHTTPException, unreadable)
