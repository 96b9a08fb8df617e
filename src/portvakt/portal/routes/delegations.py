"""The access manager's delegations: those the organisation made (revoked ones as history on request), those
made to it, and revoking one after a confirmation (docs/protocol.md §4.1 step 5, §4.2 step 4; decision P1)."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portvakt.wire.altinn import DelegationOut
from portvakt.wire.vocabulary import PortalRole

from ..errors import PortalError
from ..models import Notice, shown
from ..orgapi import OrgApi, org_api
from ..web import acting, base, checked_form, language_of, not_found, state

log = logging.getLogger("portvakt.portal")
ROLE = PortalRole.ACCESS_MANAGER


def _notice(request: Request, made: list[DelegationOut], names: dict[str, str]) -> Notice | None:
    """"Delegated" or "revoked", for a delegation in the list that really is so (?made= / ?revoked=)."""
    language = language_of(request)
    for param, key, active in (("made", "delegations.made", True), ("revoked", "delegations.revoked", False)):
        wanted = request.query_params.get(param)
        for d in made:
            if wanted is not None and d.delegation_id == wanted and d.active is active:
                return Notice(key, {"title": shown(d.title, language), "orgno": d.supplier_org,
                                    "supplier": names.get(d.supplier_org, d.supplier_org)})
    return None


async def delegations(request: Request) -> Response:
    """GET /delegations[?history=1]: GET /delegations?role=consumer and ?role=supplier, with the vendors' and
    customers' names."""
    who = await acting(request, ROLE)
    api = org_api(request, who)
    history = request.query_params.get("history") == "1"
    ours, theirs = await asyncio.gather(
        api.delegations("consumer", include_revoked=history or "revoked" in request.query_params),
        api.delegations("supplier"))
    names = await api.names([d.supplier_org for d in ours] + [d.consumer_org for d in theirs])
    return state(request).renderer.page(
        request, "delegations.html", active=[d for d in ours if d.active],
        revoked=[d for d in ours if not d.active] if history else [], theirs=theirs, names=names,
        history=history, notice=_notice(request, ours, names))


async def _in_force(api: OrgApi, delegation_id: str) -> DelegationOut:
    """One of the organisation's delegations in force; the 404 page for anything else."""
    for d in await api.delegations("consumer"):
        if d.delegation_id == delegation_id:
            return d
    raise not_found()


async def revoke_form(request: Request) -> Response:
    """GET /delegations/{id}/revoke: what revoking means, and the button."""
    who = await acting(request, ROLE)
    api = org_api(request, who)
    found = await _in_force(api, request.path_params["delegation_id"])
    names = await api.names([found.supplier_org])
    return state(request).renderer.page(request, "delegation_revoke.html", delegation=found,
                                        supplier=names.get(found.supplier_org, found.supplier_org))


async def revoke(request: Request) -> Response:
    """POST /delegations/{id}/revoke: DELETE /delegations/{id}; new tokens are refused within about a quarter of a
    second on every node (the change feed's poll, `PORTVAKT_CACHE_POLL_SECONDS`; §4.2 step 4)."""
    await checked_form(request)
    who = await acting(request, ROLE)
    delegation_id = request.path_params["delegation_id"]
    try:
        done = await org_api(request, who).revoke(delegation_id)
    except PortalError as exc:
        if exc.missing:
            raise not_found() from None
        raise
    log.info("portal: %s revoked delegation %s of %s", who.person.username, done.delegation_id, who.orgno)
    return RedirectResponse(f"{base(request)}/delegations?revoked={quote(done.delegation_id, safe='')}",
                            status_code=303)


ROUTES = [
    Route("/delegations", delegations, methods=["GET"]),
    Route("/delegations/{delegation_id}/revoke", revoke_form, methods=["GET"]),
    Route("/delegations/{delegation_id}/revoke", revoke, methods=["POST"]),
]
