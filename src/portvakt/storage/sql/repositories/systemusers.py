"""The system register, system-user requests, system users, agents' clients and client relationships in SQL
(docs/protocol.md §6)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

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
from portvakt.storage.composed import fold_client_id, listed_twice
from portvakt.storage.readonly import writes

from .. import rows
from ..schema import (
    agent_clients,
    client_relationships,
    organisations,
    system_client_ids,
    system_user_requests,
    system_users,
    systems,
)
from .base import SqlRepository


class SqlSystemRegister(SqlRepository, SystemRegisterRepository):
    """The systems (with system_client_ids), system_user_requests, system_users, agent_clients and
    client_relationships tables."""

    def get_system(self, system_id: str) -> RegisteredSystem | None:
        row = self._conn.execute(sa.select(systems).where(systems.c.system_id == system_id)).first()
        return rows.to_system(row) if row else None

    @writes
    def put_system(self, system: RegisteredSystem) -> None:
        sci = system_client_ids.c
        folded = [fold_client_id(c) for c in system.client_ids]
        if not system.deleted:
            if len(set(folded)) < len(folded):
                raise Conflict(listed_twice(system.client_ids))
            if folded:
                taken = self._conn.execute(
                    sa.select(sci.client_id, sci.system_id)
                    .where(sci.client_id_folded.in_(folded), sci.system_id != system.system_id)
                    .order_by(sci.system_id, sci.client_id).limit(1)).first()
                if taken is not None:
                    raise Conflict(f"client id {taken.client_id} is already used by system {taken.system_id}")
        self._tx.upsert(systems, rows.system_values(system))
        self._conn.execute(sa.delete(system_client_ids).where(sci.system_id == system.system_id))
        if folded and not system.deleted:  # a deleted system holds no row: its ids are free
            self._conn.execute(sa.insert(system_client_ids), [
                {"system_id": system.system_id, "client_id": c, "client_id_folded": f}
                for c, f in zip(system.client_ids, folded, strict=True)])

    def list_systems(self, *, vendor_orgno: str | None = None,
                     include_deleted: bool = False) -> Sequence[RegisteredSystem]:
        s = systems.c
        query = sa.select(systems).order_by(s.system_id)
        if vendor_orgno is not None:
            query = query.where(s.vendor_orgno == vendor_orgno)
        if not include_deleted:
            query = query.where(s.deleted.is_(False))
        return [rows.to_system(r) for r in self._conn.execute(query)]

    def systems_with_client_id(self, client_id: str) -> Sequence[RegisteredSystem]:
        s, sci = systems.c, system_client_ids.c
        query = (sa.select(systems).join(system_client_ids, sci.system_id == s.system_id)
                 .where(sci.client_id_folded == fold_client_id(client_id), s.deleted.is_(False))
                 .order_by(s.system_id))
        return [rows.to_system(r) for r in self._conn.execute(query)]

    def get_request(self, request_id: str) -> SystemUserRequest | None:
        query = sa.select(system_user_requests).where(system_user_requests.c.request_id == request_id)
        row = self._conn.execute(query).first()
        return rows.to_request(row) if row else None

    @writes
    def put_request(self, request: SystemUserRequest) -> None:
        self._require_system(request.system_id)
        self._tx.upsert(system_user_requests, rows.request_values(request))

    def find_request(self, system_id: str, party_orgno: str, external_ref: str,
                     user_type: SystemUserType) -> SystemUserRequest | None:
        r = system_user_requests.c
        query = (sa.select(system_user_requests)
                 .where(r.system_id == system_id, r.party_orgno == party_orgno, r.external_ref == external_ref,
                        r.user_type == str(user_type), r.deleted.is_(False))
                 .order_by(r.created, r.request_id).limit(1))
        row = self._conn.execute(query).first()
        return rows.to_request(row) if row else None

    def list_requests(self, system_id: str, user_type: SystemUserType, *, after: tuple[datetime, str] | None = None,
                      limit: int = 50) -> Sequence[SystemUserRequest]:
        r = system_user_requests.c
        query = (sa.select(system_user_requests)
                 .where(r.system_id == system_id, r.user_type == str(user_type), r.deleted.is_(False))
                 .order_by(r.created, r.request_id).limit(limit))
        if after is not None:
            created, request_id = after
            query = query.where(sa.or_(r.created > created, sa.and_(r.created == created, r.request_id > request_id)))
        return [rows.to_request(row) for row in self._conn.execute(query)]

    def get_system_user(self, system_user_id: str) -> SystemUser | None:
        query = sa.select(system_users).where(system_users.c.system_user_id == system_user_id)
        row = self._conn.execute(query).first()
        return rows.to_system_user(row) if row else None

    @writes
    def put_system_user(self, user: SystemUser) -> SystemUser:
        self._require_system(user.system_id)
        u = system_users.c
        values = rows.system_user_values(user)
        seq = self._conn.execute(sa.select(u.seq).where(u.system_user_id == user.system_user_id)).scalar()
        if seq is not None:  # a replace keeps its seq
            self._conn.execute(sa.update(system_users).where(u.seq == seq).values(values))
        else:
            inserted = self._conn.execute(sa.insert(system_users).values(values)).inserted_primary_key
            assert inserted is not None
            seq = inserted[0]
        return dataclasses.replace(user, seq=int(seq))

    def list_system_users(self, *, system_id: str | None = None, owner_orgno: str | None = None,
                          include_deleted: bool = False, after_seq: int = 0,
                          limit: int = 1000) -> Sequence[SystemUser]:
        u = system_users.c
        query = sa.select(system_users).where(u.seq > after_seq).order_by(u.seq).limit(limit)
        for column, wanted in ((u.system_id, system_id), (u.owner_orgno, owner_orgno)):
            if wanted is not None:
                query = query.where(column == wanted)
        if not include_deleted:
            query = query.where(u.deleted.is_(False))
        return [rows.to_system_user(r) for r in self._conn.execute(query)]

    def find_system_user(self, client_id: str, vendor_orgno: str, owner_orgno: str,
                         external_ref: str) -> SystemUser | None:
        """docs/protocol.md §6.5 in one statement: ix_system_users_owner_ref in seq order, then the system and
        its client id (compared exactly, as Altinn's lookup does) by primary key."""
        u, s, sci = system_users.c, systems.c, system_client_ids.c
        query = (sa.select(system_users)
                 .join(systems, s.system_id == u.system_id)
                 .join(system_client_ids, sa.and_(sci.system_id == u.system_id, sci.client_id == client_id))
                 .where(u.owner_orgno == owner_orgno, u.external_ref == external_ref, u.deleted.is_(False),
                        s.deleted.is_(False), s.vendor_orgno == vendor_orgno)
                 .order_by(u.seq).limit(1))
        row = self._conn.execute(query).first()
        return rows.to_system_user(row) if row else None

    @writes
    def put_agent_client(self, client: AgentClient) -> None:
        u = system_users.c
        if self._conn.execute(sa.select(u.seq).where(u.system_user_id == client.system_user_id)).first() is None:
            raise NotFound(f"no system user {client.system_user_id}")
        self._tx.upsert(agent_clients, rows.agent_client_values(client))

    @writes
    def delete_agent_client(self, system_user_id: str, client_orgno: str) -> bool:
        a = agent_clients.c
        done = self._conn.execute(sa.delete(agent_clients)
                                  .where(a.system_user_id == system_user_id, a.client_orgno == client_orgno))
        return bool(done.rowcount)

    def list_agent_clients(self, system_user_id: str) -> Sequence[AgentClient]:
        a = agent_clients.c
        query = sa.select(agent_clients).where(a.system_user_id == system_user_id).order_by(a.client_orgno)
        return [rows.to_agent_client(r) for r in self._conn.execute(query)]

    def has_agent_client(self, system_user_id: str, client_orgno: str) -> bool:
        a = agent_clients.c
        found = sa.select(sa.literal(1)).where(a.system_user_id == system_user_id, a.client_orgno == client_orgno)
        return bool(self._conn.execute(sa.select(found.exists())).scalar())

    @writes
    def put_client_relationship(self, relationship: ClientRelationship) -> None:
        o = organisations.c
        wanted = {relationship.client_orgno, relationship.facilitator_orgno}
        found = set(self._conn.execute(sa.select(o.orgno).where(o.orgno.in_(wanted))).scalars())
        for orgno in (relationship.client_orgno, relationship.facilitator_orgno):
            if orgno not in found:  # the foreign keys, as a domain error
                raise NotFound(f"no organisation {orgno}")
        self._tx.upsert(client_relationships, rows.client_relationship_values(relationship))

    @writes
    def delete_client_relationship(self, client_orgno: str, facilitator_orgno: str, role: ClientRole) -> bool:
        r = client_relationships.c
        done = self._conn.execute(sa.delete(client_relationships).where(
            r.client_orgno == client_orgno, r.facilitator_orgno == facilitator_orgno, r.role == str(role)))
        return bool(done.rowcount)

    def list_client_relationships(self, *, client_orgno: str | None = None,
                                  facilitator_orgno: str | None = None) -> Sequence[ClientRelationship]:
        r = client_relationships.c
        query = sa.select(client_relationships).order_by(r.client_orgno, r.facilitator_orgno, r.role)
        for column, wanted in ((r.client_orgno, client_orgno), (r.facilitator_orgno, facilitator_orgno)):
            if wanted is not None:
                query = query.where(column == wanted)
        return [rows.to_client_relationship(row) for row in self._conn.execute(query)]

    def _require_system(self, system_id: str) -> None:
        """NotFound unless the system is registered (deleted or not): the foreign key, as a domain error."""
        if self._conn.execute(sa.select(systems.c.system_id).where(systems.c.system_id == system_id)).first() is None:
            raise NotFound(f"no system {system_id}")
