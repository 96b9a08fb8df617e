"""The three ways to register a system's key (docs/protocol.md §4.4, decisions P7, P8, P10).

Every way adds its key with the key set's If-Match read-modify-write (keyset.register_key) and tells the API how the
key was made (its `origin`), so that the system page can show the instructions that fit the key.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import OrderedDict
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portvakt.jose import JoseError, PrivateKeyRefused, PublicKey, parse_public_key
from portvakt.jose.pkcs12 import Pkcs12Bundle, make_pkcs12
from portvakt.sms import SmsFailed
from portvakt.wire.protocol import MAX_KEYS_PER_CLIENT
from portvakt.wire.vocabulary import KeyOrigin

from ..errors import PortalError
from ..i18n import Translator
from ..keyset import KeyRefused, check_kid, register_key
from ..usage import key_file_names
from ..web import PageError, base, checked_form, state
from ..web import field as form_field
from .systems import SystemContext, load_system, vendor_backend

log = logging.getLogger("portvakt.portal")
CN_MAX = 64
#: The longest text the paste field takes: a PEM certificate of an 8192-bit key is about 3 000 characters.
PASTE_MAX = 10_000
#: What stands in the way of the key set, not of what was typed: shown as an alert, not tied to a field.
CONDITIONS = frozenset({"keys.full", "system.keys.changed", "key.pkcs12.used"})

#: A telling part of each refusal of the jose room (its messages are English and never echo the key) and the text it
#: becomes on the page, in the page's language; the first that matches wins.
KEY_ERRORS: tuple[tuple[str, str], ...] = (
    ("binary (DER)", "key.error.binary"),
    ("expected an RSA public key", "key.error.format"),
    ("only RSA keys", "key.error.not_rsa"),
    ('needs a "kty"', "key.error.kty"),
    ("JSON is not valid", "key.error.json"),
    ("members n and e", "key.error.members"),
    ("base64url", "key.error.base64"),
    ("bits", "key.error.size"),
    ("exponent", "key.error.exponent"),
    ("modulus n must be odd", "key.error.invalid"),
    ("RSA public key is not valid", "key.error.invalid"),
    ("PEM data could not be read", "key.error.pem"),
    ('"alg"', "key.error.alg"),
    ('"use"', "key.error.use"),
    ('"key_ops"', "key.error.key_ops"),
    ('"x5c"', "key.error.x5c"),
    ("a kid must be", "key.error.kid"),
)


def key_error(exc: JoseError, text: str = "") -> str:
    """The catalogue key of a refused key: the jose room's reason in the page's language (never the key itself)."""
    said = str(exc)
    if 'needs a "kty"' in said and '"keys"' in text:
        return "key.error.set"
    return next((key for part, key in KEY_ERRORS if part in said), "key.error.unreadable")


def read_key(text: str) -> PublicKey:
    """An RSA public key from PEM or JWK text; private material is refused here and goes nowhere (RFC 7517 §9.2)."""
    try:
        return parse_public_key(text)
    except PrivateKeyRefused:
        raise KeyRefused("paste.private") from None
    except JoseError as exc:
        raise KeyRefused(key_error(exc, text)) from None


def _api_refusal(exc: PortalError) -> str:
    """The catalogue key of the API's refusal of a key (its message is shown as the reason only when unknown)."""
    return "key.error.kid_taken" if "already registered on another client" in exc.message else "form.refused"


def _form(request: Request, template: str, ctx: SystemContext, *, status: int = 200, error: str | None = None,
          values: dict[str, str] | None = None, **extra: object) -> Response:
    """A key page: a refusal of what was sent is an error tied to the form's field, a condition of the key set (five
    keys already, changed meanwhile) an alert; the title says "Feil: " when the page answers a refused form."""
    condition = error if error in CONDITIONS else None
    full = len(ctx.live_keys(state(request).clock.now())) >= MAX_KEYS_PER_CLIENT
    return state(request).renderer.page(
        request, template, status=status, system=ctx.system, error=None if condition else error,
        condition=condition, error_values=values or {}, full=full, has_errors=status >= 400,
        paste_max=PASTE_MAX, paste_max_shown=f"{PASTE_MAX:,}".replace(",", "\u00a0"), **extra)


def _done(request: Request, ctx: SystemContext, kid: str) -> Response:
    """Back to the system page, which now shows the key and how to use it."""
    target = f"{base(request)}/systems/{quote(ctx.system.client_id, safe='')}?added={quote(kid, safe='')}"
    return RedirectResponse(target, status_code=303)


async def _register(request: Request, ctx: SystemContext, jwk: dict[str, object], origin: KeyOrigin) -> None:
    """Add the key with If-Match (keyset.register_key), saying how it was made; API refusals become KeyRefused."""
    try:
        await register_key(vendor_backend(request, ctx.who), ctx.system.client_id, jwk, state(request).clock.now(),
                           origin=origin.value)
    except PortalError as exc:
        if exc.kind == "unavailable" or exc.status >= 500:
            raise
        raise KeyRefused(_api_refusal(exc), reason=exc.message) from None


async def paste_form(request: Request) -> Response:
    """GET /systems/{id}/keys/paste."""
    return _form(request, "key_paste.html", await load_system(request))


async def paste(request: Request) -> Response:
    """POST: a pasted private key is refused here and never passed on, and no refusal echoes the pasted text
    (docs/security.md, Pasted private key); the page's own script refuses it before it is even sent."""
    _, form = await checked_form(request)
    ctx = await load_system(request)
    text = form_field(form, "public_key").strip()
    try:
        if not text:
            raise KeyRefused("paste.required")
        if len(text) > PASTE_MAX:
            raise KeyRefused("key.paste.too_long", max=f"{PASTE_MAX:,}".replace(",", "\u00a0"))
        key = read_key(text)
        # A system signs with its own key, never a certificate (docs/protocol.md §3.2): of a pasted certificate,
        # the public key is registered.
        await _register(request, ctx, {m: v for m, v in key.jwk.items() if m != "x5c"}, KeyOrigin.PASTE)
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
        if form_field(form, "saved") != "yes":
            raise KeyRefused("browser.saved.required")
        key = read_key(form_field(form, "public_jwk"))
        check_kid(key, form_field(form, "kid"))
        await _register(request, ctx, key.jwk, KeyOrigin.BROWSER)
    except KeyRefused as exc:
        return _form(request, "key_browser.html", ctx, status=400, error=exc.message, values=exc.values)
    log.info("portal: %s registered a browser-made key %s on %s", ctx.who.person.username, key.kid,
             ctx.system.client_id)
    return _done(request, ctx, key.kid)


# --- the PKCS#12 form: one key and one SMS per form shown, the file offered once -----------------------------------

#: How long a shown PKCS#12 form can be sent, how long its outcome is remembered (so that sending it again leads to
#: the same page) and how long the file waits for its one download.
FORM_LIFETIME = timedelta(hours=1)
FILE_LIFETIME = timedelta(minutes=5)
#: How many forms and outcomes are remembered at most, in all and per session (the oldest go first).
MAX_FORMS, MAX_FORMS_PER_SESSION = 10_000, 20
#: How long a second submit of a form waits for the first one's outcome.
WAIT_SECONDS = 60.0
#: The PKCS#12 work under way (the event loop keeps only weak references to tasks).
_RUNNING: set[asyncio.Task[Outcome]] = set()


@dataclass
class Outcome:
    """What sending a PKCS#12 form came to: the id of the made file, or an error (a catalogue key) and its status."""

    made: str | None = None
    error: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    status: int = 400


@dataclass
class Made:
    """A PKCS#12 made from a form: its key, where the password went (masked), and the file until its one download
    (`data` is dropped when taken, or after FILE_LIFETIME). Never logged."""

    made: str
    owner: str
    client_id: str
    kid: str
    file_name: str
    mobile: str
    at: datetime
    data: bytes | None = field(default=None, repr=False)
    taken: bool = False


@dataclass
class _Form:
    """A shown form: whose it is, for which system, when; and, once sent, the outcome its submits share."""

    owner: str
    client_id: str
    shown: datetime
    outcome: asyncio.Future[Outcome] | None = None


class Claim:
    """One submit of a shown form: the first does the work and settles it; every later one waits for that outcome."""

    def __init__(self, form: _Form, first: bool) -> None:
        self._form, self.first = form, first

    def settle(self, outcome: Outcome) -> Outcome:
        """The first submit's outcome, for everyone who sent the same form."""
        future = self._form.outcome
        if future is not None and not future.done():
            future.set_result(outcome)
        return outcome

    def run(self, work: Coroutine[Any, Any, Outcome]) -> asyncio.Task[Outcome]:
        """The first submit's work as a task that settles the claim when it ends (a failure settles it as failed)."""
        task = asyncio.ensure_future(work)
        _RUNNING.add(task)

        def ended(done: asyncio.Task[Outcome]) -> None:
            _RUNNING.discard(done)
            failed = done.cancelled() or done.exception() is not None
            self.settle(Outcome(error="key.pkcs12.failed", status=503) if failed else done.result())

        task.add_done_callback(ended)
        return task

    async def outcome(self) -> Outcome:
        """The first submit's outcome, when it has one (a failure if it takes longer than WAIT_SECONDS)."""
        future = self._form.outcome
        assert future is not None
        try:
            return await asyncio.wait_for(asyncio.shield(future), WAIT_SECONDS)
        except TimeoutError:
            return Outcome(error="key.pkcs12.failed", status=503)


class Pkcs12Desk:
    """The shown PKCS#12 forms and the files made from them, in this process's memory (like the sessions); each
    bound to the session (its CSRF token) and the system it was shown for. Claiming a form is one step with no
    await in it, so of two submits of one form exactly one makes a key."""

    def __init__(self) -> None:
        self._forms: OrderedDict[str, _Form] = OrderedDict()
        self._made: OrderedDict[str, Made] = OrderedDict()

    def issue(self, owner: str, client_id: str, now: datetime) -> str:
        """A new form id (256 bits) for one submit."""
        self._purge(now)
        own = [key for key, f in self._forms.items() if f.owner == owner]
        for key in own[:max(0, len(own) - MAX_FORMS_PER_SESSION + 1)]:
            del self._forms[key]
        while len(self._forms) >= MAX_FORMS:
            self._forms.popitem(last=False)
        once = secrets.token_urlsafe(32)
        self._forms[once] = _Form(owner, client_id, now)
        return once

    def claim(self, once: str, owner: str, client_id: str, now: datetime) -> Claim | None:
        """The claim of a submit: the first for a fresh form, a later one for a form already sent; None for a form
        this session did not get for this system (or one that is too old)."""
        self._purge(now)
        form = self._forms.get(once) if once else None
        if form is None or form.owner != owner or form.client_id != client_id:
            return None
        if form.outcome is not None:
            return Claim(form, first=False)
        form.outcome = asyncio.get_running_loop().create_future()
        return Claim(form, first=True)

    def keep(self, owner: str, client_id: str, *, kid: str, file_name: str, mobile: str, data: bytes,
             now: datetime) -> str:
        """Keep a made file for its one download; the id of its page."""
        while len(self._made) >= MAX_FORMS:
            self._made.popitem(last=False)
        made = secrets.token_urlsafe(16)
        self._made[made] = Made(made, owner, client_id, kid, file_name, mobile, now, data)
        return made

    def made(self, made: str, owner: str, client_id: str, now: datetime) -> Made | None:
        """A made file's record for this session and system, its file dropped once FILE_LIFETIME has passed."""
        self._purge(now)
        found = self._made.get(made)
        if found is None or found.owner != owner or found.client_id != client_id:
            return None
        if found.data is not None and now - found.at > FILE_LIFETIME:
            found.data = None
        return found

    def take(self, made: Made) -> bytes | None:
        """The file, once: it is dropped as it is handed over."""
        data, made.data = made.data, None
        made.taken = made.taken or data is not None
        return data

    def _purge(self, now: datetime) -> None:
        """Forget forms and files older than FORM_LIFETIME (both dicts are in the order they were made)."""
        while self._forms and now - next(iter(self._forms.values())).shown > FORM_LIFETIME:
            self._forms.popitem(last=False)
        while self._made and now - next(iter(self._made.values())).at > FORM_LIFETIME:
            self._made.popitem(last=False)


def desk(request: Request) -> Pkcs12Desk:
    """The portal app's PKCS#12 desk, made on first use."""
    found: Pkcs12Desk | None = getattr(request.app.state, "pkcs12_desk", None)
    if found is None:
        found = request.app.state.pkcs12_desk = Pkcs12Desk()
    return found


def _printable(text: str, fallback: str) -> str:
    """A certificate name: printable characters only, at most 64 (RFC 5280 ub-common-name)."""
    cleaned = " ".join("".join(ch for ch in text if ch.isprintable()).split())[:CN_MAX].strip()
    return cleaned or fallback[:CN_MAX]


def shown_number(mobile: str) -> str:
    """A mobile number as a page shows it: the country prefix and the last two digits only ("+47 …01")."""
    return f"{mobile[:3]} …{mobile[-2:]}" if len(mobile) >= 8 else "…"


async def _mobile(request: Request, ctx: SystemContext) -> str | None:
    """The person's mobile number as stored now (not as it was at login)."""
    person = await state(request).backend.person(ctx.who.person.username)
    return person.mobile or None


def _pkcs12_page(request: Request, ctx: SystemContext, mobile: str | None, *, status: int = 200,
                 error: str | None = None, values: dict[str, str] | None = None) -> Response:
    """The PKCS#12 form, with a new single-use form id (the `once` field) whenever the form is shown."""
    now = state(request).clock.now()
    once = desk(request).issue(ctx.who.session.csrf, ctx.system.client_id, now) if mobile else ""
    return _form(request, "key_pkcs12.html", ctx, status=status, error=error, values=values,
                 mobile=shown_number(mobile) if mobile else None, once=once, made=None)


async def pkcs12_form(request: Request) -> Response:
    """GET /systems/{id}/keys/pkcs12: says where the password will go (masked) and what is never kept."""
    ctx = await load_system(request)
    return _pkcs12_page(request, ctx, await _mobile(request, ctx))


async def _bundle(ctx: SystemContext, now: datetime) -> Pkcs12Bundle:
    """A new key pair and certificate in an AES-256 PKCS#12 (made off the event loop: RSA keygen is slow)."""
    who = ctx.who
    return await asyncio.to_thread(make_pkcs12, _printable(ctx.system.client_name, ctx.system.client_id),
                                   organisation=_printable(who.org_name, who.orgno), orgno=who.orgno,
                                   clock_now=now)


def _made_url(request: Request, ctx: SystemContext, made: str) -> str:
    """The path of a made PKCS#12's page."""
    return f"{base(request)}/systems/{quote(ctx.system.client_id, safe='')}/keys/pkcs12/{made}"


async def _make(request: Request, ctx: SystemContext, mobile: str) -> Outcome:
    """Make the file, SMS the password, register the public key (decision P8); the file is kept for its one
    download only if all of it worked."""
    now = state(request).clock.now()
    bundle = await _bundle(ctx, now)
    t = Translator(ctx.who.session.language)
    try:
        await state(request).sms.send(mobile, t("pkcs12.sms", system=ctx.system.client_name[:100],
                                                kid_start=bundle.kid[:8], password=bundle.password))
        await _register(request, ctx, bundle.public_jwk, KeyOrigin.PKCS12)
    except SmsFailed as exc:
        log.warning("portal: the PKCS#12 password SMS for %s failed; no file released", ctx.system.client_id)
        return Outcome(error="pkcs12.sms_failed", values={"reason": exc.reason}, status=502)
    except KeyRefused as exc:
        if exc.message in CONDITIONS:
            return Outcome(error=exc.message)
        return Outcome(error="pkcs12.register_failed", values={"reason": exc.values.get("reason", t(exc.message))})
    log.info("portal: %s registered a server-made key %s on %s", ctx.who.person.username, bundle.kid,
             ctx.system.client_id)
    made = desk(request).keep(ctx.who.session.csrf, ctx.system.client_id, kid=bundle.kid,
                              file_name=key_file_names(bundle.kid)[2], mobile=shown_number(mobile),
                              data=bundle.data, now=state(request).clock.now())
    return Outcome(made=made)


async def pkcs12(request: Request) -> Response:
    """POST: one key and one SMS per form shown (its `once` id is claimed before anything is made); a repeated
    submit of the same form (double click, back and submit again, a replayed POST) makes nothing and goes to the
    first one's page. Then 303 to the page that offers the file once (decision P8)."""
    _, form = await checked_form(request)
    ctx = await load_system(request)
    mobile = await _mobile(request, ctx)
    if mobile is None:
        return _pkcs12_page(request, ctx, None, status=400, error="pkcs12.no_mobile")
    owner, client_id = ctx.who.session.csrf, ctx.system.client_id
    claim = desk(request).claim(form_field(form, "once"), owner, client_id, state(request).clock.now())
    if claim is None:
        return _pkcs12_page(request, ctx, mobile, status=409, error="key.pkcs12.used")
    if not claim.first:
        outcome = await claim.outcome()
    elif len(ctx.live_keys(state(request).clock.now())) >= MAX_KEYS_PER_CLIENT:
        outcome = claim.settle(Outcome(error="keys.full"))
    else:
        # The work goes on if this request is dropped (the browser cancels the first of a double click): its
        # outcome is what the other submit of the form waits for.
        outcome = await asyncio.shield(claim.run(_make(request, ctx, mobile)))
    if outcome.made is None:
        return _pkcs12_page(request, ctx, mobile, status=outcome.status, error=outcome.error, values=outcome.values)
    return RedirectResponse(_made_url(request, ctx, outcome.made), status_code=303)


def _made(request: Request, ctx: SystemContext) -> Made:
    """The PKCS#12 made from this session's form for this system; the portal's 404 page otherwise."""
    found = desk(request).made(request.path_params["made"], ctx.who.session.csrf, ctx.system.client_id,
                               state(request).clock.now())
    if found is None:
        raise PageError(404, "key.pkcs12.gone.title", "key.pkcs12.gone")
    return found


async def pkcs12_made(request: Request) -> Response:
    """GET /systems/{id}/keys/pkcs12/{made}: the success state: the key is registered, the password went to the
    person's mobile (masked), and the file is offered for its one download (keycheck.js starts it)."""
    ctx = await load_system(request)
    made = _made(request, ctx)
    return _form(request, "key_pkcs12.html", ctx, mobile=made.mobile, once="", made=made,
                 file_url=_made_url(request, ctx, made.made) + "/file")


async def pkcs12_file(request: Request) -> Response:
    """GET …/{made}/file: the file, once; then it is dropped (as it is after five minutes). Never cached."""
    ctx = await load_system(request)
    made = _made(request, ctx)
    data = desk(request).take(made)
    if data is None:
        raise PageError(410, "key.pkcs12.gone.title", "key.pkcs12.taken")
    return Response(data, media_type="application/x-pkcs12",
                    headers={"content-disposition": f'attachment; filename="{made.file_name}"',
                             "cache-control": "no-store"})


def _path(way: str) -> str:
    return "/systems/{client_id}/keys/" + way


ROUTES = [
    Route(_path("paste"), paste_form, methods=["GET"]),
    Route(_path("paste"), paste, methods=["POST"]),
    Route(_path("browser"), browser_form, methods=["GET"]),
    Route(_path("browser"), browser, methods=["POST"]),
    Route(_path("pkcs12"), pkcs12_form, methods=["GET"]),
    Route(_path("pkcs12"), pkcs12, methods=["POST"]),
    Route(_path("pkcs12/{made}"), pkcs12_made, methods=["GET"]),
    Route(_path("pkcs12/{made}/file"), pkcs12_file, methods=["GET"]),
]
