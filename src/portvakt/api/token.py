"""POST /token: the form in, the token service, the JSON out (RFC 6749 §3.2, §5.1, docs/protocol.md §1.4).

This is the hot path, so it is a bare ASGI app mounted in front of the framework's middleware and
router: one body read, one parse, one call into the token service, one JSON serialization. The body's size
is bounded by api.limits.BodyLimit in front of it. No store I/O runs on the event loop (docs/security.md, Store
outage): the checks run on it only while every answer they need is in memory (domain/blocking.py), and else,
whole, in a worker thread; the replay claim, which always writes, goes to api.claims's thread, batched. The rate
limits (api.ratelimit) come first: the source address before the body is read, the client before the checks.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import Response

from portvakt.domain.blocking import WouldBlock, non_blocking
from portvakt.domain.errors import StoreUnavailable
from portvakt.oauth import mp_codes as mp
from portvakt.oauth.errors import OAuthError
from portvakt.oauth.minter import IssuedToken
from portvakt.oauth.service import CheckedRequest, TokenRequest

from .claims import ClaimBatcher
from .oauth_errors import error_body, new_trace_id
from .ratelimit import issuer_of, peek_assertion, token_limits
from .runtime import Runtime

log = logging.getLogger("portvakt.token")
FORM = b"application/x-www-form-urlencoded"
_MAX_FIELDS = 32
_JSON_HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-store"),
                 (b"pragma", b"no-cache")]

Scope = MutableMapping[str, Any]


def _content_type(scope: Scope) -> bytes:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bytes(value).split(b";", 1)[0].strip().lower()
    return b""


async def _body(receive: Any) -> bytes:
    """The request body (its size is bounded in front of this app, by api.limits.BodyLimit)."""
    parts: list[bytes] = []
    while True:
        message: dict[str, Any] = await receive()
        if message["type"] == "http.disconnect":
            raise mp.MP011(": the client disconnected")
        parts.append(bytes(message.get("body", b"")))
        if not message.get("more_body", False):
            return b"".join(parts)


def parse_form(content_type: bytes, body: bytes) -> list[tuple[str, str]]:
    """RFC 6749 §3.2: application/x-www-form-urlencoded, UTF-8."""
    if content_type != FORM:
        raise mp.MP011(": Content-Type must be application/x-www-form-urlencoded")
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise mp.MP011(": the form could not be decoded") from exc


class _Limited(Exception):
    """A request over a rate limit; `wait`: the seconds until a slot frees."""

    def __init__(self, wait: float) -> None:
        super().__init__()
        self.wait = wait


class TokenEndpoint:
    """The ASGI app of POST /token."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._limits = token_limits(rt)
        self._max_assertion = rt.settings.token.max_assertion_bytes
        shared = self._limits.shared_batch if self._limits is not None and self._limits.shared is not None else None
        self._claims = ClaimBatcher(rt.tokens.replay, budget=rt.settings.limits.store_busy_seconds, shared=shared)

    def _work(self, request: TokenRequest, client: str | None) -> IssuedToken:
        """The worker thread's whole path, for a request whose checks need the store: the token service, and the
        issued token charged to its client."""
        issued = self._rt.tokens.handle_token_request(request)
        self._charge(client)
        return issued

    def _charge(self, client: str | None) -> None:
        """A token was issued: charge its client a slot in memory and, with the next batch, on the shared counts
        (docs/security.md, Token flood)."""
        if self._limits is not None and client is not None:
            self._limits.charge_local(client)
            self._claims.issued(client)

    async def _issue(self, request: TokenRequest, address: str, client: str | None) -> IssuedToken:
        """The checks on the event loop when they need no I/O, else all of it in a worker thread; a busy or remote
        store never blocks the event loop (docs/security.md, Store outage)."""
        tokens = self._rt.tokens
        limits = self._limits
        try:
            if limits is not None and (wait := await self._claims.admit(address, client)):
                log.warning("token rate limit (shared): address %r or client %r over its limit", address,
                            (client or "")[:80])
                raise _Limited(wait)  # before the checks, so junk grants count too
            try:
                with non_blocking():
                    checked = tokens.check(request)
            except WouldBlock:
                return await asyncio.to_thread(self._work, request, client)
            return await self._claimed(checked, client)
        except StoreUnavailable as exc:
            raise mp.MP503(detail=str(exc)) from exc

    async def _claimed(self, checked: CheckedRequest, client: str | None) -> IssuedToken:
        """Step 7 through the claim thread, then the token, charged to its client."""
        outcome = await self._claims.claim(checked.claim)
        tokens = self._rt.tokens
        tokens.settle(checked, outcome)
        try:
            with non_blocking():
                issued = tokens.mint(checked)
        except WouldBlock:  # the signing key changed and is read again
            issued = await asyncio.to_thread(tokens.mint, checked)
        self._charge(client)
        return issued

    def _limited(self, wait: float) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        """429 MP-429 slow_down with Retry-After, the whole seconds until a slot frees (RFC 6585 §4). Not logged per
        refusal: the caller logs a warning, which the log throttle folds to one line per 10 s (decision S11), as a
        flood needs."""
        return error_body(mp.MP429(), self._rt.issuer, new_trace_id(), retry_after=wait, logged=False)

    def too_large(self, scope: Scope, limit: int) -> Response:
        """The 413 of /token: still an OAuth error, MP-011 invalid_request (docs/security.md, Resource
        exhaustion; RFC 9110 §15.5.14)."""
        _, body, extra = error_body(mp.MP011(": request body too large", detail=f"limit {limit} bytes"),
                                    self._rt.issuer, new_trace_id())
        headers = {k.decode(): v.decode() for k, v in [*_JSON_HEADERS, *extra] if k != b"content-type"}
        return Response(body, status_code=413, headers=headers, media_type="application/json")

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["method"] != "POST":
            _, body, _ = error_body(mp.MP011(": use POST"), self._rt.issuer, new_trace_id())
            await _send(send, 405, body, [(b"allow", b"POST")])
            return
        status, body = 200, b""
        extra: list[tuple[bytes, bytes]] = []
        limits = self._limits
        try:
            address, client = "", None
            if limits is not None:
                address = limits.source(scope)
                if wait := limits.address_wait(address):
                    log.warning("token rate limit: source address %r over its limit", address)
                    raise _Limited(wait)
            form = parse_form(_content_type(scope), await _body(receive))
            peeked = None
            if limits is not None:  # the grant is decoded once: its iss here, the rest in the token service
                peeked = peek_assertion(form, self._max_assertion)
                client = issuer_of(peeked)
                if client is not None and (wait := limits.client_wait(client)):
                    log.warning("token rate limit: client %r over its limit", client[:80])
                    raise _Limited(wait)
            issued = await self._issue(TokenRequest(form, peeked), address, client)
            body = json.dumps({"access_token": issued.access_token, "token_type": "Bearer",
                               "expires_in": issued.expires_in, "scope": issued.scope}).encode()
        except _Limited as over:
            status, body, extra = self._limited(over.wait)
        except OAuthError as err:
            status, body, extra = error_body(err, self._rt.issuer, new_trace_id())
        except Exception:
            trace_id = new_trace_id()
            log.exception("token endpoint failed trace_id=%s", trace_id)
            status, body, extra = error_body(mp.MP500(), self._rt.issuer, trace_id)
        await _send(send, status, body, extra)


async def _send(send: Any, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
