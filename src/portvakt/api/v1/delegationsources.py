"""GET /api/v1/delegationsources (docs/protocol.md §3.4): the delegation sources scopes may name."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel

from portvakt.domain.policy import ADMIN_SCOPES, require

from .auth import CallerDep
from .deps import reading
from .problems import responses

router = APIRouter(tags=["delegation sources"])


class DelegationSourceOut(BaseModel):
    """A delegation source: e.g. {"name": "altinn", "issuer": "https://tt02.altinn.no/"}."""

    name: str
    issuer: str
    created: datetime
    last_updated: datetime


@router.get("/delegationsources", response_model=list[DelegationSourceOut], responses=responses("forbidden"))
def list_delegation_sources(request: Request, caller: CallerDep) -> list[DelegationSourceOut]:
    """All delegation sources (a token with any admin scope, policy.ADMIN_SCOPES)."""
    require(caller, *ADMIN_SCOPES)
    with reading(request) as uow:
        return [DelegationSourceOut(name=s.name, issuer=s.issuer, created=s.created, last_updated=s.last_updated)
                for s in uow.list_delegation_sources()]
