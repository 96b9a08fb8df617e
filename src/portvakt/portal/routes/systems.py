"""The integration responsible's pages: the vendor's systems, the scopes it may use, creating a system
and a system's own page (docs/protocol.md §4.4)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portvakt.wire.clients import ClientOut, JwkOut
from portvakt.wire.protocol import MAX_KEYS_PER_CLIENT
from portvakt.wire.scopes import AccessOut, ScopeOut
from portvakt.wire.vocabulary import PortalRole

from ..backend import Backend
from ..errors import PortalError
from ..models import key_set_state, live_keys
from ..usage import usage_snippets
from ..web import Acting, acting, base, checked_form, not_found, state
from ..web import field as form_field

log = logging.getLogger("portvakt.portal")
ROLE = PortalRole.INTEGRATION_RESPONSIBLE
MAX_NAME, MAX_DESCRIPTION = 200, 2000


@dataclass
class ScopeChoices:
    """The scopes a vendor may put on a system: those it has access to, and those customers can delegate."""

    access: list[AccessOut]
    delegable: list[ScopeOut]

    def names(self) -> set[str]:
        """Every scope name on offer."""
        return {a.scope for a in self.access} | {s.name for s in self.delegable}


@dataclass
class SystemForm:
    """What the create form holds, and its errors by field (catalogue keys)."""

    name: str = ""
    description: str = ""
    scopes: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    refused: str | None = None


def vendor_backend(request: Request, who: Acting) -> Backend:
    """The API as the vendor the person acts for: its systems are its own, never the operator's supplied ones."""
    return state(request).backend.acting(who.orgno, who.person.username)


async def scope_choices(backend: Backend, vendor: str) -> ScopeChoices:
    """GET /scopes/access/for_consumer and the delegable public scopes, at the same time."""
    access, delegable = await asyncio.gather(backend.usable_scopes(vendor), backend.delegable_scopes())
    have = {a.scope for a in access}
    return ScopeChoices(sorted(access, key=lambda a: a.scope),
                        sorted((s for s in delegable if s.name not in have), key=lambda s: s.name))


async def systems(request: Request) -> Response:
    """GET /systems: the vendor's virksomhetssystemer with the state of their keys, and its scopes; the keys come
    with the list (include=jwks), so the number of calls does not grow with the number of systems."""
    who = await acting(request, ROLE)
    backend = vendor_backend(request, who)
    found, choices = await asyncio.gather(backend.systems(who.orgno), scope_choices(backend, who.orgno))
    now = state(request).clock.now()
    rows = [(s, key_set_state(s.jwks.keys if s.jwks else [], now)) for s in found]
    return state(request).renderer.page(request, "systems.html", rows=rows, choices=choices)


async def new_system_form(request: Request) -> Response:
    """GET /systems/new: name, description and the scopes on offer."""
    who = await acting(request, ROLE)
    choices = await scope_choices(vendor_backend(request, who), who.orgno)
    return state(request).renderer.page(request, "system_new.html", form=SystemForm(), choices=choices)


def _validate(form: SystemForm, choices: ScopeChoices) -> None:
    """The portal's own checks before the API's (docs/protocol.md §3.2 lengths); errors by field."""
    if not form.name:
        form.errors["client_name"] = "new.name.required"
    elif len(form.name) > MAX_NAME:
        form.errors["client_name"] = "new.name.too_long"
    if len(form.description) > MAX_DESCRIPTION:
        form.errors["description"] = "new.description.too_long"
    if not set(form.scopes) <= choices.names():
        form.errors["scopes"] = "new.scopes.unknown"


async def create_system(request: Request) -> Response:
    """POST /systems/new: POST /api/v1/clients as docs/protocol.md §4.4 describes, then to the new system's page."""
    _, posted = await checked_form(request)
    who = await acting(request, ROLE)
    backend = vendor_backend(request, who)
    choices = await scope_choices(backend, who.orgno)
    form = SystemForm(" ".join(form_field(posted, "client_name").split()), form_field(posted, "description").strip(),
                      list(dict.fromkeys(posted.get("scopes", []))))
    _validate(form, choices)
    if not form.errors:
        try:
            made = await backend.create_system(who.orgno, form.name, form.description, form.scopes)
        except PortalError as exc:
            if exc.status >= 500 or exc.kind == "unavailable":
                raise
            form.refused = exc.message
            if exc.field in ("client_name", "description", "scopes"):
                form.errors[exc.field] = "form.refused"
        else:
            log.info("portal: %s created system %s for %s", who.person.username, made.client_id, who.orgno)
            return RedirectResponse(f"{base(request)}/systems/{quote(made.client_id, safe='')}", status_code=303)
    return state(request).renderer.page(request, "system_new.html", status=400, form=form, choices=choices)


@dataclass
class SystemContext:
    """A system page's subject: who acts, the system and its keys."""

    who: Acting
    system: ClientOut
    keys: list[JwkOut]

    def live_keys(self, now: datetime) -> list[JwkOut]:
        """The keys that have not expired."""
        return live_keys(self.keys, now)


async def load_system(request: Request) -> SystemContext:
    """The vendor's system named in the path, and its keys; a 404 page for anyone else's."""
    who = await acting(request, ROLE)
    backend = vendor_backend(request, who)
    client_id = request.path_params["client_id"]
    try:
        found = await backend.system(who.orgno, client_id)
    except PortalError as exc:
        if exc.missing:
            raise not_found() from None
        raise
    return SystemContext(who, found, await backend.keys(found.client_id))


async def system_page(request: Request) -> Response:
    """GET /systems/{client_id}: client_id, scopes, keys and expiry; until a key, the three ways to add one."""
    ctx = await load_system(request)
    now = state(request).clock.now()
    live = ctx.live_keys(now)
    snippets = usage_snippets(state(request).config.api_url, ctx.system, live[-1]) if live else None
    added = request.query_params.get("added")
    return state(request).renderer.page(
        request, "system.html", system=ctx.system, keys=ctx.keys, now=now, overall=key_set_state(ctx.keys, now),
        can_add=len(live) < MAX_KEYS_PER_CLIENT, snippets=snippets,
        added=added if any(k.kid == added for k in live) else None)


ROUTES = [
    Route("/systems", systems, methods=["GET"]),
    Route("/systems/new", new_system_form, methods=["GET"]),
    Route("/systems/new", create_system, methods=["POST"]),
    Route("/systems/{client_id}", system_page, methods=["GET"]),
]
