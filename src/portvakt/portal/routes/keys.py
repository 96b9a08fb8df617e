"""The three ways to register a system's key (docs/protocol.md §4.4, decisions P7, P8, P10)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portvakt.jose.pkcs12 import Pkcs12Bundle, make_pkcs12
from portvakt.sms import SmsFailed, mask_number
from portvakt.wire.protocol import MAX_KEYS_PER_CLIENT

from ..errors import PortalError
from ..i18n import Translator
from ..keyset import KeyRefused, add_key, check_kid, read_public_key
from ..usage import key_file_names
from ..web import base, checked_form, field, state
from .systems import SystemContext, load_system, vendor_backend

log = logging.getLogger("portvakt.portal")
CN_MAX = 64


def _form(request: Request, template: str, ctx: SystemContext, *, status: int = 200, error: str | None = None,
          values: dict[str, str] | None = None, **extra: object) -> Response:
    """A key page, with an error (a catalogue key and its values) tied to the form's field."""
    return state(request).renderer.page(request, template, status=status, system=ctx.system, error=error,
                                        error_values=values or {}, **extra)


def _done(request: Request, ctx: SystemContext, kid: str) -> Response:
    """Back to the system page, which now shows the key and how to use it."""
    target = f"{base(request)}/systems/{quote(ctx.system.client_id, safe='')}?added={quote(kid, safe='')}"
    return RedirectResponse(target, status_code=303)


async def _register(request: Request, ctx: SystemContext, jwk: dict[str, object]) -> None:
    """Add the key; API refusals become KeyRefused with the API's readable message."""
    try:
        await add_key(vendor_backend(request, ctx.who), ctx.system.client_id, ctx.keys, jwk,
                      state(request).clock.now())
    except PortalError as exc:
        if exc.kind == "unavailable":
            raise
        raise KeyRefused("form.refused", reason=exc.message) from None


async def paste_form(request: Request) -> Response:
    """GET /systems/{id}/keys/paste."""
    return _form(request, "key_paste.html", await load_system(request))


async def paste(request: Request) -> Response:
    """POST: a pasted private key is refused here and never passed on, and no refusal echoes the pasted text
    (docs/security.md, Pasted private key)."""
    _, form = await checked_form(request)
    ctx = await load_system(request)
    text = field(form, "public_key").strip()
    if not text:
        return _form(request, "key_paste.html", ctx, status=400, error="paste.required")
    try:
        key = read_public_key(text, private_message="paste.private", invalid_message="paste.invalid")
        await _register(request, ctx, key.jwk)
    except KeyRefused as exc:
        return _form(request, "key_paste.html", ctx, status=400, error=exc.message, values=exc.values)
    log.info("portal: %s registered a pasted key %s on %s", ctx.who.person.username, key.kid, ctx.system.client_id)
    return _done(request, ctx, key.kid)


async def browser_form(request: Request) -> Response:
    """GET /systems/{id}/keys/browser: keygen.js makes the pair; only the public JWK is posted."""
    return _form(request, "key_browser.html", await load_system(request))


async def browser(request: Request) -> Response:
    """POST: the public JWK made by WebCrypto, its kid (RFC 7638), and the person's word that they kept the key."""
    _, form = await checked_form(request)
    ctx = await load_system(request)
    try:
        if field(form, "saved") != "yes":
            raise KeyRefused("browser.saved.required")
        key = read_public_key(field(form, "public_jwk"), private_message="paste.private",
                              invalid_message="browser.invalid")
        check_kid(key, field(form, "kid"))
        await _register(request, ctx, key.jwk)
    except KeyRefused as exc:
        return _form(request, "key_browser.html", ctx, status=400, error=exc.message, values=exc.values)
    log.info("portal: %s registered a browser-made key %s on %s", ctx.who.person.username, key.kid,
             ctx.system.client_id)
    return _done(request, ctx, key.kid)


def _printable(text: str, fallback: str) -> str:
    """A certificate name: printable characters only, at most 64 (RFC 5280 ub-common-name)."""
    cleaned = " ".join("".join(ch for ch in text if ch.isprintable()).split())[:CN_MAX].strip()
    return cleaned or fallback[:CN_MAX]


async def _mobile(request: Request, ctx: SystemContext) -> str | None:
    """The person's mobile number as stored now (not as it was at login)."""
    person = await state(request).backend.person(ctx.who.person.username)
    return person.mobile or None


async def pkcs12_form(request: Request) -> Response:
    """GET /systems/{id}/keys/pkcs12: says where the password will go (masked) and what is never kept."""
    ctx = await load_system(request)
    mobile = await _mobile(request, ctx)
    return _form(request, "key_pkcs12.html", ctx, mobile=mask_number(mobile) if mobile else None)


async def _bundle(ctx: SystemContext, now: datetime) -> Pkcs12Bundle:
    """A new key pair and certificate in an AES-256 PKCS#12 (made off the event loop: RSA keygen is slow)."""
    who = ctx.who
    return await asyncio.to_thread(make_pkcs12, _printable(ctx.system.client_name, ctx.system.client_id),
                                   organisation=_printable(who.org_name, who.orgno), orgno=who.orgno,
                                   clock_now=now)


async def pkcs12(request: Request) -> Response:
    """POST: make the file, SMS the password, register the public key, then stream the file once (decision P8)."""
    await checked_form(request)
    ctx = await load_system(request)
    mobile = await _mobile(request, ctx)
    if mobile is None:
        return _form(request, "key_pkcs12.html", ctx, status=400, error="pkcs12.no_mobile", mobile=None)
    now = state(request).clock.now()
    if len(ctx.live_keys(now)) >= MAX_KEYS_PER_CLIENT:
        return _form(request, "key_pkcs12.html", ctx, status=400, error="keys.full", mobile=mask_number(mobile))
    bundle = await _bundle(ctx, now)
    t = Translator(ctx.who.session.language)
    try:
        await state(request).sms.send(mobile, t("pkcs12.sms", system=ctx.system.client_name[:100],
                                                kid_start=bundle.kid[:8], password=bundle.password))
        await _register(request, ctx, bundle.public_jwk)
    except SmsFailed as exc:
        log.warning("portal: the PKCS#12 password SMS for %s failed; no file released", ctx.system.client_id)
        return _form(request, "key_pkcs12.html", ctx, status=502, error="pkcs12.sms_failed",
                     values={"reason": exc.reason}, mobile=mask_number(mobile))
    except KeyRefused as exc:
        return _form(request, "key_pkcs12.html", ctx, status=400, error="pkcs12.register_failed",
                     values={"reason": exc.values.get("reason", t(exc.message))}, mobile=mask_number(mobile))
    log.info("portal: %s registered a server-made key %s on %s", ctx.who.person.username, bundle.kid,
             ctx.system.client_id)
    _, _, name = key_file_names(bundle.kid)
    return Response(bundle.data, media_type="application/x-pkcs12",
                    headers={"content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store"})


def _path(way: str) -> str:
    return "/systems/{client_id}/keys/" + way


ROUTES = [
    Route(_path("paste"), paste_form, methods=["GET"]),
    Route(_path("paste"), paste, methods=["POST"]),
    Route(_path("browser"), browser_form, methods=["GET"]),
    Route(_path("browser"), browser, methods=["POST"]),
    Route(_path("pkcs12"), pkcs12_form, methods=["GET"]),
    Route(_path("pkcs12"), pkcs12, methods=["POST"]),
]
