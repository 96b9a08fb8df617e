"""The Altinn side's tables in a unit of work: delegation schemes, delegations and people (docs/protocol.md §4, issue
5)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from portvakt.domain.errors import NotFound
from portvakt.domain.models import Delegation, DelegationScheme, Person
from portvakt.storage.readonly import writes

from . import rows
from .schema import delegation_scheme_scopes, delegation_schemes, delegations, people, person_roles


class UnitOfWorkBase:
    """One connection inside one transaction, and the upsert every table uses (read_only: writes raise first)."""

    def __init__(self, conn: Connection, *, read_only: bool = False) -> None:
        self._conn = conn
        self._postgres = conn.dialect.name == "postgresql"
        self.read_only = read_only

    def _upsert(self, table: sa.Table, values: dict[str, Any]) -> None:
        """Insert the row or overwrite every non-key column of the existing one."""
        keys = [c.name for c in table.primary_key.columns]
        stmt = (pg_insert if self._postgres else sqlite_insert)(table).values(values)
        update = {name: stmt.excluded[name] for name in values if name not in keys}
        self._conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=update))


class AltinnUnitOfWork(UnitOfWorkBase):
    """Schemes, delegations (with the token service's has_delegation) and people."""

    def get_scheme(self, scheme_id: str) -> DelegationScheme | None:
        query = sa.select(delegation_schemes).where(delegation_schemes.c.scheme_id == scheme_id)
        row = self._conn.execute(query).first()
        return rows.to_scheme(row) if row else None

    @writes
    def put_scheme(self, scheme: DelegationScheme) -> None:
        self._upsert(delegation_schemes, rows.scheme_values(scheme))
        ss = delegation_scheme_scopes.c
        self._conn.execute(sa.delete(delegation_scheme_scopes).where(ss.scheme_id == scheme.scheme_id))
        if scheme.scopes:
            self._conn.execute(sa.insert(delegation_scheme_scopes), rows.scheme_scope_values(scheme))

    def list_schemes(self, *, owner_orgno: str | None = None, scope: str | None = None,
                     include_inactive: bool = False) -> Sequence[DelegationScheme]:
        s, ss = delegation_schemes.c, delegation_scheme_scopes.c
        query = sa.select(delegation_schemes)
        if scope is not None:  # in ix_delegation_scheme_scopes_scope order: no sort
            query = (query.join(delegation_scheme_scopes, ss.scheme_id == s.scheme_id).where(ss.scope == scope)
                     .order_by(ss.scheme_id))
        else:
            query = query.order_by(s.scheme_id)
        if owner_orgno is not None:
            query = query.where(s.owner_orgno == owner_orgno)
        if not include_inactive:
            query = query.where(s.active.is_(True))
        return [rows.to_scheme(r) for r in self._conn.execute(query)]

    def get_delegation(self, delegation_id: str) -> Delegation | None:
        query = sa.select(delegations).where(delegations.c.delegation_id == delegation_id)
        row = self._conn.execute(query).first()
        return rows.to_delegation(row) if row else None

    @writes
    def put_delegation(self, delegation: Delegation) -> None:
        s = delegation_schemes.c
        if self._conn.execute(sa.select(s.scheme_id).where(s.scheme_id == delegation.scheme_id)).first() is None:
            raise NotFound(f"no delegation scheme {delegation.scheme_id}")
        self._upsert(delegations, rows.delegation_values(delegation))

    def list_delegations(self, *, consumer_orgno: str | None = None, supplier_orgno: str | None = None,
                         scheme_id: str | None = None, include_revoked: bool = False) -> Sequence[Delegation]:
        d = delegations.c
        query = sa.select(delegations).order_by(d.created, d.delegation_id)
        for column, wanted in ((d.consumer_orgno, consumer_orgno), (d.supplier_orgno, supplier_orgno),
                               (d.scheme_id, scheme_id)):
            if wanted is not None:
                query = query.where(column == wanted)
        if not include_revoked:
            query = query.where(d.revoked.is_(None))
        return [rows.to_delegation(r) for r in self._conn.execute(query)]

    def has_delegation(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        """One statement: the (supplier, consumer) index, then each scheme and its scope by primary key."""
        d, s, ss = delegations.c, delegation_schemes.c, delegation_scheme_scopes.c
        found = (sa.select(sa.literal(1))
                 .select_from(delegations)
                 .join(delegation_schemes, s.scheme_id == d.scheme_id)
                 .join(delegation_scheme_scopes, sa.and_(ss.scheme_id == d.scheme_id, ss.scope == scope))
                 .where(d.supplier_orgno == supplier_orgno, d.consumer_orgno == consumer_orgno,
                        d.revoked.is_(None), s.active.is_(True)))
        return bool(self._conn.execute(sa.select(found.exists())).scalar())

    def get_person(self, username: str) -> Person | None:
        row = self._conn.execute(sa.select(people).where(people.c.username == username)).first()
        return self._with_roles([row])[0] if row else None

    @writes
    def put_person(self, person: Person) -> None:
        self._upsert(people, rows.person_values(person))
        self._conn.execute(sa.delete(person_roles).where(person_roles.c.username == person.username))
        if person.roles:
            self._conn.execute(sa.insert(person_roles), rows.person_role_values(person))

    def list_people(self, orgno: str | None = None) -> Sequence[Person]:
        query = sa.select(people).order_by(people.c.username)
        if orgno is not None:
            holders = sa.select(person_roles.c.username).where(person_roles.c.orgno == orgno)
            query = query.where(people.c.username.in_(holders))
        return self._with_roles(list(self._conn.execute(query)))

    def _with_roles(self, person_rows: Sequence[sa.Row[Any]]) -> list[Person]:
        """Attach the roles of the people, loaded with one query."""
        names = [r.username for r in person_rows]
        roles: defaultdict[str, list[sa.Row[Any]]] = defaultdict(list)
        if names:
            r = person_roles.c
            query = sa.select(person_roles).where(r.username.in_(names)).order_by(r.username, r.position)
            for role in self._conn.execute(query):
                roles[role.username].append(role)
        return [rows.to_person(p, roles[p.username]) for p in person_rows]
