"""People and their roles in memory (docs/protocol.md §4.4)."""

from __future__ import annotations

from collections.abc import Sequence

from portvakt.domain.models import Person
from portvakt.domain.ports import PeopleRepository
from portvakt.storage.readonly import writes

from .state import MemoryRepository


class MemoryPeople(MemoryRepository, PeopleRepository):
    """People by username, with their roles."""

    def get_person(self, username: str) -> Person | None:
        return self._state.people.get(username)

    @writes
    def put_person(self, person: Person) -> None:
        self._state.people[person.username] = person

    def list_people(self, orgno: str | None = None) -> Sequence[Person]:
        found = [p for p in self._state.people.values() if orgno is None or any(r.orgno == orgno for r in p.roles)]
        return sorted(found, key=lambda p: p.username)
