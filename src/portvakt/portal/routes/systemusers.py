"""The access manager's system users: the organisation's list, one system user's page, deleting one after a
confirmation, and an agent system user's clients, added and removed (docs/protocol.md §6)."""

from __future__ import annotations

import asyncio
import logging
import re
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portvakt.wire.systemusers import ClientOut as AgentClientOut
from portvakt.wire.systemusers import SystemUserOut
from portvakt.wire.vocabulary import PortalRole

from ..backend import AltinnRefusal
from ..errors import PortalError
from ..models import Notice
from ..web import Acting, acting, base, checked_form, field, not_found, state

log = logging.getLogger("portvakt.portal")
ROLE = PortalRole.ACCESS_MANAGER
#: A system user's id as the Altinn side makes them (a uuid); anything else cannot exist.
SYSTEM_USER_ID = re.compile(r"[0-9A-Fa-f-]{1,64}")
ORGNO = re.compile(r"[0-9]{9}")
#: The Altinn side's code for deleting an agent system user that still has clients.
HAS_CLIENTS = "AUTH-00035"


def _system_user_id(request: Request) -> str:
    """The id in the path, or the 404 page when it cannot be a system user's id."""
    found = str(request.path_params["system_user_id"])
    if not SYSTEM_USER_ID.fullmatch(found):
        raise not_found()
    return found


def _path(system_user_id: str) -> str:
    return "/systemusers/" + quote(system_user_id, safe="")


async def _one(who: Acting, request: Request, system_user_id: str) -> SystemUserOut:
    """One of the organisation's system users, not deleted; the 404 page for anything else."""
    try:
        found = await state(request).backend.system_user(who.orgno, who.person.username, system_user_id)
    except PortalError as exc:
        if exc.missing:
            raise not_found() from None
        raise
    if found.is_deleted or (found.reportee_org_no and found.reportee_org_no != who.orgno):
        raise not_found()
    return found


async def system_users(request: Request) -> Response:
    """GET /systemusers[?deleted=1]: the organisation's system users, newest first."""
    who = await acting(request, ROLE)
    found = await state(request).backend.system_users(who.orgno, who.person.username)
    listed = sorted((u for u in found if not u.is_deleted), key=lambda u: (u.created, u.id), reverse=True)
    notice = Notice("sysusers.deleted", {"org": who.org_name}) if request.query_params.get("deleted") == "1" else None
    return state(request).renderer.page(request, "systemusers.html", users=listed, notice=notice)


def _client_notice(request: Request, clients: list[AgentClientOut], available: list[AgentClientOut]) -> Notice | None:
    """"Added" or "removed", for a client that really is so now (?added= / ?removed=)."""
    for param, key, where in (("added", "sysusers.client.added", clients),
                              ("removed", "sysusers.client.removed", available)):
        wanted = request.query_params.get(param)
        for c in where:
            if wanted is not None and c.client_organization_number == wanted:
                return Notice(key, {"name": c.client_organization_name or wanted, "orgno": wanted})
    return None


async def _page(request: Request, who: Acting, user: SystemUserOut, *, status: int = 200,
                error: str | None = None, values: dict[str, str] | None = None) -> Response:
    """A system user's page; an agent one with its clients and the organisations that may be added."""
    backend = state(request).backend
    clients: list[AgentClientOut] = []
    available: list[AgentClientOut] = []
    if user.user_type == "agent":
        clients, available = await asyncio.gather(
            backend.agent_clients(who.orgno, who.person.username, user.id),
            backend.agent_clients(who.orgno, who.person.username, user.id, available=True))
    return state(request).renderer.page(
        request, "systemuser.html", status=status, user=user, clients=clients, available=available,
        notice=_client_notice(request, clients, available) if error is None else None, error=error,
        error_values=values or {})


async def system_user(request: Request) -> Response:
    """GET /systemusers/{id}: what the system user may do, for whom; an agent one's clients."""
    who = await acting(request, ROLE)
    user = await _one(who, request, _system_user_id(request))
    return await _page(request, who, user)


async def delete_form(request: Request) -> Response:
    """GET /systemusers/{id}/delete: what deleting means, and the button."""
    who = await acting(request, ROLE)
    user = await _one(who, request, _system_user_id(request))
    return state(request).renderer.page(request, "systemuser_delete.html", user=user, error=None)


async def delete(request: Request) -> Response:
    """POST /systemusers/{id}/delete: DELETE systemuser/{party}/{id}; the vendor's system gets no more tokens for
    the organisation with it (the lookup answers 404). An agent system user with clients is refused."""
    await checked_form(request)
    who = await acting(request, ROLE)
    user = await _one(who, request, _system_user_id(request))
    try:
        deleted = await state(request).backend.delete_system_user(who.orgno, who.person.username, user.id)
    except AltinnRefusal as exc:
        key = "sysusers.delete.has_clients" if exc.code == HAS_CLIENTS else "sysusers.delete.refused"
        return state(request).renderer.page(request, "systemuser_delete.html", status=400, user=user, error=key,
                                            error_values={"reason": exc.message})
    if not deleted:
        raise not_found()
    log.info("portal: %s deleted system user %s of %s", who.person.username, user.id, who.orgno)
    return RedirectResponse(f"{base(request)}/systemusers?deleted=1", status_code=303)


async def change_client(request: Request) -> Response:
    """POST /systemusers/{id}/clients (add) and /systemusers/{id}/clients/remove: the agent system user may act
    for that client, or no longer (docs/protocol.md §6); 303 back to its page."""
    _, form = await checked_form(request)
    who = await acting(request, ROLE)
    user = await _one(who, request, _system_user_id(request))
    add = not request.url.path.endswith("/remove")
    client = "".join(field(form, "client").split())
    if user.user_type != "agent":
        return await _page(request, who, user, status=400, error="sysusers.client.not_agent")
    if not ORGNO.fullmatch(client):
        return await _page(request, who, user, status=400, error="sysusers.client.required")
    try:
        await state(request).backend.change_client(who.orgno, who.person.username, user.id, client, add=add)
    except AltinnRefusal as exc:
        return await _page(request, who, user, status=400, error="sysusers.client.refused",
                           values={"reason": exc.message})
    log.info("portal: %s %s client %s of system user %s (%s)", who.person.username, "added" if add else "removed",
             client, user.id, who.orgno)
    query = urlencode({"added" if add else "removed": client})
    return RedirectResponse(f"{base(request)}{_path(user.id)}?{query}#clients", status_code=303)


ROUTES = [
    Route("/systemusers", system_users, methods=["GET"]),
    Route("/systemusers/{system_user_id}", system_user, methods=["GET"]),
    Route("/systemusers/{system_user_id}/delete", delete_form, methods=["GET"]),
    Route("/systemusers/{system_user_id}/delete", delete, methods=["POST"]),
    Route("/systemusers/{system_user_id}/clients", change_client, methods=["POST"]),
    Route("/systemusers/{system_user_id}/clients/remove", change_client, methods=["POST"]),
]
