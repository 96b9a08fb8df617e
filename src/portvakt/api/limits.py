"""The one bound on request bodies, for every endpoint (docs/security.md, Resource exhaustion).

An ASGI middleware in front of each app: a declared Content-Length over the limit is refused before a byte
is read; a chunked body is read by the middleware and cut as soon as it passes the limit. Either way the
app never sees more than the limit, and the caller gets 413 with `Connection: close` before any auth.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Renders the 413 for a request: an OAuth error on /token, a problem document elsewhere.
Refusal = Callable[[Scope, int], Response]


def declared_length(scope: Scope) -> int | None:
    """The request's Content-Length, or None when absent or unreadable (then the body is read up to the limit)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = bytes(value).strip()
            return int(text) if text.isdigit() else None
    return None


async def read_at_most(receive: Receive, limit: int) -> bytes | None:
    """The whole body of a request that declared no length (chunked), or None once it passes `limit` bytes:
    never more than the limit plus one chunk is held (docs/security.md, Resource exhaustion)."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts)
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body read already, then whatever the connection says next."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def again() -> Message:
        return pending.pop() if pending else await receive()

    return again


class BodyLimit:
    """Refuse request bodies over `limit` bytes with the 413 `refuse` renders, before the app (and its bearer
    check) runs (docs/security.md, Resource exhaustion). A declared Content-Length is judged at once, and the
    HTTP server's framing holds the body to it; a body without one is read up to the limit first."""

    def __init__(self, app: ASGIApp, limit: int, refuse: Refusal) -> None:
        self.app, self.limit, self._refuse = app, limit, refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = declared_length(scope)
        if declared is not None:
            if declared > self.limit:
                await self._answer(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        body = await read_at_most(receive, self.limit)
        if body is None:
            await self._answer(scope, receive, send)
            return
        await self.app(scope, replay(body, receive), send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self._refuse(scope, self.limit)
        response.headers["connection"] = "close"
        await response(scope, receive, send)


def too_large_detail(limit: int) -> str:
    """The caller-safe text of every 413."""
    return f"the request body must be at most {limit} bytes"
