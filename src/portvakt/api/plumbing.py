"""What every app of a process shares, in one place: /healthz, /livez, /readyz and /metrics, the handler of
unexpected errors, the request id and the 5xx rules of every answer, the `/` of a server with the portal, and how
endpoints reach the store and the clock of their app."""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount

from portvakt.domain.ports import Clock, Store, UnitOfWork

from .health import Health, livez
from .metrics import metrics_endpoint
from .oauth_errors import new_trace_id
from .v1.problems import MEDIA_TYPE, answered_trace_id, problem, unexpected

PORTAL_PATH = "/portal"
REQUEST_ID_HEADER = b"x-request-id"
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
log = logging.getLogger("portvakt.api")


async def health(request: Request) -> Response:
    """GET /healthz: the process answers; it reads no store, so a busy one never slows it (docs/security.md,
    Store outage)."""
    return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store"})


async def to_portal(request: Request) -> Response:
    """GET / of a server with the portal: people land on the portal (RFC 9110 §15.4.4)."""
    return RedirectResponse(f"{PORTAL_PATH}/", status_code=303)


def install_plumbing(app: Starlette, checks: Health) -> None:
    """The root app of every process: /healthz, /livez, /readyz with `checks`, /metrics, and unexpected errors as
    a 500 problem with a trace id."""
    app.router.add_route("/healthz", health, methods=["GET"])
    app.router.add_route("/livez", livez, methods=["GET"])
    app.router.add_route("/readyz", checks.readyz, methods=["GET"])
    app.router.add_route("/metrics", metrics_endpoint(checks.staleness), methods=["GET"])
    app.add_exception_handler(Exception, unexpected)


def request_id(scope: MutableMapping[str, Any]) -> str:
    """The caller's X-Request-Id when it is a sane token (at most 64 of [A-Za-z0-9._-]), else a new one."""
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            raw = bytes(value)
            if _SANE_REQUEST_ID.fullmatch(raw):
                return raw.decode("ascii")
            break
    return secrets.token_hex(16)


class RouteTemplates:
    """Names the route template a request of `app` matched ("/api/v1/clients/{client_id}"), never its raw path, from
    what the routers left in its scope: the route (FastAPI's and Starlette's routers set it) under the prefix of
    the mounts it went through, else the endpoint of one of the app's own routes. "unmatched" when no route took
    it, "<mount>/*" when a mounted app had none; so the set of names is the app's routes, bounded."""

    def __init__(self, app: Starlette) -> None:
        self._app = app
        self._index: dict[Any, str] | None = None

    def reset(self) -> None:
        """The app's routes changed (a mount was added)."""
        self._index = None

    def _build(self) -> dict[Any, str]:
        index: dict[Any, str] = {}
        _index_routes(index, self._app, "", depth=0)
        self._index = index
        return index

    def __call__(self, scope: MutableMapping[str, Any]) -> str:
        """The template of the request served in `scope`."""
        route = scope.get("route")
        prefix = str(scope.get("root_path", ""))
        if isinstance(route, Mount):
            return f"{prefix}/*"
        path = getattr(route, "path", None)
        if isinstance(path, str):
            return prefix + path
        endpoint = scope.get("endpoint")
        if endpoint is None:
            return "unmatched"
        index = self._index if self._index is not None else self._build()
        try:
            return index.get(endpoint, "other")
        except TypeError:  # an unhashable endpoint
            return "other"


def _index_routes(index: dict[Any, str], app: Any, prefix: str, depth: int) -> None:
    """endpoint -> template for the routes of `app` and of the apps mounted in it (a mounted app itself -> its
    prefix and /*)."""
    router = getattr(app, "router", None)
    if depth > 4 or router is None:
        return
    for route in getattr(router, "routes", ()):
        inner = getattr(route, "app", None)
        if isinstance(route, Mount):
            index.setdefault(route.app, f"{prefix}{route.path}/*")
            _index_routes(index, route.app, prefix + route.path, depth + 1)
        elif isinstance(getattr(route, "path", None), str) and hasattr(route, "endpoint"):
            index.setdefault(route.endpoint, prefix + route.path)
        elif inner is not None:  # a route that hands requests to another app on full paths (the Altinn side)
            _index_routes(index, inner, prefix, depth + 1)


class Reply:
    """The send of one framework request: adds X-Request-Id, and gives a 5xx problem document without a trace id
    one (logged with it), so that every 5xx carries a trace id the log has too (RFC 9457 §3.2)."""

    def __init__(self, send: Any, rid: str, scope: MutableMapping[str, Any], templates: RouteTemplates) -> None:
        self._send = send
        self._rid = rid.encode()
        self._scope = scope
        self._templates = templates
        self.started = False
        self._held: dict[str, Any] | None = None
        self._parts: list[bytes] = []

    async def send(self, message: MutableMapping[str, Any]) -> None:
        """Pass the message on (a 5xx problem's start and body are held until the body is whole; `started` once the
        start went out)."""
        kind = message["type"]
        if kind == "http.response.start":
            headers = [*message.get("headers", ()), (REQUEST_ID_HEADER, self._rid)]
            message = {**message, "headers": headers}
            if message["status"] >= 500 and _is_problem(headers):
                self._held, self._parts = message, []
                return
            self.started = True
        elif kind == "http.response.body" and self._held is not None:
            self._parts.append(bytes(message.get("body", b"")))
            if message.get("more_body", False):
                return
            start, body = self._traced(self._held, b"".join(self._parts))
            self._held, self._parts = None, []
            self.started = True
            await self._send(start)
            await self._send({"type": "http.response.body", "body": body})
            return
        await self._send(message)

    def _traced(self, start: dict[str, Any], body: bytes) -> tuple[dict[str, Any], bytes]:
        """A problem without trace_id gets one, and a log line with it."""
        try:
            doc = json.loads(body)
        except ValueError:
            return start, body
        if not isinstance(doc, dict) or "trace_id" in doc:
            return start, body
        doc["trace_id"] = trace_id = new_trace_id()
        log.warning("answered %s %s with %s trace_id=%s", self._scope.get("method"), self._templates(self._scope),
                    start["status"], trace_id, extra={"trace_id": trace_id})
        body = json.dumps(doc).encode()
        headers = [(k, v) for k, v in start["headers"] if bytes(k).lower() != b"content-length"]
        return {**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]}, body


def _is_problem(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if bytes(name).lower() == b"content-type":
            return bytes(value).split(b";", 1)[0].strip().lower() == MEDIA_TYPE.encode()
    return False


async def serve_guarded(app: Any, scope: MutableMapping[str, Any], receive: Any, send: Any, rid: str,
                        templates: RouteTemplates) -> None:
    """Run a framework app on one request. An exception it raises after answering (Starlette re-raises after its
    500 handler) ends here, already logged, so the server keeps the connection alive; one raised before any answer
    becomes the 500 problem with a trace id (RFC 9110 §15.6.1)."""
    reply = Reply(send, rid, scope, templates)
    try:
        await app(scope, receive, reply.send)
    except Exception as exc:
        trace_id = answered_trace_id(exc)
        if trace_id is None:
            trace_id = new_trace_id()
            log.error("unhandled error on %s %s trace_id=%s", scope.get("method"), templates(scope), trace_id,
                      exc_info=exc, extra={"trace_id": trace_id})
        if not reply.started:
            answer = problem("server-error", "something unexpected went wrong; the operator can find it in the log",
                             trace_id=trace_id)
            await answer(scope, receive, reply.send)


class Seat(Protocol):
    """Where an app keeps its store and its clock (api.runtime.Runtime, api.altinn.deps.AltinnContext)."""

    @property
    def store(self) -> Store: ...

    @property
    def clock(self) -> Clock: ...


@dataclass(frozen=True, slots=True)
class StoreAccess:
    """`writing`, `reading` and `now` for the endpoints of one app; `seat` says where the app keeps its store
    and clock. A change is one transaction, with its audit events and change-feed rows (decision S3)."""

    seat: Callable[[Request], Seat]

    @contextmanager
    def writing(self, request: Request) -> Iterator[UnitOfWork]:
        """One transaction; after it commits, this process's caches are refreshed at once (decision A12)."""
        with self.seat(request).store.begin() as uow:
            yield uow

    @contextmanager
    def reading(self, request: Request) -> Iterator[UnitOfWork]:
        """A read-only snapshot."""
        with self.seat(request).store.read() as uow:
            yield uow

    def now(self, request: Request) -> datetime:
        """The injected clock's time."""
        return self.seat(request).clock.now()
