"""Failure injection for POST /token: an ASGI middleware in front of the server's app, armed per test.

Armed, it answers POST /token itself the way the real endpoint answers when things go wrong, so that a vendor can
test its retry and error handling against the real wire form (docs/protocol.md §1.5):

* an MP code: the status, `error`, `error_description` (the catalogue's text and a trace id) and `error_uri` of
  `portvakt.oauth.mp_codes`, rendered by the token endpoint's own `error_body`; a 503 carries `Retry-After`;
* an outage: 503 `temporarily_unavailable` MP-503 with `Retry-After`, as when the store cannot answer;
* a slow answer: a delay, then the real endpoint (or the failure);
* a dropped connection: the body is read and the connection closed without a byte of response.

Unarmed (or spent), every request goes to the real endpoint unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal

from portvakt.api.oauth_errors import error_body, new_trace_id
from portvakt.api.plumbing import REQUEST_ID_HEADER, request_id
from portvakt.oauth.errors import MPCode
from portvakt.oauth.mp_codes import MP429, MP503, MP_CODES

Scope = MutableMapping[str, Any]
Mode = Literal["error", "drop", "delay"]
#: The headers of every answer of the token endpoint (api/token.py; a test compares them with a real refusal).
JSON_HEADERS = ((b"content-type", b"application/json"), (b"cache-control", b"no-store"), (b"pragma", b"no-cache"))
OUTAGE = "outage"
DROP = "drop"
_NAP = 0.01
#: How much of a request body an injected answer reads before answering (the server's own limit is 64 KiB).
_MAX_BODY = 1 << 20


@dataclass
class Failure:
    """One armed failure: what /token answers, how long it waits first, and for how many requests (None: all)."""

    mode: Mode
    code: MPCode | None = None
    suffix: str = ""
    delay: float = 0.0
    retry_after: float | None = None
    times: int | None = None
    #: The POST /token requests this failure took (delayed, answered or dropped).
    hits: int = 0
    armed: bool = field(default=True, repr=False)

    @property
    def spent(self) -> bool:
        """True once `times` requests have been taken."""
        return self.times is not None and self.hits >= self.times


def failure_of(what: str | MPCode | None, *, delay: float, times: int | None, retry_after: float | None,
               suffix: str) -> Failure:
    """The Failure for `mp.failing(...)`'s arguments; ValueError naming what is accepted."""
    if delay < 0 or (times is not None and times < 1) or (retry_after is not None and retry_after < 0):
        raise ValueError("delay and retry_after must be >= 0, and times >= 1 (or None: every request)")
    if what is None:
        if delay <= 0:
            raise ValueError('say what should fail: "outage", "drop", an MP code such as "MP-250", or delay=seconds')
        return Failure("delay", delay=delay, times=times)
    if what == DROP:
        return Failure("drop", delay=delay, times=times)
    if isinstance(what, MPCode):
        code = what
    elif what == OUTAGE:
        code = MP503
    elif what in MP_CODES:
        code = MP_CODES[what]
    else:
        known = ", ".join(sorted(MP_CODES))
        raise ValueError(f'unknown failure {what!r}: use "outage", "drop" or one of {known}')
    if retry_after is None and code is MP429:
        retry_after = 1  # the real 429 always says when to come back (RFC 6585 §4)
    return Failure("error", code=code, suffix=suffix, delay=delay, retry_after=retry_after, times=times)


class FailureInjector:
    """The ASGI app a test server serves: POST /token through the armed Failure, everything else untouched."""

    def __init__(self, app: Any, issuer: str) -> None:
        self.app = app
        self.issuer = issuer
        #: Every POST /token this server received, failed or not.
        self.token_requests = 0
        self._failure: Failure | None = None
        self._lock = threading.Lock()
        self._stopping = False

    def arm(self, failure: Failure) -> None:
        """Put `failure` in place (any earlier one is disarmed)."""
        with self._lock:
            if self._failure is not None:
                self._failure.armed = False
            self._failure = failure

    def disarm(self, failure: Failure | None = None) -> None:
        """Take `failure` away (None: whatever is armed); a delay under way ends and its request goes on."""
        with self._lock:
            current = self._failure
            if current is not None and (failure is None or failure is current):
                current.armed = False
                self._failure = None
            elif failure is not None:
                failure.armed = False

    def stopping(self) -> None:
        """The server stops: disarm, and cut every delay short."""
        self._stopping = True
        self.disarm()

    def _take(self) -> Failure | None:
        """Count the request; the armed, unspent failure it meets (counted as a hit), if any."""
        with self._lock:
            self.token_requests += 1
            failure = self._failure
            if failure is None or failure.spent:
                return None
            failure.hits += 1
            return failure

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/token" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        failure = self._take()
        if failure is not None and failure.delay > 0:
            await self._wait(failure)
        if failure is None or not failure.armed or failure.mode == "delay":
            await self.app(scope, receive, send)
        elif failure.mode == "drop":
            await _drain(receive)
            await _drop(receive, send)
        else:
            await _drain(receive)
            await self._answer(scope, send, failure)

    async def _wait(self, failure: Failure) -> None:
        """Sleep the failure's delay in short naps, ending early when it is disarmed or the server stops."""
        deadline = time.monotonic() + failure.delay
        while failure.armed and not self._stopping:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(min(_NAP, left))

    async def _answer(self, scope: Scope, send: Any, failure: Failure) -> None:
        """The refusal as the token endpoint renders it (api/oauth_errors.error_body), with its headers."""
        assert failure.code is not None
        err = failure.code(failure.suffix, detail="injected by portvakt.testing")
        status, body, extra = error_body(err, self.issuer, new_trace_id(), retry_after=failure.retry_after,
                                         logged=False)
        headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode()), *extra,
                   (REQUEST_ID_HEADER, request_id(scope).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _drain(receive: Any) -> None:
    """Read the request body (bounded), as the real endpoint does before it answers."""
    size = 0
    while size <= _MAX_BODY:
        message = await receive()
        if message["type"] != "http.request":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _drop(receive: Any, send: Any) -> None:
    """Close the connection without answering: uvicorn's transport is aborted, and the app returns once the
    server has seen the disconnect (so it sends no 500). Another server: a response cut short after its head."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None and hasattr(transport, "abort"):
        transport.abort()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(receive(), timeout=1.0)
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [*JSON_HEADERS, (b"content-length", b"100")]})
    await send({"type": "http.response.body", "body": b"{", "more_body": True})
