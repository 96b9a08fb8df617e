"""The integration responsible's pages: the vendor's systems, the scopes it may use, creating, editing and
deactivating a system, removing a key, and a system's own page with whether and how it gets a token
(docs/protocol.md §4.4)."""

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

from ..backend import Backend, KeySetChanged, SystemChanged
from ..errors import PortalError
from ..keyset import KeyRefused, remove_key
from ..models import key_set_state, live_keys
from ..orgapi import NAME_LOOKUPS, org_api
from ..usage import TokenFacts, TokenState, token_state, usage_for
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
    #: Every active delegable scope, also those the vendor has access to itself.
    all_delegable: frozenset[str] = frozenset()

    def names(self) -> set[str]:
        """Every scope name on offer."""
        return {a.scope for a in self.access} | {s.name for s in self.delegable}


@dataclass
class SystemForm:
    """What the create and edit forms hold, their errors by field (catalogue keys), and for an edit the ETag of the
    system as read (RFC 9110 §13.1.1)."""

    name: str = ""
    description: str = ""
    scopes: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    refused: str | None = None
    etag: str = ""
    changed: bool = False


def vendor_backend(request: Request, who: Acting) -> Backend:
    """The API as the vendor the person acts for: its systems are its own, never the operator's supplied ones."""
    return state(request).backend.acting(who.orgno, who.person.username)


async def scope_choices(backend: Backend, vendor: str) -> ScopeChoices:
    """GET /scopes/access/for_consumer and the delegable public scopes, at the same time."""
    access, delegable = await asyncio.gather(backend.usable_scopes(vendor), backend.delegable_scopes())
    have = {a.scope for a in access}
    return ScopeChoices(sorted(access, key=lambda a: a.scope),
                        sorted((s for s in delegable if s.name not in have), key=lambda s: s.name),
                        frozenset(s.name for s in delegable))


async def token_facts(request: Request, who: Acting, backend: Backend, choices: ScopeChoices, *,
                      names: bool = False) -> TokenFacts:
    """What decides a token now: the vendor's own scopes, the delegations made to it (the Altinn side, as supplier),
    and each delegating customer's own access to the scopes (docs/protocol.md §4.2); with `names`, the customers'
    names. One call per customer at most, none per system."""
    delegations = await org_api(request, who).delegations("supplier")
    delegated_by: dict[str, list[str]] = {}
    for d in delegations:
        if d.active:
            for scope in d.scopes:
                delegated_by.setdefault(scope, []).append(d.consumer_org)
    customers = sorted({orgno for orgnos in delegated_by.values() for orgno in orgnos})
    limit = asyncio.Semaphore(NAME_LOOKUPS)

    async def access_of(orgno: str) -> tuple[str, frozenset[str]]:
        async with limit:
            found = await backend.usable_scopes(orgno, integration_type=None)
        return orgno, frozenset(a.scope for a in found)

    access = dict(await asyncio.gather(*(access_of(o) for o in customers)))
    found_names = await org_api(request, who).names(customers) if names and customers else {}
    return TokenFacts(own=frozenset(a.scope for a in choices.access), delegable=choices.all_delegable,
                      delegated_by={s: tuple(sorted(set(o))) for s, o in delegated_by.items()},
                      customer_access=access, names=found_names)


@dataclass(frozen=True)
class SystemRow:
    """A system in the list: the system and whether it can get a token now."""

    system: ClientOut
    token: TokenState


async def systems(request: Request) -> Response:
    """GET /systems: the vendor's systems by name, each with whether it can get a token now and why not; the keys
    come with the list (include=jwks), so the number of calls does not grow with the number of systems."""
    who = await acting(request, ROLE)
    backend = vendor_backend(request, who)
    found, choices = await asyncio.gather(backend.systems(who.orgno), scope_choices(backend, who.orgno))
    facts = await token_facts(request, who, backend, choices)
    now = state(request).clock.now()
    rows = [SystemRow(s, token_state(s, s.jwks.keys if s.jwks else [], now, facts)) for s in found]
    return state(request).renderer.page(request, "systems.html", rows=rows, choices=choices)


async def new_system_form(request: Request) -> Response:
    """GET /systems/new: name, description and the scopes on offer."""
    who = await acting(request, ROLE)
    choices = await scope_choices(vendor_backend(request, who), who.orgno)
    return state(request).renderer.page(request, "system_new.html", form=SystemForm(), choices=choices)


def _validate(form: SystemForm, offered: set[str]) -> None:
    """The portal's own checks before the API's (docs/protocol.md §3.2 lengths); a system needs at least one scope
    (without one it can never get a token); errors by field."""
    if not form.name:
        form.errors["client_name"] = "new.name.required"
    elif len(form.name) > MAX_NAME:
        form.errors["client_name"] = "new.name.too_long"
    if len(form.description) > MAX_DESCRIPTION:
        form.errors["description"] = "new.description.too_long"
    if not form.scopes:
        form.errors["scopes"] = "system.form.scopes.required"
    elif not set(form.scopes) <= offered:
        form.errors["scopes"] = "new.scopes.unknown"


def _posted(posted: dict[str, list[str]]) -> SystemForm:
    """The form as posted: the name with its spaces collapsed, the description trimmed, scopes once each."""
    return SystemForm(" ".join(form_field(posted, "client_name").split()), form_field(posted, "description").strip(),
                      list(dict.fromkeys(posted.get("scopes", []))), etag=form_field(posted, "etag"))


def _refused(form: SystemForm, exc: PortalError) -> None:
    """An API refusal on the form: its readable message, tied to its field when it names one."""
    if exc.status >= 500 or exc.kind == "unavailable":
        raise exc
    form.refused = exc.message
    if exc.field in ("client_name", "description", "scopes"):
        form.errors[exc.field] = "form.refused"


def _to_system(request: Request, client_id: str, **query: str) -> RedirectResponse:
    """303 to a system's page, with a notice in the query."""
    notice = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
    target = f"{base(request)}/systems/{quote(client_id, safe='')}" + (f"?{notice}" if notice else "")
    return RedirectResponse(target, status_code=303)


async def create_system(request: Request) -> Response:
    """POST /systems/new: POST /api/v1/clients as docs/protocol.md §4.4 describes, then to the new system's page."""
    _, posted = await checked_form(request)
    who = await acting(request, ROLE)
    backend = vendor_backend(request, who)
    choices = await scope_choices(backend, who.orgno)
    form = _posted(posted)
    _validate(form, choices.names())
    if not form.errors:
        try:
            made = await backend.create_system(who.orgno, form.name, form.description, form.scopes)
        except PortalError as exc:
            _refused(form, exc)
        else:
            log.info("portal: %s created system %s for %s", who.person.username, made.client_id, who.orgno)
            return _to_system(request, made.client_id)
    return state(request).renderer.page(request, "system_new.html", status=400, form=form, choices=choices,
                                        has_errors=bool(form.errors))


@dataclass
class SystemContext:
    """A system page's subject: who acts, the system and its keys, and the key set's ETag as read."""

    who: Acting
    system: ClientOut
    keys: list[JwkOut]
    key_etag: str | None = None

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
    keys = await backend.key_set(found.client_id)
    return SystemContext(who, found, keys.keys, keys.etag)


def _shown_key(keys: list[JwkOut], now: datetime, added: str | None) -> JwkOut | None:
    """The key the commands use: the one just added, else the newest unexpired one."""
    live = live_keys(keys, now)
    chosen = [k for k in live if k.kid == added] or live[-1:]
    return chosen[0] if chosen else None


async def system_page(request: Request) -> Response:
    """GET /systems/{client_id}: the facts, whether it can get a token now and why not, its keys, and the ready
    commands: one for the vendor's own scopes, then per delegated scope one per customer (--consumer-org)."""
    ctx = await load_system(request)
    backend = vendor_backend(request, ctx.who)
    choices = await scope_choices(backend, ctx.who.orgno)
    facts = await token_facts(request, ctx.who, backend, choices, names=True)
    now = state(request).clock.now()
    token = token_state(ctx.system, ctx.keys, now, facts)
    added = request.query_params.get("added")
    shown = _shown_key(ctx.keys, now, added) if ctx.system.active else None
    usage = usage_for(state(request).config.api_url, ctx.system, shown, facts) if shown else None
    return state(request).renderer.page(
        request, "system.html", system=ctx.system, keys=ctx.keys, now=now, overall=key_set_state(ctx.keys, now),
        token=token, can_add=ctx.system.active and len(ctx.live_keys(now)) < MAX_KEYS_PER_CLIENT, usage=usage,
        facts=facts, added=added if any(k.kid == added for k in ctx.keys) else None,
        removed=request.query_params.get("removed"), edited=request.query_params.get("edited") == "1")


# --- edit ---------------------------------------------------------------------------------------------------------

def _offered(choices: ScopeChoices, system: ClientOut) -> set[str]:
    """The scopes an edit may keep or add: those on offer, and those the system has (kept even when their access was
    revoked, docs/protocol.md §3.2, so they can be removed)."""
    return choices.names() | set(system.scopes)


async def _editable(request: Request) -> tuple[Acting, Backend, ClientOut, str | None] | Response:
    """The system to edit or deactivate, and its ETag; a deactivated one goes back to its page (it cannot change)."""
    who = await acting(request, ROLE)
    backend = vendor_backend(request, who)
    try:
        system, etag = await backend.system_with_etag(who.orgno, request.path_params["client_id"])
    except PortalError as exc:
        if exc.missing:
            raise not_found() from None
        raise
    if not system.active:
        return _to_system(request, system.client_id)
    return who, backend, system, etag


def _edit_page(request: Request, system: ClientOut, form: SystemForm, choices: ScopeChoices, *,
               status: int = 200) -> Response:
    return state(request).renderer.page(request, "system_edit.html", status=status, system=system, form=form,
                                        choices=choices, offered=sorted(_offered(choices, system)),
                                        has_errors=bool(form.errors))


async def edit_form(request: Request) -> Response:
    """GET /systems/{id}/edit: name, description and the scopes it may use, as they are now."""
    found = await _editable(request)
    if isinstance(found, Response):
        return found
    who, backend, system, etag = found
    choices = await scope_choices(backend, who.orgno)
    form = SystemForm(system.client_name, system.description, list(system.scopes), etag=etag or "")
    return _edit_page(request, system, form, choices)


async def edit(request: Request) -> Response:
    """POST /systems/{id}/edit: PATCH /api/v1/clients/{id} with If-Match the ETag read with the form (RFC 9110
    §13.1.1); when someone changed the system meanwhile (412) the form says so and keeps what was typed."""
    _, posted = await checked_form(request)
    found = await _editable(request)
    if isinstance(found, Response):
        return found
    who, backend, system, etag = found
    choices = await scope_choices(backend, who.orgno)
    form = _posted(posted)
    _validate(form, _offered(choices, system))
    if not form.errors:
        try:
            await backend.edit_system(who.orgno, system.client_id, name=form.name, description=form.description,
                                      scopes=form.scopes, if_match=form.etag or etag)
        except SystemChanged:
            form.changed, form.etag = True, etag or ""
            return _edit_page(request, system, form, choices, status=409)
        except PortalError as exc:
            _refused(form, exc)
        else:
            log.info("portal: %s changed system %s", who.person.username, system.client_id)
            return _to_system(request, system.client_id, edited="1")
    return _edit_page(request, system, form, choices, status=400)


# --- deactivate ---------------------------------------------------------------------------------------------------

def _deactivate_page(request: Request, system: ClientOut, etag: str | None, *, changed: bool = False,
                     status: int = 200) -> Response:
    return state(request).renderer.page(request, "system_deactivate.html", status=status, system=system,
                                        etag=etag or "", changed=changed)


async def deactivate_form(request: Request) -> Response:
    """GET /systems/{id}/deactivate: what deactivating means, and a button to confirm."""
    found = await _editable(request)
    if isinstance(found, Response):
        return found
    _, _, system, etag = found
    return _deactivate_page(request, system, etag)


async def deactivate(request: Request) -> Response:
    """POST /systems/{id}/deactivate: DELETE /api/v1/clients/{id} with If-Match the ETag the confirmation showed
    (docs/protocol.md §3.2; RFC 9110 §13.1.1); a 412 shows the page again as it is now."""
    _, posted = await checked_form(request)
    found = await _editable(request)
    if isinstance(found, Response):
        return found
    who, backend, system, etag = found
    try:
        await backend.deactivate_system(who.orgno, system.client_id, if_match=form_field(posted, "etag") or etag)
    except SystemChanged:
        return _deactivate_page(request, system, etag, changed=True, status=409)
    log.info("portal: %s deactivated system %s", who.person.username, system.client_id)
    return _to_system(request, system.client_id)


# --- remove a key -------------------------------------------------------------------------------------------------

def _remove_page(request: Request, ctx: SystemContext, kid: str, *, changed: bool = False,
                 status: int = 200) -> Response:
    now = state(request).clock.now()
    key = next((k for k in ctx.keys if k.kid == kid), None)
    last = key is not None and [k.kid for k in ctx.live_keys(now)] == [kid]
    return state(request).renderer.page(request, "system_remove_key.html", status=status, system=ctx.system,
                                        keys=ctx.keys, key=key, kid=kid, etag=ctx.key_etag or "", now=now,
                                        last=last, changed=changed)


async def _removable(request: Request) -> SystemContext | Response:
    """The system whose key is to be removed; a deactivated one goes back to its page (it cannot change)."""
    ctx = await load_system(request)
    if not ctx.system.active:
        return _to_system(request, ctx.system.client_id)
    return ctx


async def remove_key_form(request: Request) -> Response:
    """GET /systems/{id}/remove-key?kid=: a confirmation naming the key and its expiry."""
    ctx = await _removable(request)
    if isinstance(ctx, Response):
        return ctx
    kid = request.query_params.get("kid", "")
    if not any(k.kid == kid for k in ctx.keys):
        raise not_found()
    return _remove_page(request, ctx, kid)


async def remove(request: Request) -> Response:
    """POST /systems/{id}/remove-key: PUT the other keys with If-Match the key set's ETag the confirmation showed
    (RFC 9110 §13.1.1); when the set changed meanwhile (412) the page says so and shows the set as it is now."""
    _, posted = await checked_form(request)
    ctx = await _removable(request)
    if isinstance(ctx, Response):
        return ctx
    kid = form_field(posted, "kid")
    now = state(request).clock.now()
    try:
        await remove_key(vendor_backend(request, ctx.who), ctx.system.client_id, kid,
                         form_field(posted, "etag") or None, now)
    except (KeySetChanged, KeyRefused):
        return _remove_page(request, await load_system(request), kid, changed=True, status=409)
    log.info("portal: %s removed key %s from %s", ctx.who.person.username, kid, ctx.system.client_id)
    return _to_system(request, ctx.system.client_id, removed=kid)


ROUTES = [
    Route("/systems", systems, methods=["GET"]),
    Route("/systems/new", new_system_form, methods=["GET"]),
    Route("/systems/new", create_system, methods=["POST"]),
    Route("/systems/{client_id}", system_page, methods=["GET"]),
    Route("/systems/{client_id}/edit", edit_form, methods=["GET"]),
    Route("/systems/{client_id}/edit", edit, methods=["POST"]),
    Route("/systems/{client_id}/deactivate", deactivate_form, methods=["GET"]),
    Route("/systems/{client_id}/deactivate", deactivate, methods=["POST"]),
    Route("/systems/{client_id}/remove-key", remove_key_form, methods=["GET"]),
    Route("/systems/{client_id}/remove-key", remove, methods=["POST"]),
]
