"""/maskinporten-api/delegationSchemes (docs/protocol.md §4.1 step 2): API providers manage their delegation schemes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from portvakt.domain.delegations import SCHEMES_WRITE, create_scheme, deactivate_scheme, owned_scheme, update_scheme
from portvakt.domain.errors import Forbidden, Invalid
from portvakt.domain.policy import Caller

from ..v1.problems import responses
from .auth import with_scope
from .deps import actor, entity_id, now, reading, writing
from .schemas import SchemeIn, SchemeOut, scheme_out

router = APIRouter(prefix="/maskinporten-api/delegationSchemes", tags=["delegation schemes"])
SchemeWriter = Annotated[Caller, Depends(with_scope(SCHEMES_WRITE))]
Inactive = Annotated[bool, Query(description="include deactivated schemes")]


def _own_owner(caller: Caller, owner_org: str | None) -> None:
    """docs/protocol.md §4.1 step 2: `owner_org` is the caller's own organisation (the token's consumer)."""
    if owner_org is not None and owner_org != caller.orgno:
        raise Forbidden("owner_org must be your own organisation (the token's consumer)")


@router.post("", status_code=201, response_model=SchemeOut, responses=responses("invalid", "forbidden"),
             summary="Create a delegation scheme naming own delegable scopes")
def create(body: SchemeIn, request: Request, caller: SchemeWriter) -> SchemeOut:
    """docs/protocol.md §4.1 step 2: the scopes must be the caller's own, each with a delegation_source."""
    _own_owner(caller, body.owner_org)
    if body.active is not None:
        raise Invalid("a new scheme is active; `active` is for PUT", field="active")
    title, description = body.languages()
    with writing(request) as uow:
        return scheme_out(create_scheme(uow, caller.orgno, body.scopes, title, description, actor(caller),
                                        now(request)))


@router.get("", response_model=list[SchemeOut], responses=responses("forbidden"),
            summary="The own organisation's delegation schemes")
def list_own(request: Request, caller: SchemeWriter, inactive: Inactive = False) -> list[SchemeOut]:
    """The caller org's schemes, never another org's."""
    with reading(request) as uow:
        return [scheme_out(s) for s in uow.list_schemes(owner_orgno=caller.orgno, include_inactive=inactive)]


@router.get("/{scheme_id}", response_model=SchemeOut, responses=responses("forbidden", "not-found"),
            summary="One own delegation scheme")
def get_one(scheme_id: str, request: Request, caller: SchemeWriter) -> SchemeOut:
    """Another org's scheme is 404 (its existence is not revealed)."""
    with reading(request) as uow:
        return scheme_out(owned_scheme(uow, entity_id(scheme_id, "delegation scheme"), caller.orgno))


@router.put("/{scheme_id}", response_model=SchemeOut, responses=responses("invalid", "forbidden", "not-found"),
            summary="Replace an own scheme's scopes and texts")
def replace(scheme_id: str, body: SchemeIn, request: Request, caller: SchemeWriter) -> SchemeOut:
    """Full replace of scopes, title and description; `active: true` reactivates; the owner is immutable."""
    entity_id(scheme_id, "delegation scheme")
    title, description = body.languages()
    with writing(request) as uow:
        current = owned_scheme(uow, scheme_id, caller.orgno)
        if body.scheme_id is not None and body.scheme_id != scheme_id:
            raise Invalid("scheme_id is immutable", field="scheme_id")
        _own_owner(caller, body.owner_org)
        return scheme_out(update_scheme(uow, current.scheme_id, caller.orgno, body.scopes, title, description,
                                        actor(caller), now(request), active=body.active))


@router.delete("/{scheme_id}", response_model=SchemeOut, responses=responses("forbidden", "not-found"),
               summary="Deactivate an own scheme (kept for history; its delegations stop counting)")
def deactivate(scheme_id: str, request: Request, caller: SchemeWriter) -> SchemeOut:
    """Deactivates; the token service then refuses delegated tokens of its scopes (docs/protocol.md §4.2 step 4)."""
    with writing(request) as uow:
        return scheme_out(deactivate_scheme(uow, entity_id(scheme_id, "delegation scheme"), caller.orgno,
                                            actor(caller), now(request)))
