"""/api/v1/scopes (docs/protocol.md §3.4): API providers manage the scopes under their own prefixes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from portvakt.domain.models import IntegrationType
from portvakt.domain.policy import SCOPES_WRITE, own_scope, require, require_own_prefix
from portvakt.domain.scopes import (
    deactivate_scope,
    public_scopes,
    put_scope,
    require_delegation_source,
    scope_name,
    split_scope_name,
)

from .auth import CallerDep
from .deps import actor, now, reading, writing
from .problems import responses
from .scope_schemas import ScopeCreate, ScopeOut, ScopeUpdate, scope_out

router = APIRouter(tags=["scopes"])

_SCOPE = Query(max_length=200, description="the scope's name, prefix:subscope (a query parameter because "
                                          "subscopes contain '/')")
ScopeName = Annotated[str, _SCOPE]
MaybeScopeName = Annotated[str | None, _SCOPE]
Inactive = Annotated[bool, Query(description="include deactivated scopes")]


def _open_responses() -> dict[int | str, dict[str, Any]]:
    """The problems of an open endpoint: no 401, it needs no token."""
    return {k: v for k, v in responses("invalid").items() if k != 401}


@router.get("/scopes/all", response_model=list[ScopeOut], responses=_open_responses(),
            summary="All PUBLIC scopes (open, no token)")
def list_all_scopes(request: Request, accessible_for_all: bool | None = None,
                    integration_type: IntegrationType | None = None, inactive: Inactive = False) -> list[ScopeOut]:
    """docs/protocol.md §3.4 GET /scopes/all: the open list of PUBLIC scopes, filtered."""
    with reading(request) as uow:
        found = public_scopes(uow, accessible_for_all=accessible_for_all, include_inactive=inactive,
                              integration_type=integration_type.value if integration_type else None)
    return [scope_out(s) for s in found]


@router.get("/scopes", response_model=ScopeOut | list[ScopeOut],
            responses=responses("invalid", "forbidden", "not-found"),
            summary="One own scope (scope=...), or the list of the own org's scopes")
def get_scopes(request: Request, caller: CallerDep, scope: MaybeScopeName = None,
               inactive: Inactive = False) -> ScopeOut | list[ScopeOut]:
    """docs/protocol.md §3.4 GET /scopes[?scope=]: the caller org's scopes (public and private); never another org's."""
    require(caller, SCOPES_WRITE)
    if scope is not None:
        split_scope_name(scope)
    with reading(request) as uow:
        if scope is not None:
            return scope_out(own_scope(caller, uow.get_scope(scope), scope))
        return [scope_out(s) for s in uow.list_scopes(owner_orgno=caller.orgno, include_inactive=inactive)]


@router.post("/scopes", status_code=201, response_model=ScopeOut,
             responses=responses("invalid", "forbidden", "conflict"), summary="Create a scope under an own prefix")
def create_scope(body: ScopeCreate, request: Request, caller: CallerDep) -> ScopeOut:
    """docs/protocol.md §3.4 POST /scopes: prefix assigned to the caller's org; an existing name, even deactivated, is
    409."""
    require(caller, SCOPES_WRITE)
    name = scope_name(body.prefix, body.subscope)
    t = now(request)
    with writing(request) as uow:
        require_own_prefix(caller, body.prefix, uow.get_prefix_owner(body.prefix))
        scope = body.to_scope(name, caller.orgno, t)
        require_delegation_source(uow, scope.delegation_source)
        return scope_out(put_scope(uow, scope, actor(caller), t, create=True))


@router.put("/scopes", response_model=ScopeOut, responses=responses("invalid", "forbidden", "not-found"),
            summary="Replace an own scope's attributes (the name is immutable)")
def update_scope(body: ScopeUpdate, request: Request, caller: CallerDep, scope: ScopeName) -> ScopeOut:
    """docs/protocol.md §3.4 PUT /scopes?scope=: full replace of the attributes; `active: true` reactivates."""
    require(caller, SCOPES_WRITE)
    split_scope_name(scope)
    t = now(request)
    with writing(request) as uow:
        current = own_scope(caller, uow.get_scope(scope), scope)
        changed = body.apply(current)
        if changed.delegation_source != current.delegation_source:
            require_delegation_source(uow, changed.delegation_source)
        return scope_out(put_scope(uow, changed, actor(caller), t, create=False))


@router.delete("/scopes", response_model=ScopeOut, responses=responses("invalid", "forbidden", "not-found"),
               summary="Deactivate an own scope (kept for audit, access list retained)")
def delete_scope(request: Request, caller: CallerDep, scope: ScopeName) -> ScopeOut:
    """docs/protocol.md §3.4 DELETE /scopes?scope=: deactivates; /token then refuses the scope (MP-200)."""
    require(caller, SCOPES_WRITE)
    split_scope_name(scope)
    with writing(request) as uow:
        own_scope(caller, uow.get_scope(scope), scope)
        return scope_out(deactivate_scope(uow, scope, actor(caller), now(request)))
