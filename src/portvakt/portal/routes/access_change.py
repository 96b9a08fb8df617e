"""The API provider admin grants and revokes access to an own scope, each after a confirmation that names
the organisation (docs/protocol.md §3.4 PUT/DELETE /scopes/access/{consumer_orgno}; decision P1)."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portvakt.wire.altinn import OrganisationOut
from portvakt.wire.scopes import ScopeOut

from ..errors import PortalError
from ..orgapi import OrgApi, OrgnoRefused, org_api, typed_orgno
from ..web import Acting, acting, checked_form, field, not_found, state
from .access import ROLE, GrantForm, access_list, access_url, own_scope

log = logging.getLogger("portvakt.portal")
MAX_ORGNO = 40


def _confirm(request: Request, action: str, scope: ScopeOut, org: OrganisationOut) -> Response:
    """The confirmation page of a grant or a revocation, naming the organisation."""
    return state(request).renderer.page(request, "access_confirm.html", action=action, scope=scope, org=org)


async def _granting(request: Request) -> tuple[Acting, OrgApi, ScopeOut, GrantForm, OrganisationOut | None]:
    """A checked grant form: the own scope, and the organisation the typed orgno names (None: a field error)."""
    _, posted = await checked_form(request)
    who = await acting(request, ROLE)
    api = org_api(request, who)
    scope = await own_scope(api, field(posted, "scope"))
    form = GrantForm(orgno=field(posted, "orgno")[:MAX_ORGNO].strip())
    try:
        return who, api, scope, form, await api.organisation(form.orgno)
    except OrgnoRefused as exc:
        form.error, form.values = exc.message, {"orgno": exc.orgno}
        return who, api, scope, form, None


async def grant(request: Request) -> Response:
    """POST /scopes/access/grant: the confirmation with the organisation's name; a field error otherwise."""
    _, api, scope, form, org = await _granting(request)
    if org is None:
        return await access_list(request, api, scope, form, status=400)
    return _confirm(request, "grant", scope, org)


async def grant_confirmed(request: Request) -> Response:
    """POST /scopes/access/grant/confirm: PUT /scopes/access/{orgno}?scope=; /token honours it within about a
    quarter of a second on every node (the change feed's poll, `PORTVAKT_CACHE_POLL_SECONDS`)."""
    who, api, scope, form, org = await _granting(request)
    if org is None:
        return await access_list(request, api, scope, form, status=400)
    try:
        await api.grant(scope.name, org.orgno)
    except PortalError as exc:
        if exc.kind == "unavailable":
            raise
        form.error, form.values = "form.refused", {"reason": exc.message, "orgno": org.orgno}
        return await access_list(request, api, scope, form, status=400)
    log.info("portal: %s granted %s access to %s", who.person.username, org.orgno, scope.name)
    return RedirectResponse(access_url(request, scope.name, granted=org.orgno), status_code=303)


async def _listed(api: OrgApi, scope: ScopeOut, text: str) -> OrganisationOut:
    """An organisation on the scope's access list that is not already refused; the 404 page otherwise."""
    try:
        orgno = typed_orgno(text)
    except OrgnoRefused:
        raise not_found() from None
    if not any(e.consumer_orgno == orgno and e.state != "DENIED" for e in await api.access(scope.name)):
        raise not_found()
    names = await api.names([orgno])
    return OrganisationOut(orgno=orgno, name=names.get(orgno, orgno))


async def revoke_form(request: Request) -> Response:
    """GET /scopes/access/revoke?scope=&orgno=: what revoking means, and the button."""
    who = await acting(request, ROLE)
    api = org_api(request, who)
    scope = await own_scope(api, request.query_params.get("scope", ""))
    org = await _listed(api, scope, request.query_params.get("orgno", "")[:MAX_ORGNO])
    return _confirm(request, "revoke", scope, org)


async def revoke(request: Request) -> Response:
    """POST /scopes/access/revoke: DELETE /scopes/access/{orgno}?scope=; the entry stays, DENIED (MP-250)."""
    _, posted = await checked_form(request)
    who = await acting(request, ROLE)
    api = org_api(request, who)
    scope = await own_scope(api, field(posted, "scope"))
    org = await _listed(api, scope, field(posted, "orgno")[:MAX_ORGNO])
    try:
        await api.revoke_access(scope.name, org.orgno)
    except PortalError as exc:
        if exc.missing:
            raise not_found() from None
        raise
    log.info("portal: %s revoked the access of %s to %s", who.person.username, org.orgno, scope.name)
    return RedirectResponse(access_url(request, scope.name, revoked=org.orgno), status_code=303)


ROUTES = [
    Route("/scopes/access/grant", grant, methods=["POST"]),
    Route("/scopes/access/grant/confirm", grant_confirmed, methods=["POST"]),
    Route("/scopes/access/revoke", revoke_form, methods=["GET"]),
    Route("/scopes/access/revoke", revoke, methods=["POST"]),
]
