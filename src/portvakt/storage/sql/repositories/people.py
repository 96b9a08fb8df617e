"""People and their roles in SQL (docs/protocol.md §4.4)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from portvakt.domain.models import Person
from portvakt.domain.ports import PeopleRepository
from portvakt.storage.readonly import writes

from .. import rows
from ..schema import people, person_roles
from .base import SqlRepository


class SqlPeople(SqlRepository, PeopleRepository):
    """The people and person_roles tables: a person is always read and written with their roles."""

    def get_person(self, username: str) -> Person | None:
        row = self._conn.execute(sa.select(people).where(people.c.username == username)).first()
        return self._with_roles([row])[0] if row else None

    @writes
    def put_person(self, person: Person) -> None:
        self._tx.upsert(people, rows.person_values(person))
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
