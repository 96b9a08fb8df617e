"""Request plumbing shared by the pages: the portal's state, sessions, forms, CSRF and page errors."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from portvakt.wire.altinn import PersonOut
from portvakt.wire.vocabulary import PortalRole

from .config import Language, PortalConfig
from .errors import PortalError
from .i18n import is_language
from .models import organisations, roles_for
from .sessions import Session, SessionStore

if TYPE_CHECKING:
    from portvakt.sms import DevOutbox, SmsGateway

    from .backend import Backend
    from .clock import Clock
    from .ratelimit import LoginLimiter

log = logging.getLogger("portvakt.portal")
SESSION_COOKIE = "portvakt_session"
LANGUAGE_COOKIE = "portvakt_lang"
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 64 * 1024
#: The longest page address kept to return to after login.
MAX_NEXT = 500


class Pages(Protocol):
    """What the pages render with (render.Renderer); a protocol, so that render may import this module."""

    def page(self, request: Request, template: str, *, status: int = 200, **values: Any) -> HTMLResponse: ...


@dataclass
class PortalState:
    """Everything the pages use, built once by create_portal (kept on app.state.portal); `clock` is the only
    wall time the pages read (docs/decisions.md P13)."""

    config: PortalConfig
    clock: Clock
    sessions: SessionStore
    limiter: LoginLimiter
    backend: Backend
    renderer: Pages
    sms: SmsGateway
    outbox: DevOutbox | None


class PageError(Exception):
    """Answer with an error page: a catalogue key for the title and one for the text."""

    def __init__(self, status: int, title: str, text: str, **values: str) -> None:
        super().__init__(text)
        self.status, self.title, self.text, self.values = status, title, text, values


def not_found() -> PageError:
    """The portal's 404 page: the same for what does not exist and what this person may not see."""
    return PageError(404, "error.not_found.title", "error.not_found")


class Redirect(Exception):
    """Answer with 303 See Other to a path below the portal."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def state(request: Request) -> PortalState:
    """The portal's components."""
    found: PortalState = request.app.state.portal
    return found


def base(request: Request) -> str:
    """The portal's path prefix (where it is mounted, e.g. /portal)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def session_of(request: Request) -> Session | None:
    """The live session of the request's cookie, if any (looked up once per request)."""
    if "session" not in request.scope.setdefault("portal", {}):
        request.scope["portal"]["session"] = state(request).sessions.get(request.cookies.get(SESSION_COOKIE))
    found: Session | None = request.scope["portal"]["session"]
    return found


def language_of(request: Request) -> Language:
    """The session's language, else the language cookie, else the configured default."""
    session = session_of(request)
    if session is not None:
        return session.language
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    default = state(request).config.settings.default_language
    return chosen if is_language(chosen) else default  # type: ignore[return-value]


def set_cookie(request: Request, response: Response, name: str, value: str, *, site_wide: bool = False) -> None:
    """A cookie for the portal's path only (`site_wide`: the whole site, e.g. the language, which the error pages
    at /errors/ read too): HttpOnly, SameSite=Lax, Secure unless configured off."""
    response.set_cookie(name, value, path="/" if site_wide else base(request) or "/", httponly=True,
                        samesite="lax", secure=state(request).config.settings.secure_cookies)


def clear_session_cookie(request: Request, response: Response) -> None:
    """Remove the session cookie from the browser."""
    response.delete_cookie(SESSION_COOKIE, path=base(request) or "/", httponly=True, samesite="lax",
                           secure=state(request).config.settings.secure_cookies)


def safe_next(request: Request, target: str) -> str | None:
    """`target` if it is a page of this portal to go on to (a path below it: no scheme, no host, no `//`, no
    backslash, no dot segment, no control character; OWASP Unvalidated Redirects), else None."""
    root = base(request)
    path = target.split("?")[0]
    encoded = path.lower()  # a browser reads %2e in a path as a dot; some servers read %2f and %5c as slashes
    ok = (target.startswith(root + "/") and len(target) <= MAX_NEXT and "//" not in target and "\\" not in target
          and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)
          and not any(code in encoded for code in ("%2e", "%2f", "%5c"))
          and not any(part in (".", "..") for part in path.split("/")))
    return target if ok else None


def asked_for(request: Request) -> str:
    """The page this GET asked for (path and query), to return to after login or choosing the organisation."""
    query = request.url.query
    return request.url.path + ("?" + query if query else "")


def _next_query(request: Request) -> str:
    """`?next=<this page>` for a GET to a portal page, else nothing (a POST's page can't be returned to)."""
    if request.method != "GET":
        return ""
    target = safe_next(request, asked_for(request))
    return "?" + urlencode({"next": target}) if target and target != base(request) + "/" else ""


def person_session(request: Request) -> Session:
    """The logged-in person's session; to the login page otherwise, which returns here after login."""
    session = session_of(request)
    if session is None or session.person is None:
        raise Redirect("/login" + _next_query(request))
    return session


@dataclass(frozen=True)
class Acting:
    """A logged-in person acting for a chosen organisation."""

    session: Session
    person: PersonOut
    orgno: str

    @property
    def org_name(self) -> str:
        """The organisation's name as the person's roles give it."""
        return organisations(self.person).get(self.orgno, self.orgno)


async def fresh_roles(request: Request, session: Session) -> None:
    """Re-read the person's roles now and then, so a revoked role or account stops working within a minute."""
    portal = state(request)
    if session.person is None or not portal.sessions.roles_due(session, portal.config.roles_refresh_seconds):
        return
    try:
        person = await portal.backend.person(session.person.username)
    except PortalError as exc:
        if exc.kind != "not-found":
            raise
        portal.sessions.drop(session)
        raise Redirect("/login") from None
    portal.sessions.roles_read(session, person)
    if session.orgno not in organisations(person):
        session.orgno = None


async def acting(request: Request, role: PortalRole) -> Acting:
    """The person, acting for the chosen organisation with `role` for it; a 403 page without the role."""
    session = person_session(request)
    await fresh_roles(request, session)
    person = session.person
    if session.orgno is None or person is None:
        raise Redirect("/org" + _next_query(request))
    found = Acting(session, person, session.orgno)
    if role not in roles_for(person, found.orgno):
        raise PageError(403, "error.forbidden.title", "error.forbidden", org=found.org_name)
    return found


async def read_form(request: Request) -> dict[str, list[str]]:
    """A urlencoded form (the portal's forms send nothing else; any other body has no fields), at most 64 KiB."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM_TYPE:
        return {}
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PageError(413, "error.title", "error.bad_form")
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=300, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise PageError(400, "error.title", "error.bad_form") from None


def _refuse_cross_site(request: Request) -> None:
    """A browser that says the POST comes from another site is refused (OWASP CSRF: Fetch Metadata)."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise PageError(403, "error.csrf.title", "error.csrf")


async def checked_login_form(request: Request) -> tuple[Session | None, dict[str, list[str]]]:
    """POST /login's session (if any) and form: with a session, its CSRF token; without, the login token of
    the cookie's nonce (OWASP CSRF: signed double-submit cookie; docs/security.md, Session table flooding)."""
    if session_of(request) is not None:
        return await checked_form(request)
    _refuse_cross_site(request)
    nonce = request.cookies.get(SESSION_COOKIE)
    if not nonce:
        raise PageError(403, "error.csrf.title", "error.session")
    form = await read_form(request)
    if not state(request).sessions.check_login_token(nonce, form.get("csrf_token", [""])[0]):
        raise PageError(403, "error.csrf.title", "error.csrf")
    return None, form


async def checked_form(request: Request) -> tuple[Session, dict[str, list[str]]]:
    """The session and the form of a POST whose CSRF token matches the session's (OWASP CSRF, 403 otherwise)."""
    _refuse_cross_site(request)
    session = session_of(request)
    if session is None:
        raise PageError(403, "error.csrf.title", "error.session")
    form = await read_form(request)
    sent = form.get("csrf_token", [""])[0]
    if not state(request).sessions.check_csrf(session, sent):
        raise PageError(403, "error.csrf.title", "error.csrf")
    return session, form


def field(form: dict[str, list[str]], name: str) -> str:
    """The first value of a form field, or empty."""
    return form.get(name, [""])[0]
