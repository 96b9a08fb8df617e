"""The API provider admin's pages: the organisation's scopes and delegation schemes, and each scope's access
list with the consumers' names (docs/protocol.md §3.4, §4.1 step 2; decision P1). Changes (access, schemes) are in
access_change.py."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portvakt.wire.altinn import SchemeOut
from portvakt.wire.scopes import AccessOut, ScopeOut
from portvakt.wire.vocabulary import PortalRole

from ..models import Notice, shown
from ..orgapi import OrgApi, org_api
from ..web import acting, base, language_of, not_found, state

ROLE = PortalRole.API_ADMIN
MAX_SCOPE = 200


@dataclass
class GrantForm:
    """The grant form: the orgno typed, and its error (a catalogue key) with the values it shows."""

    orgno: str = ""
    error: str | None = None
    values: dict[str, str] = field(default_factory=dict)


def access_url(request: Request, scope: str, **extra: str) -> str:
    """The access list page of a scope (a query parameter: scope names hold ':' and '/')."""
    return f"{base(request)}/scopes/access?{urlencode({'scope': scope, **extra})}"


async def own_scope(api: OrgApi, name: str) -> ScopeOut:
    """One of the organisation's own active scopes; the 404 page for any other name (docs/protocol.md §3.4
    ownership)."""
    if name and len(name) <= MAX_SCOPE:
        for scope in await api.scopes():
            if scope.name == name:
                return scope
    raise not_found()


def _scheme_notice(request: Request, schemes: list[SchemeOut]) -> Notice | None:
    """"Changed" or "removed", for a scheme in the list that really is so (?changed= / ?removed=)."""
    language = language_of(request)
    for param, key, active in (("changed", "scheme.changed", True), ("removed", "scheme.removed", False)):
        wanted = request.query_params.get(param)
        for s in schemes:
            if wanted is not None and s.scheme_id == wanted and s.active is active:
                return Notice(key, {"title": shown(s.title, language) or s.scheme_id})
    return None


async def scopes(request: Request) -> Response:
    """GET /scopes: GET /api/v1/scopes and GET /maskinporten-api/delegationSchemes?inactive=true, sorted by name;
    the removed schemes last."""
    who = await acting(request, ROLE)
    api = org_api(request, who)
    own, schemes = await asyncio.gather(api.scopes(), api.own_schemes(include_inactive=True))
    language = language_of(request)
    schemes.sort(key=lambda s: (not s.active, (shown(s.title, language) or s.scheme_id).casefold()))
    return state(request).renderer.page(request, "api_scopes.html", scopes=sorted(own, key=lambda s: s.name),
                                        schemes=schemes, notice=_scheme_notice(request, schemes))


def _notice(request: Request, scope: ScopeOut, entries: list[AccessOut], names: dict[str, str]) -> Notice | None:
    """"Granted" or "revoked", for an entry that really is so now (?granted= / ?revoked=)."""
    for param, key, state_now in (("granted", "access.granted", "APPROVED"), ("revoked", "access.revoked", "DENIED")):
        wanted = request.query_params.get(param)
        for e in entries:
            if wanted is not None and e.consumer_orgno == wanted and e.state == state_now:
                return Notice(key, {"name": names.get(wanted, wanted), "orgno": wanted, "scope": scope.name})
    return None


async def access_list(request: Request, api: OrgApi, scope: ScopeOut, form: GrantForm, *,
                      status: int = 200) -> Response:
    """The access list page: GET /scopes/access?scope= with the consumers' names, and the grant form."""
    entries = sorted(await api.access(scope.name), key=lambda e: e.consumer_orgno)
    names = await api.names(e.consumer_orgno for e in entries)
    return state(request).renderer.page(request, "scope_access.html", status=status, scope=scope, entries=entries,
                                        names=names, form=form, notice=_notice(request, scope, entries, names))


async def access(request: Request) -> Response:
    """GET /scopes/access?scope=: who has access to one own scope."""
    who = await acting(request, ROLE)
    api = org_api(request, who)
    scope = await own_scope(api, request.query_params.get("scope", ""))
    return await access_list(request, api, scope, GrantForm())


ROUTES = [
    Route("/scopes", scopes, methods=["GET"]),
    Route("/scopes/access", access, methods=["GET"]),
]
