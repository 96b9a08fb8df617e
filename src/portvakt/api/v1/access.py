"""/api/v1/scopes/access (docs/protocol.md §3.4): access lists of own scopes, and the scopes an org may use."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from portvakt.domain.models import AccessState, IntegrationType
from portvakt.domain.orgs import require_org
from portvakt.domain.policy import ADMIN_SCOPES, DCR_SUPPLIER, SCOPES_WRITE, own_scope, require
from portvakt.domain.scopes import revoke_access, set_access, split_scope_name, usable_scopes

from .auth import CallerDep
from .deps import actor, now, reading, writing
from .problems import responses
from .scope_schemas import AccessOut, access_out

router = APIRouter(tags=["scope access"])

ScopeName = Annotated[str, Query(max_length=200, description="the scope's name, prefix:subscope")]
ConsumerOrgno = Annotated[str, Path(max_length=20, description="the consumer's organisation number")]
Inactive = Annotated[bool, Query(description="include deactivated scopes")]


@router.get("/scopes/access/all", response_model=list[AccessOut], responses=responses("invalid", "forbidden"),
            summary="The scopes the caller's organisation may use")
def list_my_usable_scopes(request: Request, caller: CallerDep, integration_type: IntegrationType | None = None,
                          inactive: Inactive = False) -> list[AccessOut]:
    """docs/protocol.md §3.4 GET /scopes/access/all: APPROVED access, own scopes and open PUBLIC scopes (any admin
    scope)."""
    require(caller, *ADMIN_SCOPES)
    with reading(request) as uow:
        found = usable_scopes(uow, caller.orgno, include_inactive=inactive,
                              integration_type=integration_type.value if integration_type else None)
    return [access_out(a) for a in found]


@router.get("/scopes/access/for_consumer", response_model=list[AccessOut],
            responses=responses("invalid", "forbidden"), summary="The scopes a named organisation may use")
def list_usable_scopes_for(request: Request, caller: CallerDep,
                           consumer_org: Annotated[str, Query(max_length=20, description="orgno")],
                           integration_type: IntegrationType | None = None,
                           inactive: Inactive = False) -> list[AccessOut]:
    """docs/protocol.md §4.4: a supplier (dcr.supplier) asks which scopes a vendor may use."""
    require(caller, DCR_SUPPLIER)
    with reading(request) as uow:
        require_org(uow, consumer_org, "consumer_org")
        found = usable_scopes(uow, consumer_org, include_inactive=inactive,
                              integration_type=integration_type.value if integration_type else None)
    return [access_out(a) for a in found]


@router.get("/scopes/access", response_model=list[AccessOut],
            responses=responses("invalid", "forbidden", "not-found"), summary="The access list of an own scope")
def list_access(request: Request, caller: CallerDep, scope: ScopeName) -> list[AccessOut]:
    """docs/protocol.md §3.4 GET /scopes/access?scope=: every entry (APPROVED, REQUESTED, DENIED) of an own scope."""
    require(caller, SCOPES_WRITE)
    split_scope_name(scope)
    with reading(request) as uow:
        own_scope(caller, uow.get_scope(scope), scope)
        return [access_out(a) for a in uow.list_access(scope=scope)]


@router.put("/scopes/access/{consumer_orgno}", response_model=AccessOut,
            responses=responses("invalid", "forbidden", "not-found"), summary="Grant a consumer access to an own scope")
def grant_access(request: Request, caller: CallerDep, consumer_orgno: ConsumerOrgno, scope: ScopeName) -> AccessOut:
    """docs/protocol.md §3.4 PUT /scopes/access/{consumer_orgno}?scope=: APPROVED; /token honours it within about a
    quarter of a second on every node (the change feed's poll, `PORTVAKT_CACHE_POLL_SECONDS`)."""
    require(caller, SCOPES_WRITE)
    split_scope_name(scope)
    with writing(request) as uow:
        own_scope(caller, uow.get_scope(scope), scope)
        entry = set_access(uow, scope, consumer_orgno, AccessState.APPROVED, actor(caller), now(request))
    assert entry is not None
    return access_out(entry)


@router.delete("/scopes/access/{consumer_orgno}", response_model=AccessOut,
               responses=responses("invalid", "forbidden", "not-found"),
               summary="Revoke a consumer's access to an own scope (the entry stays, DENIED)")
def revoke(request: Request, caller: CallerDep, consumer_orgno: ConsumerOrgno, scope: ScopeName) -> AccessOut:
    """docs/protocol.md §3.4 DELETE /scopes/access/{consumer_orgno}?scope=: DENIED; /token refuses it (MP-250) within
    about a quarter of a second on every node (the change feed's poll, `PORTVAKT_CACHE_POLL_SECONDS`)."""
    require(caller, SCOPES_WRITE)
    split_scope_name(scope)
    with writing(request) as uow:
        own_scope(caller, uow.get_scope(scope), scope)
        return access_out(revoke_access(uow, scope, consumer_orgno, actor(caller), now(request)))
