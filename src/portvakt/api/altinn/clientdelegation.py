"""Agent system users' clients (docs/protocol.md §6.4): the portal, acting for the agent's owner (a facilitator such
as an accounting firm), lists its agent system users and adds or removes the clients they may act for."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from portvakt.domain.models import SystemUserType
from portvakt.domain.systemusers import (
    AgentClients,
    add_agent_client,
    agent_of,
    available_clients,
    clients_of,
    customer_system_users,
    remove_agent_client,
)
from portvakt.wire.systemusers import (
    AgentClientsOut,
    ClientDelegationOut,
    ClientOut,
    PageLinks,
    SystemUserInformationOut,
    SystemUserOut,
)

from .auth import PortalCallerDep
from .deps import actor, now, reading, writing
from .systemusers import NO_STORE, acting_party, documented, query, query_doc, required, system_user_out

router = APIRouter(prefix="/authentication/api/v1/enduser/systemuser", tags=["client delegation"])


def _clients_out(found: AgentClients) -> JSONResponse:
    """docs/protocol.md §6.4: `{"links": {}, "systemUserInformation": {...}, "data": [{"clientId", ...}]}`."""
    body = AgentClientsOut(
        links=PageLinks(),
        system_user_information=SystemUserInformationOut(system_user_id=found.agent.system_user_id,
                                                         system_user_owner_org=found.agent.owner_orgno),
        data=[ClientOut(client_id=o.orgno, client_organization_number=o.orgno, client_organization_name=o.name)
              for o in found.clients])
    return JSONResponse(body.model_dump(mode="json", by_alias=True), headers=NO_STORE)


def _acting(caller: PortalCallerDep) -> str:
    """The organisation the portal acts for: an agent's owner (docs/protocol.md §6.4)."""
    return acting_party(caller, caller.orgno)


def _change_client(request: Request, caller: PortalCallerDep, *, add: bool) -> JSONResponse:
    """docs/protocol.md §6.4: the query's agent (of the owner the portal acts for) and client, in one transaction;
    the answer names both."""
    owner = _acting(caller)
    params = query(request)
    change = add_agent_client if add else remove_agent_client
    with writing(request) as uow:
        agent = agent_of(uow, params.get("agent"), owner)
        done = change(uow, agent, params.get("client", "").strip(), actor(caller), now(request))
    body = ClientDelegationOut(agent=done.system_user_id, client=done.client_orgno)
    return JSONResponse(body.model_dump(mode="json", by_alias=True), headers=NO_STORE)


@router.get("/agents", response_model=list[SystemUserOut], response_model_exclude_none=True, responses=documented(),
            openapi_extra=query_doc("party"),
            summary="The party's agent system users (the portal acting for the party)")
def agents(request: Request, caller: PortalCallerDep) -> JSONResponse:
    """docs/protocol.md §6.4: `party` (an orgno) is required and must be the organisation the portal acts for."""
    (party,) = required(query(request), "party")
    acting_party(caller, party)
    with reading(request) as uow:
        found = [system_user_out(uow, u, internal_id=True) for u in customer_system_users(uow, party)
                 if u.user_type is SystemUserType.AGENT]
    return JSONResponse([u.model_dump(mode="json", by_alias=True) for u in found], headers=NO_STORE)


@router.get("/clients/available", response_model=AgentClientsOut, response_model_exclude_none=True,
            responses=documented(), openapi_extra=query_doc("agent"),
            summary="Organisations that could become clients of an agent system user")
def available(request: Request, caller: PortalCallerDep) -> JSONResponse:
    """docs/protocol.md §6.4: the organisations that fit the agent (a client relationship to its owner in a role
    allowing all its packages) and are not yet its clients."""
    owner = _acting(caller)
    with reading(request) as uow:
        return _clients_out(available_clients(uow, agent_of(uow, query(request).get("agent"), owner)))


@router.get("/clients", response_model=AgentClientsOut, response_model_exclude_none=True, responses=documented(),
            openapi_extra=query_doc("agent"),
            summary="The clients of an agent system user")
def clients(request: Request, caller: PortalCallerDep) -> JSONResponse:
    """docs/protocol.md §6.4: by orgno; `clientId` is the client's orgno."""
    owner = _acting(caller)
    with reading(request) as uow:
        return _clients_out(clients_of(uow, agent_of(uow, query(request).get("agent"), owner)))


@router.post("/clients", response_model=ClientDelegationOut, responses=documented(404),
             openapi_extra=query_doc("agent", "client"),
             summary="Add a client to an agent system user (idempotent)")
def add(request: Request, caller: PortalCallerDep) -> JSONResponse:
    """docs/protocol.md §6.4: AUTH.VLD-00014 no such agent, AUTH.VLD-00015 not an agent, AUTH.VLD-00016 no client,
    AUTH-00079 the client is not a registered organisation, AUTH-00028 the owner itself."""
    return _change_client(request, caller, add=True)


@router.delete("/clients", response_model=ClientDelegationOut, responses=documented(),
               openapi_extra=query_doc("agent", "client"),
               summary="Remove a client from an agent system user")
def remove(request: Request, caller: PortalCallerDep) -> JSONResponse:
    """docs/protocol.md §6.4: the agent stops acting for the client at once; AUTH-00038 if it is not a client."""
    return _change_client(request, caller, add=False)
