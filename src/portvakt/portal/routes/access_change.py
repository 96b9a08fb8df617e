"""The API provider admin grants and revokes access to an own scope, each after a confirmation that names
the organisation (docs/protocol.md §3.4 PUT/DELETE /scopes/access/{consumer_orgno}; decision P1); and changes or
removes an own delegation scheme, each after a confirmation (§4.1 step 2 PUT/DELETE /delegationSchemes/{id})."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portvakt.wire.altinn import LanguagesOut, OrganisationOut, SchemeOut
from portvakt.wire.scopes import ScopeOut

from ..errors import PortalError
from ..orgapi import OrgApi, OrgnoRefused, org_api, typed_orgno
from ..web import Acting, acting, base, checked_form, not_found, state
from ..web import field as form_field
from .access import MAX_SCOPE, ROLE, GrantForm, access_list, access_url, own_scope

log = logging.getLogger("portvakt.portal")
MAX_ORGNO = 40
#: A scheme's limits (docs/protocol.md §4.1 step 2; the Altinn side checks them too).
MAX_TITLE, MAX_DESCRIPTION, MAX_SCOPES = 200, 4000, 50
#: The edit form's text fields: (field, which text, language, limit).
TEXTS = (("title_nb", "title", "nb", MAX_TITLE), ("title_en", "title", "en", MAX_TITLE),
         ("description_nb", "description", "nb", MAX_DESCRIPTION),
         ("description_en", "description", "en", MAX_DESCRIPTION))


def _confirm(request: Request, action: str, scope: ScopeOut, org: OrganisationOut) -> Response:
    """The confirmation page of a grant or a revocation, naming the organisation."""
    return state(request).renderer.page(request, "access_confirm.html", action=action, scope=scope, org=org)


async def _granting(request: Request) -> tuple[Acting, OrgApi, ScopeOut, GrantForm, OrganisationOut | None]:
    """A checked grant form: the own scope, and the organisation the typed orgno names (None: a field error)."""
    _, posted = await checked_form(request)
    who = await acting(request, ROLE)
    api = org_api(request, who)
    scope = await own_scope(api, form_field(posted, "scope"))
    form = GrantForm(orgno=form_field(posted, "orgno")[:MAX_ORGNO].strip())
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
    scope = await own_scope(api, form_field(posted, "scope"))
    org = await _listed(api, scope, form_field(posted, "orgno")[:MAX_ORGNO])
    try:
        await api.revoke_access(scope.name, org.orgno)
    except PortalError as exc:
        if exc.missing:
            raise not_found() from None
        raise
    log.info("portal: %s revoked the access of %s to %s", who.person.username, org.orgno, scope.name)
    return RedirectResponse(access_url(request, scope.name, revoked=org.orgno), status_code=303)


@dataclass
class SchemeForm:
    """The scheme edit form: its texts by field name, the chosen scopes, errors by field (catalogue keys)."""

    texts: dict[str, str]
    scopes: list[str]
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=lambda: {"title_max": str(MAX_TITLE),
                                                            "description_max": str(MAX_DESCRIPTION)})
    refused: str | None = None

    @classmethod
    def of(cls, scheme: SchemeOut) -> SchemeForm:
        """The form as the scheme is now."""
        texts = {name: getattr(getattr(scheme, which), lang) or "" for name, which, lang, _ in TEXTS}
        return cls(texts, list(scheme.scopes))

    @classmethod
    def read(cls, posted: dict[str, list[str]]) -> SchemeForm:
        """The form as posted, each text cut one past its limit (so "too long" can still be told)."""
        texts = {name: form_field(posted, name).strip()[:limit + 1] for name, _, _, limit in TEXTS}
        return cls(texts, list(dict.fromkeys(s[:MAX_SCOPE] for s in posted.get("scopes", [])))[:MAX_SCOPES + 1])

    def languages(self, which: str, kept: LanguagesOut) -> dict[str, str]:
        """{lang: text} for the API: nb and en from the form, nn as it was (the page does not edit it)."""
        found = {lang: self.texts[name] for name, w, lang, _ in TEXTS if w == which and self.texts[name]}
        if kept.nn:
            found["nn"] = kept.nn
        return found


def _check_scheme(form: SchemeForm, choices: dict[str, str]) -> None:
    """docs/protocol.md §4.1 step 2, checked before anything is sent: a Bokmål name, texts within their limits,
    a Bokmål description wherever there is an English one, and 1 to 50 of the organisation's delegable scopes."""
    for name, which, _, limit in TEXTS:
        if len(form.texts[name]) > limit:
            form.errors[name] = f"scheme.{which}.too_long"
    if not form.texts["title_nb"]:
        form.errors["title_nb"] = "scheme.title.required"
    if form.texts["description_en"] and not form.texts["description_nb"]:
        form.errors["description_nb"] = "scheme.description.nb_required"
    if not form.scopes:
        form.errors["scopes"] = "scheme.scopes.required"
    elif len(form.scopes) > MAX_SCOPES or any(s not in choices for s in form.scopes):
        form.errors["scopes"] = "scheme.scopes.unknown"


def scheme_changes(scheme: SchemeOut, form: SchemeForm) -> list[tuple[str, str, str]]:
    """What the change does, field by field: (catalogue key of the field, now, after); unchanged fields left out."""
    now = SchemeForm.of(scheme)
    found = [(f"scheme.field.{name}", now.texts[name], form.texts[name]) for name, _, _, _ in TEXTS
             if now.texts[name] != form.texts[name]]
    if set(now.scopes) != set(form.scopes):
        found.append(("scheme.field.scopes", ", ".join(sorted(now.scopes)), ", ".join(sorted(form.scopes))))
    return found


async def _own_scheme(request: Request, api: OrgApi) -> SchemeOut:
    """The path's scheme if it is the organisation's own and active; the 404 page otherwise."""
    try:
        found = await api.own_scheme(request.path_params["scheme_id"])
    except PortalError as exc:
        if exc.missing:
            raise not_found() from None
        raise
    if not found.active:
        raise not_found()
    return found


async def _scope_choices(api: OrgApi, scheme: SchemeOut) -> dict[str, str]:
    """The scopes a scheme may name, by name with their descriptions: the organisation's own scopes open for
    delegation (docs/protocol.md §4.1 step 1), and those the scheme names now (so they can be taken out)."""
    own = {s.name: s.description for s in await api.scopes() if s.delegation_source}
    own.update({name: own.get(name, "") for name in scheme.scopes})
    return dict(sorted(own.items()))


def _edit_page(request: Request, scheme: SchemeOut, form: SchemeForm, choices: dict[str, str], *,
               status: int = 200, unchanged: bool = False) -> Response:
    return state(request).renderer.page(request, "scheme_edit.html", status=status, scheme=scheme, form=form,
                                        choices=choices, unchanged=unchanged)


async def scheme_edit_form(request: Request) -> Response:
    """GET /scopes/schemes/{id}/edit: the scheme's names, descriptions and scopes in a form."""
    who = await acting(request, ROLE)
    api = org_api(request, who)
    scheme = await _own_scheme(request, api)
    return _edit_page(request, scheme, SchemeForm.of(scheme), await _scope_choices(api, scheme))


@dataclass
class PostedScheme:
    """A CSRF-checked scheme form from a person with the role, checked against the scheme as it is now."""

    who: Acting
    api: OrgApi
    scheme: SchemeOut
    form: SchemeForm
    choices: dict[str, str]


async def _posted_scheme(request: Request) -> PostedScheme:
    """CSRF first, then the role, then the scheme and the form's checks."""
    _, posted = await checked_form(request)
    who = await acting(request, ROLE)
    api = org_api(request, who)
    scheme = await _own_scheme(request, api)
    choices = await _scope_choices(api, scheme)
    form = SchemeForm.read(posted)
    _check_scheme(form, choices)
    return PostedScheme(who, api, scheme, form, choices)


async def scheme_edit(request: Request) -> Response:
    """POST /scopes/schemes/{id}/edit: the confirmation listing each change; field errors (400) otherwise."""
    p = await _posted_scheme(request)
    if p.form.errors:
        return _edit_page(request, p.scheme, p.form, p.choices, status=400)
    changes = scheme_changes(p.scheme, p.form)
    if not changes:
        return _edit_page(request, p.scheme, p.form, p.choices, unchanged=True)
    return state(request).renderer.page(request, "scheme_confirm.html", scheme=p.scheme, form=p.form,
                                        changes=changes)


async def scheme_edit_confirmed(request: Request) -> Response:
    """POST /scopes/schemes/{id}/edit/confirm: checked again, then PUT /delegationSchemes/{id}."""
    p = await _posted_scheme(request)
    if p.form.errors:
        return _edit_page(request, p.scheme, p.form, p.choices, status=400)
    try:
        await p.api.change_scheme(p.scheme.scheme_id, p.form.scopes, p.form.languages("title", p.scheme.title),
                                  p.form.languages("description", p.scheme.description))
    except PortalError as exc:
        if exc.kind == "unavailable":
            raise
        p.form.refused = exc.message
        return _edit_page(request, p.scheme, p.form, p.choices, status=400)
    log.info("portal: %s changed delegation scheme %s of %s", p.who.person.username, p.scheme.scheme_id,
             p.who.orgno)
    return RedirectResponse(f"{base(request)}/scopes?changed={quote(p.scheme.scheme_id, safe='')}",
                            status_code=303)


async def scheme_remove_form(request: Request) -> Response:
    """GET /scopes/schemes/{id}/remove: what removing means for the customers' delegations, and the button."""
    who = await acting(request, ROLE)
    scheme = await _own_scheme(request, org_api(request, who))
    return state(request).renderer.page(request, "scheme_remove.html", scheme=scheme)


async def scheme_remove(request: Request) -> Response:
    """POST /scopes/schemes/{id}/remove: DELETE /delegationSchemes/{id}; the scheme stays as history, its
    delegations stop counting (docs/protocol.md §4.2 step 4)."""
    await checked_form(request)
    who = await acting(request, ROLE)
    api = org_api(request, who)
    scheme = await _own_scheme(request, api)
    try:
        await api.remove_scheme(scheme.scheme_id)
    except PortalError as exc:
        if exc.missing:
            raise not_found() from None
        raise
    log.info("portal: %s removed delegation scheme %s of %s", who.person.username, scheme.scheme_id, who.orgno)
    return RedirectResponse(f"{base(request)}/scopes?removed={quote(scheme.scheme_id, safe='')}", status_code=303)


ROUTES = [
    Route("/scopes/access/grant", grant, methods=["POST"]),
    Route("/scopes/access/grant/confirm", grant_confirmed, methods=["POST"]),
    Route("/scopes/access/revoke", revoke_form, methods=["GET"]),
    Route("/scopes/access/revoke", revoke, methods=["POST"]),
    Route("/scopes/schemes/{scheme_id}/edit", scheme_edit_form, methods=["GET"]),
    Route("/scopes/schemes/{scheme_id}/edit", scheme_edit, methods=["POST"]),
    Route("/scopes/schemes/{scheme_id}/edit/confirm", scheme_edit_confirmed, methods=["POST"]),
    Route("/scopes/schemes/{scheme_id}/remove", scheme_remove_form, methods=["GET"]),
    Route("/scopes/schemes/{scheme_id}/remove", scheme_remove, methods=["POST"]),
]
