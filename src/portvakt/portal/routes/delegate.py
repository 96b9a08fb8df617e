"""The access manager delegates an API: choose a delegation scheme, type the vendor's orgno, see the vendor's
name, confirm (docs/protocol.md §4.1 step 5, decision P1). Nothing is delegated before the confirmation."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portvakt.wire.altinn import OrganisationOut, SchemeOut
from portvakt.wire.vocabulary import PortalRole

from ..errors import PortalError
from ..orgapi import OrgApi, OrgnoRefused, org_api, typed_orgno
from ..web import Acting, acting, base, checked_form, state
from ..web import field as form_field

log = logging.getLogger("portvakt.portal")
ROLE = PortalRole.ACCESS_MANAGER
MAX_QUERY, MAX_ID, MAX_ORGNO = 200, 100, 40


@dataclass
class DelegateForm:
    """What the delegate form holds, its errors by field (catalogue keys) and the values they show."""

    q: str = ""
    scheme_id: str = ""
    supplier_org: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    refused: str | None = None

    @classmethod
    def read(cls, data: dict[str, list[str]], who: Acting) -> DelegateForm:
        """The form from posted fields (or the query string), cut to size."""
        return cls(q=form_field(data, "q")[:MAX_QUERY].strip(), scheme_id=form_field(data, "scheme_id")[:MAX_ID],
                   supplier_org=form_field(data, "supplier_org")[:MAX_ORGNO].strip(),
                   values={"org": who.org_name, "orgno": ""})


@dataclass(frozen=True)
class Choice:
    """A checked choice: an active scheme and the vendor's organisation as the registry names it."""

    scheme: SchemeOut
    supplier: OrganisationOut


async def _form_page(request: Request, api: OrgApi, form: DelegateForm, *, status: int = 200) -> Response:
    """The scheme search and the delegate form (with the schemes matching `q`)."""
    schemes = await api.schemes(form.q)
    owners = await api.names(s.owner_org for s in schemes)
    return state(request).renderer.page(request, "delegate_new.html", status=status, form=form, schemes=schemes,
                                        owners=owners)


async def _supplier(api: OrgApi, form: DelegateForm) -> OrganisationOut | None:
    """The vendor's organisation: a typed orgno, not the own one, known to the registry; else a field error."""
    try:
        orgno = typed_orgno(form.supplier_org)
        if orgno == api.orgno:
            raise OrgnoRefused("delegate.own_org", orgno)
        return await api.organisation(orgno)
    except OrgnoRefused as exc:
        form.errors["supplier_org"] = exc.message
        form.values["orgno"] = exc.orgno
        return None


async def _check(api: OrgApi, form: DelegateForm) -> Choice | None:
    """docs/protocol.md §4.1 step 5 inputs, checked before anything is sent: an active scheme and another
    organisation."""
    schemes = {s.scheme_id: s for s in await api.schemes()}
    scheme = schemes.get(form.scheme_id)
    if scheme is None:
        form.errors["scheme_id"] = "delegate.scheme.required"
    supplier = await _supplier(api, form)
    return Choice(scheme, supplier) if scheme is not None and supplier is not None else None


async def new_form(request: Request) -> Response:
    """GET /delegations/new[?q=]: search the schemes; scheme_id and supplier_org prefill it (from "Change")."""
    who = await acting(request, ROLE)
    query = {k: [request.query_params[k]] for k in ("q", "scheme_id", "supplier_org") if k in request.query_params}
    return await _form_page(request, org_api(request, who), DelegateForm.read(query, who))


@dataclass
class Posted:
    """A CSRF-checked delegate form from a person with the role, checked against the APIs."""

    who: Acting
    api: OrgApi
    form: DelegateForm
    choice: Choice | None


async def _posted(request: Request) -> Posted:
    """CSRF first, then the role, then the form's choice (the vendor looked up by orgno)."""
    _, posted = await checked_form(request)
    who = await acting(request, ROLE)
    api = org_api(request, who)
    form = DelegateForm.read(posted, who)
    return Posted(who, api, form, await _check(api, form))


async def check(request: Request) -> Response:
    """POST /delegations/new: the confirmation step, showing the vendor's name; field errors otherwise."""
    p = await _posted(request)
    if p.choice is None:
        return await _form_page(request, p.api, p.form, status=400)
    return state(request).renderer.page(request, "delegate_confirm.html", choice=p.choice, form=p.form)


async def confirm(request: Request) -> Response:
    """POST /delegations/confirm: checked again, then POST /delegations {scheme_id, supplier_org}."""
    p = await _posted(request)
    who, api, form, choice = p.who, p.api, p.form, p.choice
    if choice is None:
        return await _form_page(request, api, form, status=400)
    try:
        made = await api.delegate(choice.scheme.scheme_id, choice.supplier.orgno)
    except PortalError as exc:
        if exc.kind == "unavailable":
            raise
        form.refused = form.values["reason"] = exc.message
        return await _form_page(request, api, form, status=400)
    log.info("portal: %s delegated scheme %s from %s to %s", who.person.username, made.scheme_id, who.orgno,
             made.supplier_org)
    return RedirectResponse(f"{base(request)}/delegations?made={quote(made.delegation_id, safe='')}",
                            status_code=303)


ROUTES = [
    Route("/delegations/new", new_form, methods=["GET"]),
    Route("/delegations/new", check, methods=["POST"]),
    Route("/delegations/confirm", confirm, methods=["POST"]),
]
