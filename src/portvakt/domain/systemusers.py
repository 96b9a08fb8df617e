"""System users (docs/protocol.md §6.2–§6.6): a customer approves or rejects a vendor's request, which makes the
system user; the customer lists and deletes its system users; a facilitator adds clients to an agent system user;
the vendor lists its systems' users; and the one rule of the decision point, `permits`.

Each change runs inside the caller's unit of work with its audit events and change-feed entries: system users under
SYSTEM_USER_KIND keyed by the owner's orgno (the token service's cache drops that owner's answers), requests under
SYSTEM_USER_REQUEST_KIND (request_id), agents' clients under AGENT_CLIENT_KIND (system_user_id).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from .altinn_errors import AltinnProblem, AltinnValidation, ValidationError
from .audit import Actor, record
from .changes import AGENT_CLIENT_KIND, SYSTEM_USER_KIND, SYSTEM_USER_REQUEST_KIND
from .clientroles import client_fits, fitting_clients
from .errors import Forbidden
from .models import (
    AgentClient,
    Organisation,
    RegisteredSystem,
    RequestStatus,
    SystemUser,
    SystemUserRequest,
    SystemUserType,
)
from .orgno import is_valid_orgno
from .ports import UnitOfWork
from .systemregister import system_not_found
from .systemuser_requests import is_timed_out, request_not_found

__all__ = ["AgentClients", "add_agent_client", "agent_of", "approve_request",
           "available_clients", "clients_of", "customer_system_user", "customer_system_users", "delete_system_user",
           "permits", "reject_request", "remove_agent_client", "vendor_lookup", "vendor_system",
           "vendor_system_user"]

#: Longest id looked up (the ids this side makes are UUIDs); a longer one cannot exist.
MAX_ID = 100


def _by(actor: Actor) -> str | None:
    """Who decided, as stored: the portal's signed-in person, else the client."""
    return actor.person or actor.client_id


def _decidable(uow: UnitOfWork, request_id: str, party: str, user_type: SystemUserType,
               now: datetime) -> SystemUserRequest:
    """docs/protocol.md §6.3: the request exists (AUTH-00010), is of the path's type (AUTH-00025), is the party's
    (AUTH-00041/42) and is New and not timed out (AUTH-00013), in this order."""
    request = uow.get_request(request_id)
    if request is None or request.deleted:
        raise request_not_found(request_id)
    if request.user_type is not user_type:
        title = ("This is a request for a standard system user; decide it on the standard path."
                 if user_type is SystemUserType.AGENT else
                 "This is a request for an agent system user; decide it on the agent path.")
        raise AltinnProblem("AUTH-00025", 400, title)
    if request.party_orgno != party:
        code = "AUTH-00042" if user_type is SystemUserType.AGENT else "AUTH-00041"
        raise AltinnProblem(code, 403, "The party is not the organisation the request was made to.")
    if request.status is not RequestStatus.NEW:
        raise AltinnProblem("AUTH-00013", 409, "Only a request with status New can be decided.",
                            f"the request is {request.status.value}")
    if is_timed_out(request, now):
        raise AltinnProblem("AUTH-00013", 409, "Only a request with status New can be decided.",
                            "the request timed out (it is more than 180 days old)")
    return request


def _live_system(uow: UnitOfWork, system_id: str) -> RegisteredSystem:
    """The system, not deleted; AUTH-00011 (404) otherwise (docs/protocol.md §6.3: a system deleted after the
    request was made cannot get new system users)."""
    system = uow.get_system(system_id)
    if system is None or system.deleted:
        raise system_not_found(system_id)
    return system


def _still_offered(request: SystemUserRequest, system: RegisteredSystem) -> None:
    """docs/protocol.md §6.3: what the request asks for is still on the system when it is approved (the vendor may
    have removed a right or package since): AUTH-00001 for a right, AUTH-00063 for a package."""
    offered = {r.key for r in system.rights}
    if any(right.key not in offered for right in request.rights):
        raise AltinnProblem("AUTH-00001", 400, "A right the request asks for is not a right of the system.",
                            "the system no longer offers a right the request asks for")
    if any(package not in system.access_packages for package in request.access_packages):
        raise AltinnProblem("AUTH-00063", 400, "An access package the request asks for is not one of the system's.",
                            "the system no longer offers an access package the request asks for")


def _key_free(uow: UnitOfWork, request: SystemUserRequest) -> None:
    """docs/protocol.md §6.2: one active system user per (system, owner, external ref): AUTH-00004 otherwise."""
    for user in uow.list_system_users(system_id=request.system_id, owner_orgno=request.party_orgno):
        if user.external_ref == request.external_ref:
            raise AltinnProblem("AUTH-00004", 400, "A system user with this system, party and external reference "
                                                   "already exists.")


def approve_request(uow: UnitOfWork, request_id: str, party: str, user_type: SystemUserType, actor: Actor,
                    now: datetime) -> SystemUser:
    """docs/protocol.md §6.3: New → Accepted, and the system user (owner = party, the request's rights or packages,
    external ref and title, created_by the person) in the same transaction. Units of work run one at a time on every
    store, so of two approvals racing the second sees Accepted (409 AUTH-00013)."""
    request = _decidable(uow, request_id, party, user_type, now)
    system = _live_system(uow, request.system_id)
    _still_offered(request, system)
    _key_free(uow, request)
    user = uow.put_system_user(SystemUser(
        system_user_id=str(uuid.uuid4()), user_type=request.user_type, system_id=request.system_id,
        vendor_orgno=request.vendor_orgno, owner_orgno=party, external_ref=request.external_ref,
        integration_title=request.integration_title, created=now, last_updated=now, rights=request.rights,
        access_packages=request.access_packages, created_by=_by(actor), request_id=request.request_id))
    accepted = replace(request, status=RequestStatus.ACCEPTED, decided_by=_by(actor),
                       system_user_id=user.system_user_id, last_updated=now)
    uow.put_request(accepted)
    orgs = (party, request.vendor_orgno)
    record(uow, actor=actor, action="systemuserrequest.approve", kind=SYSTEM_USER_REQUEST_KIND,
           key=request.request_id, orgs=orgs, before=request, after=accepted, now=now)
    record(uow, actor=actor, action="systemuser.create", kind=SYSTEM_USER_KIND, key=party, orgs=orgs, before=None,
           after=user, now=now)
    return user


def reject_request(uow: UnitOfWork, request_id: str, party: str, user_type: SystemUserType, actor: Actor,
                   now: datetime) -> SystemUserRequest:
    """docs/protocol.md §6.3: New → Rejected (also when the system was deleted meanwhile: a refusal harms nobody)."""
    request = _decidable(uow, request_id, party, user_type, now)
    rejected = replace(request, status=RequestStatus.REJECTED, decided_by=_by(actor), last_updated=now)
    uow.put_request(rejected)
    record(uow, actor=actor, action="systemuserrequest.reject", kind=SYSTEM_USER_REQUEST_KIND,
           key=request.request_id, orgs=(party, request.vendor_orgno), before=request, after=rejected, now=now)
    return rejected


def _system_user_not_found() -> AltinnProblem:
    return AltinnProblem("AUTH-00015", 404, "No such system user.")


def customer_system_users(uow: UnitOfWork, owner_orgno: str) -> Sequence[SystemUser]:
    """docs/protocol.md §6.2: the owner's system users, not deleted, oldest first."""
    out: list[SystemUser] = []
    after = 0
    while True:
        page = uow.list_system_users(owner_orgno=owner_orgno, after_seq=after, limit=1000)
        out.extend(page)
        if len(page) < 1000:
            return out
        after = page[-1].seq


def customer_system_user(uow: UnitOfWork, owner_orgno: str, system_user_id: str) -> SystemUser:
    """One of the owner's system users, not deleted; AUTH-00015 (404) for any other (never another owner's)."""
    user = uow.get_system_user(system_user_id)
    if user is None or user.deleted or user.owner_orgno != owner_orgno:
        raise _system_user_not_found()
    return user


def delete_system_user(uow: UnitOfWork, owner_orgno: str, system_user_id: str, actor: Actor,
                       now: datetime) -> SystemUser | None:
    """docs/protocol.md §6.2: the owner deletes (soft) its system user and the request it came from; None when it
    has no such system user. An agent system user that still has clients is AUTH-00035 (400). The token service's
    lookup stops finding it at once (the change feed drops the owner's answers)."""
    user = uow.get_system_user(system_user_id)
    if user is None or user.deleted or user.owner_orgno != owner_orgno:
        return None
    if user.user_type is SystemUserType.AGENT and uow.list_agent_clients(system_user_id):
        raise AltinnProblem("AUTH-00035", 400, "The agent system user still has clients; remove them before "
                                               "deleting it.")
    deleted = uow.put_system_user(replace(user, deleted=True, last_updated=now))
    orgs = (owner_orgno, user.vendor_orgno)
    record(uow, actor=actor, action="systemuser.delete", kind=SYSTEM_USER_KIND, key=owner_orgno, orgs=orgs,
           before=user, after=deleted, now=now)
    request = uow.get_request(user.request_id) if user.request_id else None
    if request is not None and not request.deleted:
        gone = replace(request, deleted=True, last_updated=now)
        uow.put_request(gone)
        record(uow, actor=actor, action="systemuserrequest.delete", kind=SYSTEM_USER_REQUEST_KIND,
               key=request.request_id, orgs=orgs, before=request, after=gone, now=now)
    return deleted


# Agents' clients (docs/protocol.md §6.4).

@dataclass(frozen=True, slots=True)
class AgentClients:
    """An agent system user and organisations: its clients, or those that could become its clients."""

    agent: SystemUser
    clients: tuple[Organisation, ...]


def _invalid(code: str, title: str, path: str) -> AltinnValidation:
    return AltinnValidation([ValidationError(code, title, [path])])


def agent_of(uow: UnitOfWork, agent_id: str | None, owner_orgno: str) -> SystemUser:
    """docs/protocol.md §6.4: the agent system user `agent_id` of `owner_orgno`: missing or unknown is AUTH.VLD-00014,
    another owner's is Forbidden (the caller acts for the wrong organisation), a standard one AUTH.VLD-00015."""
    agent_id = (agent_id or "").strip()
    user = uow.get_system_user(agent_id) if 0 < len(agent_id) <= MAX_ID else None
    if user is None or user.deleted:
        raise _invalid("AUTH.VLD-00014", "The agent query parameter is missing or does not name a system user.",
                       "/agent")
    if user.owner_orgno != owner_orgno:
        raise Forbidden("the system user belongs to another organisation than the one you act for")
    if user.user_type is not SystemUserType.AGENT:
        raise _invalid("AUTH.VLD-00015", "The system user is not an agent system user.", "/agent")
    return user


def _client_org(uow: UnitOfWork, client: str | None) -> Organisation:
    """docs/protocol.md §6.4: a client is named by its orgno (AUTH.VLD-00016 when missing) and must be a registered
    organisation (AUTH-00079, 404)."""
    if not client:
        raise _invalid("AUTH.VLD-00016", "The client query parameter is missing.", "/client")
    org = uow.get_org(client) if is_valid_orgno(client) else None
    if org is None:
        raise AltinnProblem("AUTH-00079", 404, "No such client organisation.",
                            "the client must be the organisation number of a registered organisation")
    return org


def _names(uow: UnitOfWork, orgnos: Sequence[str]) -> tuple[Organisation, ...]:
    """The registered organisations of these orgnos, in the given order."""
    return tuple(org for o in orgnos if (org := uow.get_org(o)) is not None)


def clients_of(uow: UnitOfWork, agent: SystemUser) -> AgentClients:
    """docs/protocol.md §6.4: the agent's clients, by orgno."""
    return AgentClients(agent, _names(uow, [c.client_orgno for c in uow.list_agent_clients(agent.system_user_id)]))


def available_clients(uow: UnitOfWork, agent: SystemUser) -> AgentClients:
    """docs/protocol.md §6.4: every organisation that fits the agent (a client relationship to its owner in a role
    that allows all its access packages, clientroles.client_fits) and is not yet a client, by orgno."""
    taken = {c.client_orgno for c in uow.list_agent_clients(agent.system_user_id)} | {agent.owner_orgno}
    return AgentClients(agent, _names(uow, [o for o in fitting_clients(uow, agent) if o not in taken]))


def add_agent_client(uow: UnitOfWork, agent: SystemUser, client: str | None, actor: Actor,
                     now: datetime) -> AgentClient:
    """docs/protocol.md §6.4: the agent may act for the client from now on; idempotent. The owner itself is no
    client of its own agent (AUTH-00028, 400): an agent system user acts for clients only. The client must have a
    client relationship to the owner in a role that allows every access package of the agent (AUTH-00080, 400)."""
    org = _client_org(uow, client)
    if org.orgno == agent.owner_orgno:
        raise AltinnProblem("AUTH-00028", 400, "The client cannot be the agent system user's owner.",
                            "an organisation cannot be a client of its own agent system user")
    if not client_fits(uow, agent, org.orgno):
        raise AltinnProblem("AUTH-00080", 400, "The organisation has no client relationship to the agent system "
                                               "user's owner in a role that covers all the agent's access packages.",
                            "the client must have registered the owner as its accountant, auditor or business "
                            "manager, in the role that gives every access package of the agent system user")
    for existing in uow.list_agent_clients(agent.system_user_id):
        if existing.client_orgno == org.orgno:
            return existing
    added = AgentClient(agent.system_user_id, org.orgno, now, _by(actor))
    uow.put_agent_client(added)
    record(uow, actor=actor, action="agentclient.add", kind=AGENT_CLIENT_KIND, key=agent.system_user_id,
           orgs=(agent.owner_orgno, org.orgno, agent.vendor_orgno), before=None, after=added, now=now)
    return added


def remove_agent_client(uow: UnitOfWork, agent: SystemUser, client: str | None, actor: Actor,
                        now: datetime) -> AgentClient:
    """docs/protocol.md §6.4: the agent no longer acts for the client; one that is not its client is AUTH-00038
    (400)."""
    if not client:
        raise _invalid("AUTH.VLD-00016", "The client query parameter is missing.", "/client")
    found = next((c for c in uow.list_agent_clients(agent.system_user_id) if c.client_orgno == client), None)
    if found is None:
        raise AltinnProblem("AUTH-00038", 400, "The organisation is not a client of this agent system user.")
    uow.delete_agent_client(agent.system_user_id, found.client_orgno)
    record(uow, actor=actor, action="agentclient.remove", kind=AGENT_CLIENT_KIND, key=agent.system_user_id,
           orgs=(agent.owner_orgno, found.client_orgno, agent.vendor_orgno), before=found, after=None, now=now)
    return found


# The vendor's view (docs/protocol.md §6.2) and the lookup (§6.5).

def vendor_system(uow: UnitOfWork, system_id: str, vendor_orgno: str | None) -> RegisteredSystem:
    """The system, not deleted, of `vendor_orgno` (None: any vendor, the admin scope); AUTH-00011 (404) otherwise."""
    system = uow.get_system(system_id)
    if system is None or system.deleted or (vendor_orgno is not None and system.vendor_orgno != vendor_orgno):
        raise system_not_found(system_id)
    return system


def vendor_system_user(uow: UnitOfWork, system: RegisteredSystem, owner_orgno: str,
                       external_ref: str) -> SystemUser | None:
    """docs/protocol.md §6.2 byquery: the system's system user, not deleted, of this owner and external ref."""
    for user in uow.list_system_users(system_id=system.system_id, owner_orgno=owner_orgno):
        if user.external_ref == external_ref:
            return user
    return None


def vendor_lookup(uow: UnitOfWork, client_id: str, vendor_orgno: str, owner_orgno: str,
                  external_ref: str) -> SystemUser | None:
    """docs/protocol.md §6.5: the token service's lookup; an empty external ref means the owner's orgno."""
    return uow.find_system_user(client_id, vendor_orgno, owner_orgno, external_ref or owner_orgno)


# The decision point (docs/protocol.md §6.6).

def permits(uow: UnitOfWork, system_user_id: str, resource: str | None, action: str | None, party: str,
            package: str | None = None) -> bool:
    """docs/protocol.md §6.6: Permit only if the system user exists and is not deleted, its system exists and is not
    deleted, the party is its owner (standard) or one of its clients (agent) that still fits it (§6.4, a client
    relationship to the owner in a role allowing all its packages), and a right on it names the resource (with the
    right's action, when it names one, equal to the action) or the package asked about is one it holds."""
    user = uow.get_system_user(system_user_id) if len(system_user_id) <= MAX_ID else None
    if user is None or user.deleted:
        return False
    system = uow.get_system(user.system_id)
    if system is None or system.deleted:
        return False
    if user.user_type is SystemUserType.AGENT:
        if not uow.has_agent_client(user.system_user_id, party) or not client_fits(uow, user, party):
            return False
    elif party != user.owner_orgno:
        return False
    if resource is not None and any(resource in right.resource_ids and right.action in (None, action)
                                    for right in user.rights):
        return True
    return package is not None and package in user.access_packages
