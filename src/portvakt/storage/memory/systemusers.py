"""The system register, system-user requests, system users, agents' clients and client relationships in memory
(docs/protocol.md §6)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from portvakt.domain.errors import Conflict, NotFound
from portvakt.domain.models import (
    AgentClient,
    ClientRelationship,
    ClientRole,
    RegisteredSystem,
    SystemUser,
    SystemUserRequest,
    SystemUserType,
)
from portvakt.domain.ports import SystemRegisterRepository
from portvakt.storage.composed import fold_client_id as fold
from portvakt.storage.composed import listed_twice
from portvakt.storage.readonly import writes

from .state import MemoryRepository


class MemorySystemRegister(MemoryRepository, SystemRegisterRepository):
    """Systems by system_id, requests by request_id, system users by id (ordered by seq), agents' clients by
    (system_user_id, client_orgno), client relationships by (client_orgno, facilitator_orgno, role)."""

    def get_system(self, system_id: str) -> RegisteredSystem | None:
        return self._state.systems.get(system_id)

    @writes
    def put_system(self, system: RegisteredSystem) -> None:
        if not system.deleted:
            mine = {fold(c) for c in system.client_ids}
            if len(mine) < len(system.client_ids):
                raise Conflict(listed_twice(system.client_ids))
            for other in self._holding(mine):
                if other.system_id != system.system_id:
                    taken = next(c for c in other.client_ids if fold(c) in mine)
                    raise Conflict(f"client id {taken} is already used by system {other.system_id}")
        self._state.systems[system.system_id] = system

    def _holding(self, folded: set[str]) -> list[RegisteredSystem]:
        """The systems, not deleted, holding any of these folded client ids, by system_id."""
        found = [s for s in self._state.systems.values()
                 if not s.deleted and any(fold(c) in folded for c in s.client_ids)]
        return sorted(found, key=lambda s: s.system_id)

    def list_systems(self, *, vendor_orgno: str | None = None,
                     include_deleted: bool = False) -> Sequence[RegisteredSystem]:
        found = [s for s in self._state.systems.values()
                 if (vendor_orgno is None or s.vendor_orgno == vendor_orgno) and (include_deleted or not s.deleted)]
        return sorted(found, key=lambda s: s.system_id)

    def systems_with_client_id(self, client_id: str) -> Sequence[RegisteredSystem]:
        return self._holding({fold(client_id)})

    def get_request(self, request_id: str) -> SystemUserRequest | None:
        return self._state.system_user_requests.get(request_id)

    @writes
    def put_request(self, request: SystemUserRequest) -> None:
        if request.system_id not in self._state.systems:
            raise NotFound(f"no system {request.system_id}")
        self._state.system_user_requests[request.request_id] = request

    def find_request(self, system_id: str, party_orgno: str, external_ref: str,
                     user_type: SystemUserType) -> SystemUserRequest | None:
        found = [r for r in self._state.system_user_requests.values()
                 if r.system_id == system_id and r.party_orgno == party_orgno and r.external_ref == external_ref
                 and r.user_type == user_type and not r.deleted]
        return min(found, key=lambda r: (r.created, r.request_id), default=None)

    def list_requests(self, system_id: str, user_type: SystemUserType, *, after: tuple[datetime, str] | None = None,
                      limit: int = 50) -> Sequence[SystemUserRequest]:
        found = [r for r in self._state.system_user_requests.values()
                 if r.system_id == system_id and r.user_type == user_type and not r.deleted
                 and (after is None or (r.created, r.request_id) > after)]
        return sorted(found, key=lambda r: (r.created, r.request_id))[:limit]

    def get_system_user(self, system_user_id: str) -> SystemUser | None:
        return self._state.system_users.get(system_user_id)

    @writes
    def put_system_user(self, user: SystemUser) -> SystemUser:
        if user.system_id not in self._state.systems:
            raise NotFound(f"no system {user.system_id}")
        stored = self._state.system_users.get(user.system_user_id)
        if stored is not None:
            seq = stored.seq
        else:
            self._state.system_user_seq += 1
            seq = self._state.system_user_seq
        kept = dataclasses.replace(user, seq=seq)
        self._state.system_users[user.system_user_id] = kept
        return kept

    def list_system_users(self, *, system_id: str | None = None, owner_orgno: str | None = None,
                          include_deleted: bool = False, after_seq: int = 0,
                          limit: int = 1000) -> Sequence[SystemUser]:
        found = [u for u in self._state.system_users.values()
                 if (system_id is None or u.system_id == system_id)
                 and (owner_orgno is None or u.owner_orgno == owner_orgno)
                 and (include_deleted or not u.deleted) and u.seq > after_seq]
        return sorted(found, key=lambda u: u.seq)[:limit]

    def find_system_user(self, client_id: str, vendor_orgno: str, owner_orgno: str,
                         external_ref: str) -> SystemUser | None:
        """docs/protocol.md §6.5: the client id compared exactly, as Altinn's lookup does."""
        mine = [u for u in self._state.system_users.values()
                if u.owner_orgno == owner_orgno and u.external_ref == external_ref and not u.deleted]
        for user in sorted(mine, key=lambda u: u.seq):
            system = self._state.systems.get(user.system_id)
            if (system is not None and not system.deleted and system.vendor_orgno == vendor_orgno
                    and client_id in system.client_ids):
                return user
        return None

    @writes
    def put_agent_client(self, client: AgentClient) -> None:
        if client.system_user_id not in self._state.system_users:
            raise NotFound(f"no system user {client.system_user_id}")
        self._state.agent_clients[(client.system_user_id, client.client_orgno)] = client

    @writes
    def delete_agent_client(self, system_user_id: str, client_orgno: str) -> bool:
        return self._state.agent_clients.pop((system_user_id, client_orgno), None) is not None

    def list_agent_clients(self, system_user_id: str) -> Sequence[AgentClient]:
        found = [c for (user, _), c in self._state.agent_clients.items() if user == system_user_id]
        return sorted(found, key=lambda c: c.client_orgno)

    def has_agent_client(self, system_user_id: str, client_orgno: str) -> bool:
        return (system_user_id, client_orgno) in self._state.agent_clients

    @writes
    def put_client_relationship(self, relationship: ClientRelationship) -> None:
        for orgno in (relationship.client_orgno, relationship.facilitator_orgno):
            if orgno not in self._state.orgs:
                raise NotFound(f"no organisation {orgno}")
        key = (relationship.client_orgno, relationship.facilitator_orgno, relationship.role)
        self._state.client_relationships[key] = relationship

    @writes
    def delete_client_relationship(self, client_orgno: str, facilitator_orgno: str, role: ClientRole) -> bool:
        return self._state.client_relationships.pop((client_orgno, facilitator_orgno, role), None) is not None

    def list_client_relationships(self, *, client_orgno: str | None = None,
                                  facilitator_orgno: str | None = None) -> Sequence[ClientRelationship]:
        found = [r for (client, facilitator, _), r in self._state.client_relationships.items()
                 if (client_orgno is None or client == client_orgno)
                 and (facilitator_orgno is None or facilitator == facilitator_orgno)]
        return sorted(found, key=lambda r: (r.client_orgno, r.facilitator_orgno, str(r.role)))
