"""The portal's calls about a vendor's system-user request (docs/protocol.md §6.3): read it for the confirm page,
then approve or reject it for the party the signed-in person acts for."""

from __future__ import annotations

import re
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from portvakt.domain.models import SystemUserRequest, SystemUserType
from portvakt.domain.ports import UnitOfWork
from portvakt.domain.systemuser_requests import is_timed_out, request_not_found
from portvakt.domain.systemusers import approve_request, reject_request
from portvakt.wire.systemusers import ConfirmRequestOut

from .auth import PortalCallerDep
from .deps import actor, now, reading, writing
from .systemusers import NO_STORE, acting_party, documented, packages_out, rights_out

__all__ = ["confirm_out", "router"]

router = APIRouter(prefix="/authentication/api/v1/systemuser/request", tags=["system-user requests (portal)"])
#: Request ids are UUIDs; anything outside this shape cannot exist.
_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def _request_id(value: str) -> str:
    """A request id of the shape this side makes; AUTH-00010 (404) for anything else, without a lookup."""
    if not _ID.fullmatch(value):
        raise request_not_found(value)
    return value


def confirm_out(uow: UnitOfWork, request: SystemUserRequest, at: datetime) -> ConfirmRequestOut:
    """The request with who asks (the vendor's orgno and name) and for which system (its names and descriptions)."""
    system = uow.get_system(request.system_id)
    vendor = uow.get_org(request.vendor_orgno)
    agent = request.user_type is SystemUserType.AGENT
    return ConfirmRequestOut(
        id=request.request_id, integration_title=request.integration_title, external_ref=request.external_ref,
        system_id=request.system_id, party_org_no=request.party_orgno,
        rights=None if agent else rights_out(request.rights), access_packages=packages_out(request.access_packages),
        status=request.status.value, redirect_url=request.redirect_url, escalated=request.escalated,
        created=request.created, timed_out=is_timed_out(request, at),
        user_type=request.user_type.value, vendor_org_no=request.vendor_orgno,
        vendor_name=vendor.name if vendor is not None else "",
        system_name=dict(system.name) if system is not None else {},
        system_description=dict(system.description) if system is not None else {})


@router.get("/confirm/{request_id}", response_model=ConfirmRequestOut, response_model_exclude_none=True,
            responses=documented(404),
            summary="A request (standard or agent) for the portal's confirm page (the portal's token only)")
def confirm(request_id: str, request: Request, caller: PortalCallerDep) -> JSONResponse:
    """docs/protocol.md §6.3: AUTH-00010 (404) for an unknown or deleted request; no acting-for needed (the portal
    checks the person's role for the request's party before it shows anything)."""
    _request_id(request_id)
    with reading(request) as uow:
        found = uow.get_request(request_id)
        if found is None or found.deleted:
            raise request_not_found(request_id)
        body = confirm_out(uow, found, now(request))
    return JSONResponse(body.model_dump(mode="json", by_alias=True), headers=NO_STORE)


def _decide(request: Request, caller: PortalCallerDep, party: str, request_id: str, user_type: SystemUserType,
            approve: bool) -> JSONResponse:
    """docs/protocol.md §6.3: one transaction; the answer is `true` and nothing else."""
    acting_party(caller, party)
    _request_id(request_id)
    with writing(request) as uow:
        if approve:
            approve_request(uow, request_id, party, user_type, actor(caller), now(request))
        else:
            reject_request(uow, request_id, party, user_type, actor(caller), now(request))
    return JSONResponse(True, headers=NO_STORE)


@router.post("/{party}/{request_id}/approve", response_model=bool, responses=documented(404, 409),
             summary="Approve a standard request: New → Accepted, and the system user")
def approve(party: str, request_id: str, request: Request, caller: PortalCallerDep) -> JSONResponse:
    """docs/protocol.md §6.3: an agent request here is AUTH-00025; not New AUTH-00013 (409)."""
    return _decide(request, caller, party, request_id, SystemUserType.STANDARD, True)


@router.post("/{party}/{request_id}/reject", response_model=bool, responses=documented(404, 409),
             summary="Reject a standard request")
def reject(party: str, request_id: str, request: Request, caller: PortalCallerDep) -> JSONResponse:
    """docs/protocol.md §6.3: New → Rejected."""
    return _decide(request, caller, party, request_id, SystemUserType.STANDARD, False)


@router.post("/agent/{party}/{request_id}/approve", response_model=bool, responses=documented(404, 409),
             summary="Approve an agent request: New → Accepted, and the agent system user")
def approve_agent(party: str, request_id: str, request: Request, caller: PortalCallerDep) -> JSONResponse:
    """docs/protocol.md §6.3, §6.4: a standard request here is AUTH-00025; not New AUTH-00013 (409)."""
    return _decide(request, caller, party, request_id, SystemUserType.AGENT, True)


@router.post("/agent/{party}/{request_id}/reject", response_model=bool, responses=documented(404, 409),
             summary="Reject an agent request")
def reject_agent(party: str, request_id: str, request: Request, caller: PortalCallerDep) -> JSONResponse:
    """docs/protocol.md §6.3: New → Rejected."""
    return _decide(request, caller, party, request_id, SystemUserType.AGENT, False)
