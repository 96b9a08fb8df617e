"""The lookup the token service asks (docs/protocol.md §4.2 "Altinn lookup endpoint"), exactly in Altinn 3's shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from portvakt.domain.delegations import DELEGATIONS_ADMIN, DELEGATIONS_LOOKUP, delegations_between
from portvakt.domain.errors import Invalid
from portvakt.domain.models import Delegation, DelegationScheme
from portvakt.domain.orgno import require_orgno
from portvakt.domain.policy import Caller, require
from portvakt.domain.ports import UnitOfWork
from portvakt.domain.scopes import split_scope_name

from ..v1.problems import responses
from .auth import authenticated
from .deps import reading
from .schemas import LookupOut, lookup_out

router = APIRouter(prefix="/accessmanagement/api/v1/maskinporten", tags=["delegation lookup"])
MAX_PARAM = 300
Found = list[tuple[Delegation, DelegationScheme]]


def _looker(caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
    """docs/protocol.md §4.3, decision D9: a token with delegations.admin or the non-admin delegations scope."""
    require(caller, DELEGATIONS_ADMIN, DELEGATIONS_LOOKUP)
    return caller


Looker = Annotated[Caller, Depends(_looker)]


def _optional(value: str | None, name: str) -> str | None:
    """docs/protocol.md §4.3: None when absent or blank; 400 when too long."""
    if value is None or not value.strip():
        return None
    if len(value) > MAX_PARAM:
        raise Invalid(f"the query parameter {name} is too long", field=name)
    return value.strip()


def _required(value: str | None, name: str) -> str:
    """docs/protocol.md §4.3: 400 when a required parameter is missing."""
    found = _optional(value, name)
    if found is None:
        raise Invalid(f"the query parameter {name} is required", field=name)
    return found


def _matching(uow: UnitOfWork, consumer: str, supplier: str | None, scope: str) -> Found:
    """docs/protocol.md §4.3, decision D9: delegations_between for the supplier, or for each of the consumer's."""
    suppliers = [supplier] if supplier is not None else sorted(
        {d.supplier_orgno for d in uow.list_delegations(consumer_orgno=consumer)})
    found = [pair for s in suppliers for pair in delegations_between(uow, consumer, s, scope)]
    return sorted(found, key=lambda pair: (pair[0].created, pair[0].delegation_id))


def _visible(uow: UnitOfWork, caller: Caller, scope: str, found: Found) -> Found:
    """Decision D9: admin and the scope's owner see all; any other org only delegations it is a party to."""
    if caller.has(DELEGATIONS_ADMIN):
        return found
    owned = uow.get_scope(scope)
    if owned is not None and owned.owner_orgno == caller.orgno:
        return found
    return [(d, s) for d, s in found if caller.orgno in (d.consumer_orgno, d.supplier_orgno)]


@router.get("/delegations", response_model=list[LookupOut], responses=responses("invalid", "forbidden"),
            summary="Has the consumer delegated the scope to the supplier? (the token service's check)")
def lookup(request: Request, caller: Looker, supplierorg: str | None = None, consumerorg: str | None = None,
           scope: str | None = None) -> JSONResponse:
    """docs/protocol.md §4.3: the active delegations consumer→supplier (any supplier if none is named) of active
    schemes naming the scope, as far as the caller may see them (decision D9); [] if none."""
    given = _optional(supplierorg, "supplierorg")
    supplier = None if given is None else require_orgno(given, "supplierorg")
    consumer = require_orgno(_required(consumerorg, "consumerorg"), "consumerorg")
    name = _required(scope, "scope")
    split_scope_name(name)
    with reading(request) as uow:
        found = _visible(uow, caller, name, _matching(uow, consumer, supplier, name))
    body = [lookup_out(d, s).model_dump(mode="json", by_alias=True) for d, s in found]
    return JSONResponse(body, headers={"cache-control": "no-store"})


router.add_api_route("/delegations/", lookup, methods=["GET"], include_in_schema=False)
