"""System-user requests for vendors (docs/protocol.md §6.2), on Altinn 3's paths and shapes:
`/authentication/api/v1/systemuser/request/vendor...`. The portal's confirm, approve and reject live beside them."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field

from portvakt.domain import systemuser_requests as reqs
from portvakt.domain.altinn_errors import AltinnValidation, ValidationError
from portvakt.domain.models import SystemUserRequest, SystemUserType
from portvakt.domain.policy import Caller
from portvakt.domain.systemregister import (
    MAX_PACKAGES,
    MAX_RIGHTS,
    MAX_URL,
    REQUEST_READ,
    REQUEST_WRITE,
    system_not_found,
)
from portvakt.wire.systemregister import RequestOut, RequestPage
from portvakt.wire.systemusers import PageLinks

from .altinn_problems import altinn_responses
from .auth import with_scope
from .deps import actor, now, portal_base, public_base, reading, writing
from .systemregister import AccessPackageIn, LooseModel, RightIn, packages_out, right_of, rights_out

__all__ = ["AgentRequestIn", "RequestIn", "confirm_url", "continuation", "page_token", "request_out", "router"]

PREFIX = "/authentication/api/v1/systemuser/request"
router = APIRouter(prefix=PREFIX, tags=[" /authentication/api/v1/systemuser/request.:system-user requests"],
                   responses=altinn_responses(404))
RequestWriter = Annotated[Caller, Depends(with_scope(REQUEST_WRITE))]
RequestReader = Annotated[Caller, Depends(with_scope(REQUEST_READ))]
#: A path segment that could be an id or an external ref; anything else is 404 without a lookup.
_SEGMENT = re.compile(r"^[^\x00-\x1f/]{1,200}$")
Token = Annotated[str | None, Query(max_length=400, description="the continuation token of the previous page")]
STANDARD, AGENT = SystemUserType.STANDARD, SystemUserType.AGENT
Short = Annotated[str, Field(max_length=reqs.MAX_EXTERNAL_REF)]


class AgentRequestIn(LooseModel):
    """An agent request (POST /vendor/agent): access packages for a facilitator's clients, no rights."""

    integration_title: Short | None = None
    external_ref: Short | None = None
    system_id: Short
    party_org_no: Annotated[str, Field(max_length=20)]
    access_packages: Annotated[list[AccessPackageIn] | None, Field(max_length=MAX_PACKAGES)] = None
    redirect_url: Annotated[str | None, Field(max_length=MAX_URL)] = None

    def spec(self) -> reqs.RequestSpec:
        """The domain's view of the body."""
        return reqs.RequestSpec(
            system_id=self.system_id, party_orgno=self.party_org_no, external_ref=self.external_ref,
            integration_title=self.integration_title,
            access_packages=None if self.access_packages is None else tuple(p.urn for p in self.access_packages),
            redirect_url=self.redirect_url)


class RequestIn(AgentRequestIn):
    """A standard request (POST /vendor): some of the system's rights and/or access packages."""

    rights: Annotated[list[RightIn] | None, Field(max_length=MAX_RIGHTS)] = None

    def spec(self) -> reqs.RequestSpec:
        """The domain's view of the body."""
        base = super().spec()
        rights = None if self.rights is None else tuple(right_of(r) for r in self.rights)
        return reqs.RequestSpec(base.system_id, base.party_orgno, base.external_ref, base.integration_title, rights,
                                base.access_packages, base.redirect_url)


def confirm_url(request: Request, found: SystemUserRequest) -> str:
    """docs/protocol.md §6.2: where the customer approves: `<portal>systemuser/request?id=<id>` (agent:
    `systemuser/agentrequest?id=<id>`)."""
    page = "agentrequest" if found.user_type == AGENT else "request"
    return f"{portal_base(request)}systemuser/{page}?id={found.request_id}"


def request_out(request: Request, found: SystemUserRequest, at: datetime) -> RequestOut:
    """A request as its vendor sees it; an agent one without `rights`."""
    return RequestOut(
        id=found.request_id, integration_title=found.integration_title, external_ref=found.external_ref,
        system_id=found.system_id, party_org_no=found.party_orgno,
        rights=None if found.user_type == AGENT else rights_out(found.rights),
        access_packages=packages_out(found.access_packages), status=found.status.value,
        redirect_url=found.redirect_url, confirm_url=confirm_url(request, found), escalated=found.escalated,
        created=found.created, timed_out=reqs.is_timed_out(found, at))


def page_token(last_id: str) -> str:
    """docs/protocol.md §6.2: the continuation token, base64url (unpadded) of the JSON of the last request id."""
    return base64.urlsafe_b64encode(json.dumps(last_id).encode()).rstrip(b"=").decode("ascii")


def continuation(token: str | None) -> str | None:
    """The request id a token continues after; a token that is not one of ours is a 400 validation problem."""
    if token is None or token == "":
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        value = None
    if not isinstance(value, str) or not _SEGMENT.fullmatch(value):
        raise AltinnValidation([ValidationError("AUTH.VLD-00094", "The continuation token is not valid.",
                                                ["/token"])])
    return value


def _segment(value: str, what: str) -> str:
    if not _SEGMENT.fullmatch(value):
        raise reqs.request_not_found(value[:100]) if what == "request" else system_not_found(value[:100])
    return value


def _create(request: Request, response: Response, caller: Caller, spec: reqs.RequestSpec,
            user_type: SystemUserType) -> RequestOut:
    """docs/protocol.md §6.2: 201 with Location for a new request, 200 with the existing one."""
    at = now(request)
    with writing(request) as uow:
        created = reqs.create_request(uow, spec, user_type, caller.orgno, actor(caller), at)
    found = created.request
    if created.new:
        agent = "agent/" if user_type == AGENT else ""
        response.headers["location"] = f"{public_base(request)}{PREFIX.lstrip('/')}/vendor/{agent}{found.request_id}"
    else:
        response.status_code = 200
    return request_out(request, found, at)


@router.post("/vendor", status_code=201, response_model=RequestOut, response_model_exclude_none=True,
             summary="Ask a customer to approve a standard system user")
def create_standard(body: RequestIn, request: Request, response: Response, caller: RequestWriter) -> RequestOut:
    """docs/protocol.md §6.2: rights and/or access packages of the vendor's own system."""
    return _create(request, response, caller, body.spec(), STANDARD)


@router.post("/vendor/agent", status_code=201, response_model=RequestOut, response_model_exclude_none=True,
             summary="Ask a facilitator to approve an agent system user")
def create_agent(body: AgentRequestIn, request: Request, response: Response, caller: RequestWriter) -> RequestOut:
    """docs/protocol.md §6.4: access packages meant for clients."""
    return _create(request, response, caller, body.spec(), AGENT)


def _one(request: Request, caller: Caller, request_id: str, user_type: SystemUserType) -> RequestOut:
    with reading(request) as uow:
        found = reqs.vendor_request(uow, _segment(request_id, "request"), caller.orgno, user_type)
    return request_out(request, found, now(request))


@router.get("/vendor/agent/{request_id}", response_model=RequestOut, response_model_exclude_none=True,
            summary="One own agent request")
def get_agent(request_id: str, request: Request, caller: RequestReader) -> RequestOut:
    """docs/protocol.md §6.2: AUTH-00010 unknown or another vendor's; AUTH-00025 a standard request."""
    return _one(request, caller, request_id, AGENT)


@router.get("/vendor/{request_id}", response_model=RequestOut, response_model_exclude_none=True,
            summary="One own standard request")
def get_standard(request_id: str, request: Request, caller: RequestReader) -> RequestOut:
    """docs/protocol.md §6.2: AUTH-00010 unknown, another vendor's, or an agent request."""
    return _one(request, caller, request_id, STANDARD)


def _by_ref(request: Request, caller: Caller, system_id: str, org_no: str, external_ref: str,
            user_type: SystemUserType) -> RequestOut:
    with reading(request) as uow:
        found = reqs.request_by_external_ref(uow, _segment(system_id, "system"), _segment(org_no, "request"),
                                             _segment(external_ref, "request"), caller.orgno, user_type)
    return request_out(request, found, now(request))


@router.get("/vendor/byexternalref/{system_id}/{org_no}/{external_ref}", response_model=RequestOut,
            response_model_exclude_none=True, summary="An own standard request by its key")
def get_standard_by_ref(system_id: str, org_no: str, external_ref: str, request: Request,
                        caller: RequestReader) -> RequestOut:
    """docs/protocol.md §6.2: AUTH-00011 another vendor's system, AUTH-00010 no such request."""
    return _by_ref(request, caller, system_id, org_no, external_ref, STANDARD)


@router.get("/vendor/agent/byexternalref/{system_id}/{org_no}/{external_ref}", response_model=RequestOut,
            response_model_exclude_none=True, summary="An own agent request by its key")
def get_agent_by_ref(system_id: str, org_no: str, external_ref: str, request: Request,
                     caller: RequestReader) -> RequestOut:
    """docs/protocol.md §6.2, the agent twin."""
    return _by_ref(request, caller, system_id, org_no, external_ref, AGENT)


def _page(request: Request, caller: Caller, system_id: str, token: str | None, user_type: SystemUserType,
          path: str) -> RequestPage:
    at = now(request)
    with reading(request) as uow:
        found, last = reqs.requests_by_system(uow, _segment(system_id, "system"), caller.orgno, user_type,
                                              continuation(token))
    following = f"{public_base(request)}{PREFIX.lstrip('/')}/{path}/{system_id}?token={page_token(last)}" \
        if last is not None else None
    return RequestPage(links=PageLinks(next=following), data=[request_out(request, r, at) for r in found])


@router.get("/vendor/bysystem/{system_id}", response_model=RequestPage, response_model_exclude_none=True,
            summary="An own system's standard requests, 50 a page")
def list_standard(system_id: str, request: Request, caller: RequestReader, token: Token = None) -> RequestPage:
    """docs/protocol.md §6.2: `links.next` carries the token of the next page; left out on the last."""
    return _page(request, caller, system_id, token, STANDARD, "vendor/bysystem")


@router.get("/vendor/agent/bysystem/{system_id}", response_model=RequestPage, response_model_exclude_none=True,
            summary="An own system's agent requests, 50 a page")
def list_agent(system_id: str, request: Request, caller: RequestReader, token: Token = None) -> RequestPage:
    """docs/protocol.md §6.2, the agent twin."""
    return _page(request, caller, system_id, token, AGENT, "vendor/agent/bysystem")


@router.delete("/vendor/{request_id}", status_code=202, response_class=Response,
               summary="Delete an own request (standard or agent)")
def delete(request_id: str, request: Request, caller: RequestWriter) -> Response:
    """docs/protocol.md §6.2: 202, a soft delete; AUTH-00010 unknown or another vendor's."""
    with writing(request) as uow:
        reqs.delete_request(uow, _segment(request_id, "request"), caller.orgno, actor(caller), now(request))
    return Response(status_code=202)
