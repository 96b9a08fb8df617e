"""/accessmanagement/api/v1: the schemes an org may delegate, and its delegations (docs/protocol.md §4.1 step 5)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from portvakt.domain.delegations import DELEGATIONS_WRITE, delegate, revoke_delegation
from portvakt.domain.models import Delegation, DelegationScheme
from portvakt.domain.policy import Caller
from portvakt.domain.ports import UnitOfWork

from ..v1.problems import responses
from .auth import AuthenticatedDep, with_scope
from .deps import actor, entity_id, now, reading, writing
from .schemas import DelegationIn, DelegationOut, SchemeOut, delegation_out, scheme_out

router = APIRouter(prefix="/accessmanagement/api/v1", tags=["delegations"])
Delegator = Annotated[Caller, Depends(with_scope(DELEGATIONS_WRITE))]


class Role(StrEnum):
    """Which side of the delegations to list: made by the caller, or made to it."""

    CONSUMER = "consumer"
    SUPPLIER = "supplier"


@router.get("/maskinporten/schemes", response_model=list[SchemeOut], responses=responses(),
            summary="Active delegation schemes any organisation may delegate (search)")
def search_schemes(request: Request, caller: AuthenticatedDep,
                   q: Annotated[str | None, Query(max_length=200, description="text in the title")] = None,
                   ) -> list[SchemeOut]:
    """docs/protocol.md §4.1 step 5: the consumer finds the scheme to delegate; `q` matches any title language."""
    needle = (q or "").strip().casefold()
    with reading(request) as uow:
        found = uow.list_schemes()
    return [scheme_out(s) for s in found if not needle or any(needle in t.casefold() for t in s.title.values())]


@router.post("/delegations", status_code=201, response_model=DelegationOut,
             responses=responses("invalid", "forbidden", "not-found"),
             summary="Delegate an active scheme to a supplier (201; 200 if it was already delegated)")
def create(body: DelegationIn, request: Request, response: Response, caller: Delegator) -> DelegationOut:
    """docs/protocol.md §4.1 step 5: the caller's org is the consumer; idempotent for an active identical delegation."""
    with writing(request) as uow:
        made, created = delegate(uow, caller.orgno, body.supplier_org, entity_id(body.scheme_id, "delegation scheme"),
                                 actor(caller), now(request))
        out = delegation_out(made, uow.get_scheme(made.scheme_id), consumer_view=True)
    if not created:
        response.status_code = 200
    return out


@router.get("/delegations", response_model=list[DelegationOut], responses=responses("forbidden"),
            summary="Delegations made by the caller's org (role=consumer) or to it (role=supplier)")
def list_delegations(request: Request, caller: Delegator, role: Role = Role.CONSUMER,
                     include_revoked: bool = False) -> list[DelegationOut]:
    """docs/protocol.md §4.1 step 5: each side sees the delegations it is party to, revoked ones (history) on
    request."""
    mine = {"consumer_orgno": caller.orgno} if role is Role.CONSUMER else {"supplier_orgno": caller.orgno}
    with reading(request) as uow:
        found = uow.list_delegations(include_revoked=include_revoked, **mine)
        schemes = _schemes(uow, found)
    return [delegation_out(d, schemes.get(d.scheme_id), consumer_view=role is Role.CONSUMER) for d in found]


@router.delete("/delegations/{delegation_id}", response_model=DelegationOut,
               responses=responses("forbidden", "not-found"),
               summary="Revoke a delegation the caller's org made (kept as history)")
def revoke(delegation_id: str, request: Request, caller: Delegator) -> DelegationOut:
    """Only the consumer revokes; anyone else gets 404. New tokens are refused within about a quarter of a second on
    every node (the change feed's poll, `PORTVAKT_CACHE_POLL_SECONDS`; docs/protocol.md §4.2 step 4)."""
    with writing(request) as uow:
        done = revoke_delegation(uow, entity_id(delegation_id, "delegation"), caller.orgno, actor(caller),
                                 now(request))
        return delegation_out(done, uow.get_scheme(done.scheme_id), consumer_view=True)


def _schemes(uow: UnitOfWork, found: Sequence[Delegation]) -> dict[str, DelegationScheme]:
    """The schemes of the listed delegations, each read once."""
    out: dict[str, DelegationScheme] = {}
    for d in found:
        if d.scheme_id not in out and (s := uow.get_scheme(d.scheme_id)) is not None:
            out[d.scheme_id] = s
    return out
