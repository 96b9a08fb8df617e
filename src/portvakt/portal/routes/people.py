"""Logging in and out, choosing the organisation to act for, the language, and the overview page."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portvakt.wire.altinn import PersonOut

from ..errors import Busy, PortalError
from ..i18n import LANGUAGES, is_language
from ..models import organisations, roles_for
from ..nav import entries_for
from ..sessions import Session, is_nonce, new_nonce
from ..web import (
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    PageError,
    base,
    checked_form,
    checked_login_form,
    clear_session_cookie,
    field,
    fresh_roles,
    language_of,
    person_session,
    safe_next,
    session_of,
    set_cookie,
    state,
)

log = logging.getLogger("portvakt.portal")
MAX_USERNAME = 100
MAX_PASSWORD = 1024


def _client_ip(request: Request) -> str:
    """The peer address (the portal trusts no forwarding header; run it behind a proxy that sets the peer)."""
    return request.client.host if request.client else "unknown"


def _login_cookie(request: Request) -> tuple[str, str]:
    """The cookie value and CSRF token of the login form: the session's, or else a nonce the server does not
    store and its HMAC (docs/security.md, Session table flooding)."""
    session = session_of(request)
    if session is not None:
        return session.sid, session.csrf
    sent = request.cookies.get(SESSION_COOKIE)
    nonce = sent if sent and is_nonce(sent) else new_nonce()
    return nonce, state(request).sessions.login_token(nonce)


def _next(request: Request, target: str) -> str:
    """The portal page to go on to after login or choosing the organisation, or "" (the overview)."""
    return safe_next(request, target) or ""


def _login_page(request: Request, *, status: int = 200, error: str | None = None, username: str = "",
                notice: str | None = None, values: dict[str, str] | None = None, next_page: str = "") -> Response:
    """The login form; its cookie is (re)sent so the form's token stays valid for the next POST; `next_page`
    (checked) is where it goes after login."""
    cookie, csrf = _login_cookie(request)
    response = state(request).renderer.page(request, "login.html", status=status, error=error, username=username,
                                            notice=notice, csrf=csrf, error_values=values or {},
                                            next_page=_next(request, next_page))
    set_cookie(request, response, SESSION_COOKIE, cookie)
    return response


async def login_form(request: Request) -> Response:
    """GET /login[?next=]: the form, with no server-side session (a logged-in person goes on to `next` or the
    overview)."""
    next_page = _next(request, request.query_params.get("next", ""))
    session = session_of(request)
    if session is not None and session.person is not None:
        return RedirectResponse(next_page or base(request) + "/", status_code=303)
    notice = "logout.done" if request.query_params.get("done") == "logout" else None
    return _login_page(request, notice=notice, next_page=next_page)


def _locked(request: Request, seconds: int) -> Response:
    """429 with Retry-After and a readable page (RFC 6585 §4)."""
    response = state(request).renderer.page(request, "error.html", status=429, title="login.locked.title",
                                            text="login.locked.text", values={"seconds": str(seconds)})
    response.headers["retry-after"] = str(seconds)
    return response


def _busy(request: Request, username: str, seconds: int, next_page: str) -> Response:
    """429 with Retry-After: the password checks are all taken; the form again (docs/security.md, Login flood)."""
    response = _login_page(request, status=429, error="login.busy", username=username,
                           values={"seconds": str(seconds)}, next_page=next_page)
    response.headers["retry-after"] = str(seconds)
    return response


async def _check(request: Request, username: str, password: str, ip: str) -> PersonOut | None:
    """The Altinn side's answer; an attempt it never checked (busy, down) is taken back from the counts."""
    portal = state(request)
    try:
        return await portal.backend.login(username, password)
    except PortalError:
        await asyncio.to_thread(portal.limiter.unchecked, username, ip)
        raise


async def login(request: Request) -> Response:
    """POST /login: counted per username and address before the password is checked (docs/security.md, Login
    brute force); a new session id on success (session fixation)."""
    portal = state(request)
    session, form = await checked_login_form(request)
    username, password = field(form, "username").strip(), field(form, "password")
    next_page = _next(request, field(form, "next"))
    if not username or not password or len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD:
        return _login_page(request, status=400, error="login.required", username=username[:MAX_USERNAME],
                           next_page=next_page)
    ip = _client_ip(request)
    wait = await asyncio.to_thread(portal.limiter.admit, username, ip)  # the counts may live in Redis
    if wait:
        log.warning("portal login refused while locked (username or address over the failure limit)")
        return _locked(request, wait)
    try:
        person = await _check(request, username, password, ip)
    except Busy as exc:
        return _busy(request, username, exc.retry_after, next_page)
    if person is None:
        return _login_page(request, status=401, error="login.failed", username=username, next_page=next_page)
    await asyncio.to_thread(portal.limiter.succeeded, username, ip)
    if not person.roles:
        return _login_page(request, status=403, error="login.no_roles", username=username, next_page=next_page)
    return _logged_in(request, session, person, next_page)


def _after_org(request: Request, next_page: str) -> str:
    """/org, carrying the page to go on to once the organisation is chosen."""
    return base(request) + "/org" + ("?" + urlencode({"next": next_page}) if next_page else "")


def _logged_in(request: Request, old: Session | None, person: PersonOut, next_page: str = "") -> Response:
    """A new session with a fresh id, the organisation picked if there is only one, on to the page asked for
    (a checked portal path) or the overview; with several organisations, choosing one first."""
    session = state(request).sessions.start(person, language_of(request), old)
    orgs = organisations(person)
    if len(orgs) == 1:
        session.orgno = next(iter(orgs))
    log.info("portal login: %s", person.username)
    target = (next_page or base(request) + "/") if session.orgno else _after_org(request, next_page)
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, SESSION_COOKIE, session.sid)
    return response


async def logout(request: Request) -> Response:
    """POST /logout: the session ends at the server and the cookie is removed."""
    session, _ = await checked_form(request)
    state(request).sessions.drop(session)
    response = RedirectResponse(base(request) + "/login?done=logout", status_code=303)
    clear_session_cookie(request, response)
    return response


async def choose_org_form(request: Request) -> Response:
    """GET /org: the organisations the person holds a role for."""
    session = person_session(request)
    await fresh_roles(request, session)
    assert session.person is not None
    return state(request).renderer.page(request, "org.html", orgs=organisations(session.person),
                                        chosen=session.orgno, error=None,
                                        next_page=_next(request, request.query_params.get("next", "")))


async def choose_org(request: Request) -> Response:
    """POST /org: act for one of the person's own organisations (nothing else is accepted)."""
    session, form = await checked_form(request)
    if session.person is None:
        return RedirectResponse(base(request) + "/login", status_code=303)
    await fresh_roles(request, session)
    orgs = organisations(session.person)
    orgno = field(form, "orgno")
    next_page = _next(request, field(form, "next"))
    if orgno not in orgs:
        return state(request).renderer.page(request, "org.html", status=400, orgs=orgs, chosen=None,
                                            error="org.invalid", next_page=next_page)
    session.orgno = orgno
    return RedirectResponse(next_page or base(request) + "/", status_code=303)


def _safe_next(request: Request, target: str) -> str:
    """A path below the portal only (web.safe_next), else the overview."""
    return safe_next(request, target) or base(request) + "/"


async def language(request: Request) -> Response:
    """GET /language?lang=en&next=...: remember the language (cookie and session) and go back."""
    chosen = request.query_params.get("lang", "")
    if not is_language(chosen):
        raise PageError(400, "error.title", "error.bad_form")
    response = RedirectResponse(_safe_next(request, request.query_params.get("next", "")), status_code=303)
    set_cookie(request, response, LANGUAGE_COOKIE, chosen, site_wide=True)
    session = session_of(request)
    if session is not None:
        session.language = next(lang for lang in LANGUAGES if lang == chosen)
    return response


async def home(request: Request) -> Response:
    """GET /: the roles the person holds for the chosen organisation, with links to their pages."""
    session = person_session(request)
    await fresh_roles(request, session)
    assert session.person is not None
    if session.orgno is None:
        return RedirectResponse(base(request) + "/org", status_code=303)
    roles = roles_for(session.person, session.orgno)
    return state(request).renderer.page(request, "home.html", roles=sorted(roles),
                                        entries=entries_for(roles))


ROUTES = [
    Route("/", home, methods=["GET"]),
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/org", choose_org_form, methods=["GET"]),
    Route("/org", choose_org, methods=["POST"]),
    Route("/language", language, methods=["GET"]),
]
