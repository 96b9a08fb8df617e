"""The lookup the token service asks (docs/protocol.md §4.2 "Altinn lookup endpoint"), exactly in Altinn 3's shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from portvakt.domain.delegations import DELEGATIONS_ADMIN, delegations_between
from portvakt.domain.errors import Invalid
from portvakt.domain.orgno import require_orgno
from portvakt.domain.policy import Caller
from portvakt.domain.scopes import split_scope_name

from ..v1.problems import responses
from .auth import with_scope
from .deps import reading
from .schemas import LookupOut, lookup_out

router = APIRouter(prefix="/accessmanagement/api/v1/maskinporten", tags=["delegation lookup"])
Admin = Annotated[Caller, Depends(with_scope(DELEGATIONS_ADMIN))]
MAX_PARAM = 300


def _required(value: str | None, name: str) -> str:
    """docs/protocol.md §4.2: 400 when a parameter is missing."""
    if value is None or not value.strip():
        raise Invalid(f"the query parameter {name} is required", field=name)
    if len(value) > MAX_PARAM:
        raise Invalid(f"the query parameter {name} is too long", field=name)
    return value.strip()


@router.get("/delegations", response_model=list[LookupOut], responses=responses("invalid", "forbidden"),
            summary="Has the consumer delegated the scope to the supplier? (the token service's check)")
def lookup(request: Request, caller: Admin, supplierorg: str | None = None, consumerorg: str | None = None,
           scope: str | None = None) -> JSONResponse:
    """docs/protocol.md §4.2: the active delegations consumer→supplier of active schemes naming the scope ([] if
    none)."""
    supplier = require_orgno(_required(supplierorg, "supplierorg"), "supplierorg")
    consumer = require_orgno(_required(consumerorg, "consumerorg"), "consumerorg")
    name = _required(scope, "scope")
    split_scope_name(name)
    with reading(request) as uow:
        found = delegations_between(uow, consumer, supplier, name)
    body = [lookup_out(d, s).model_dump(mode="json", by_alias=True) for d, s in found]
    return JSONResponse(body, headers={"cache-control": "no-store"})


router.add_api_route("/delegations/", lookup, methods=["GET"], include_in_schema=False)
