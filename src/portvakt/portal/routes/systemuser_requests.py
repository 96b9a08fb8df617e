"""The confirm pages of a vendor's system-user request: the customer's access manager sees who asks for what, approves
or rejects it, and goes back to the vendor's redirectUrl (docs/protocol.md §6; the confirmUrl of a request points
here: `systemuser/request?id=` and, for an agent request, `systemuser/agentrequest?id=`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portvakt.wire.altinn import PersonOut
from portvakt.wire.systemusers import ConfirmRequestOut
from portvakt.wire.vocabulary import PortalRole

from ..backend import AltinnRefusal
from ..errors import PortalError
from ..models import organisations, roles_for
from ..web import (
    PageError,
    Redirect,
    base,
    checked_form,
    field,
    fresh_roles,
    language_of,
    person_session,
    state,
)

log = logging.getLogger("portvakt.portal")
ROLE = PortalRole.ACCESS_MANAGER
#: A request id as the Altinn side makes them (a uuid); anything else cannot exist.
REQUEST_ID = re.compile(r"[0-9A-Fa-f-]{1,64}")
NEW = "New"
#: What each decision leaves the request as (docs/protocol.md §6: New -> Accepted | Rejected).
OUTCOME = {"approve": "Accepted", "reject": "Rejected"}
#: The hosts a plain-http redirectUrl may name: this machine only (as RFC 8252 §7.3 allows for redirect URIs).
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_REDIRECT = 2000


def _page(agent: bool) -> str:
    """The confirm page's path below the portal for a standard or an agent request."""
    return "/systemuser/agentrequest" if agent else "/systemuser/request"


def is_agent(found: ConfirmRequestOut) -> bool:
    """An agent request: its system user acts for the clients its owner adds (docs/protocol.md §6)."""
    return found.user_type == "agent"


def not_found_request() -> PageError:
    """The 404 page of a request that does not exist (or an id that cannot be one)."""
    return PageError(404, "sysreq.not_found.title", "sysreq.not_found")


def followable(url: str | None) -> str | None:
    """The vendor's redirectUrl if the browser may be sent there: an absolute https URL, or http to this machine
    (RFC 8252 §7.3), with no user info, no whitespace or control character, at most 2000 characters (OWASP
    Unvalidated Redirects: never a javascript: or data: URL, whatever the register holds)."""
    if not url or len(url) > MAX_REDIRECT or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        return None
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK)
    return url if secure and host and "@" not in parts.netloc else None


@dataclass(frozen=True)
class Asked:
    """A request read for a signed-in access manager of its party."""

    person: PersonOut
    found: ConfirmRequestOut

    @property
    def party_name(self) -> str:
        """The party's name as the person's roles give it."""
        return organisations(self.person).get(self.found.party_org_no, self.found.party_org_no)


def pick(texts: Mapping[str, str | None], language: str) -> str:
    """A text of a {nb, nn, en} map in the page's language, falling back to Bokmål, then any text there is."""
    return texts.get(language) or texts.get("nb") or texts.get("nn") or texts.get("en") or ""


def _texts(request: Request, asked: Asked) -> dict[str, Any]:
    """The names the pages show: the party's, the vendor's, the system's name and description in the page's
    language (the system's id and the vendor's orgno when the register has no name)."""
    found, language = asked.found, language_of(request)
    return {"party_name": asked.party_name, "vendor_name": found.vendor_name or found.vendor_org_no,
            "system_name": pick(found.system_name, language) or found.system_id,
            "system_description": pick(found.system_description, language)}


def _request_id(value: str) -> str:
    """The id of the query or form, or the 404 page when it cannot be a request id."""
    request_id = value.strip()
    if not REQUEST_ID.fullmatch(request_id):
        raise not_found_request()
    return request_id


async def _asked(request: Request, request_id: str) -> Asked:
    """The request, for a logged-in person who is an access manager of its party (docs/protocol.md §6: only the
    party approves); the login page first (back here afterwards), a 404 page for an unknown request, a 403 page
    for anyone else, who learns only the party's number."""
    session = person_session(request)
    await fresh_roles(request, session)
    person = session.person
    if person is None:
        raise Redirect("/login")
    try:
        found = await state(request).backend.systemuser_request(request_id)
    except PortalError as exc:
        if exc.missing:
            raise not_found_request() from None
        raise
    if ROLE not in roles_for(person, found.party_org_no):
        raise PageError(403, "sysreq.forbidden.title", "sysreq.forbidden", orgno=found.party_org_no)
    return Asked(person, found)


def _confirm_page(request: Request, asked: Asked, *, status: int = 200, error: str | None = None,
                  error_values: dict[str, str] | None = None) -> Response:
    """The request: the vendor, the system, the rights and packages asked for; the buttons while it is New."""
    found = asked.found
    return state(request).renderer.page(
        request, "systemuser_request.html", status=status, req=found, **_texts(request, asked),
        decidable=found.status == NEW and not found.timed_out,
        action=base(request) + _page(is_agent(found)) + "/decide",
        error=error, error_values=error_values or {})


def _decided_path(found: ConfirmRequestOut) -> str:
    return _page(is_agent(found)) + "/decided?" + urlencode({"id": found.id})


async def confirm(request: Request) -> Response:
    """GET /systemuser/request?id= and /systemuser/agentrequest?id= (DONTCHOOSEREPORTEE is ignored): the confirm
    page; a request of the other kind goes to its own page."""
    agent = request.url.path.endswith("/agentrequest")
    asked = await _asked(request, _request_id(request.query_params.get("id", "")))
    if is_agent(asked.found) != agent:
        raise Redirect(_page(is_agent(asked.found)) + "?" + urlencode({"id": asked.found.id}))
    return _confirm_page(request, asked)


def _already(request: Request, asked: Asked, decision: str) -> Response:
    """A request no longer New: decided as asked (a second submit of the same form) goes on to the decided page;
    otherwise its status, with a 409 page saying so."""
    if asked.found.status == OUTCOME[decision]:
        return RedirectResponse(base(request) + _decided_path(asked.found), status_code=303)
    return _confirm_page(request, asked, status=409, error="sysreq.already", error_values={})


async def decide(request: Request) -> Response:
    """POST /systemuser/request/decide (and the agent twin): CSRF first, then the person's role for the request's
    party, then approve or reject as that party (docs/protocol.md §6); a repeated submit changes nothing. 303 to
    the decided page."""
    session, form = await checked_form(request)
    decision = field(form, "decision")
    asked = await _asked(request, _request_id(field(form, "id")))
    if decision not in OUTCOME:
        raise PageError(400, "error.title", "error.bad_form")
    if asked.found.status != NEW:
        return _already(request, asked, decision)
    person, found = asked.person, asked.found
    try:
        await state(request).backend.decide_request(found.party_org_no, person.username, found.id,
                                                    agent=is_agent(found), approve=decision == "approve")
    except AltinnRefusal as exc:
        if exc.status == 404:
            raise not_found_request() from None
        if exc.status == 409:
            return _already(request, await _asked(request, found.id), decision)
        return _confirm_page(request, asked, status=400, error="sysreq.refused", error_values={"reason": exc.message})
    log.info("portal: %s %s system-user request %s for %s", person.username,
             "approved" if decision == "approve" else "rejected", found.id, found.party_org_no)
    session.orgno = found.party_org_no
    return RedirectResponse(base(request) + _decided_path(found), status_code=303)


async def decided(request: Request) -> Response:
    """GET /systemuser/request/decided?id= (and the agent twin): what was done; with the vendor's redirectUrl,
    portal.js sends the browser there (a 303 from the form's POST would break the portal's CSP form-action)."""
    asked = await _asked(request, _request_id(request.query_params.get("id", "")))
    found = asked.found
    if found.status == NEW:
        raise Redirect(_page(is_agent(found)) + "?" + urlencode({"id": found.id}))
    follow = followable(found.redirect_url)
    return state(request).renderer.page(
        request, "systemuser_decided.html", req=found, **_texts(request, asked), follow=follow,
        follow_host=urlsplit(follow).netloc if follow else "")


ROUTES = [
    Route("/systemuser/request", confirm, methods=["GET"]),
    Route("/systemuser/agentrequest", confirm, methods=["GET"]),
    Route("/systemuser/request/decide", decide, methods=["POST"]),
    Route("/systemuser/agentrequest/decide", decide, methods=["POST"]),
    Route("/systemuser/request/decided", decided, methods=["GET"]),
    Route("/systemuser/agentrequest/decided", decided, methods=["GET"]),
]
