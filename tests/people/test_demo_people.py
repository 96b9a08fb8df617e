"""seed_demo_people: one person per portal role for the demo organisations, made once, able to log in."""

from __future__ import annotations

from datetime import UTC, datetime

from portvakt.altinn.passwords import Argon2PasswordHasher
from portvakt.cli import demo
from portvakt.cli.demo import seed_demo_people
from portvakt.domain import usecases as uc
from portvakt.domain.models import PersonRole, PortalRole
from portvakt.domain.people import authenticate
from portvakt.storage.memory import MemoryStore
from tests.people.conftest import OP

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def demo_store() -> MemoryStore:
    store = MemoryStore()
    with store.begin() as uow:
        for orgno, name in (demo.PROVIDER, demo.VENDOR, demo.CONSUMER):
            uc.add_org(uow, orgno, name, OP, NOW)
    return store


def test_one_person_per_role_who_can_log_in(hasher: Argon2PasswordHasher) -> None:
    store = demo_store()
    credentials = seed_demo_people(store, hasher, NOW)
    assert len(credentials) == 3
    with store.begin() as uow:
        found = [authenticate(uow, hasher, username, password, NOW) for username, password in credentials]
    assert [p.roles if p else None for p in found] == [
        (PersonRole(demo.VENDOR[0], PortalRole.INTEGRATION_RESPONSIBLE),),
        (PersonRole(demo.CONSUMER[0], PortalRole.ACCESS_MANAGER),),
        (PersonRole(demo.PROVIDER[0], PortalRole.API_ADMIN),)]
    assert [p.mobile for p in found if p] == ["+4790000001", "+4790000002", "+4790000003"]


def test_seeding_again_changes_nothing(hasher: Argon2PasswordHasher) -> None:
    store = demo_store()
    first = seed_demo_people(store, hasher, NOW)
    with store.read() as uow:
        before = list(uow.list_people())
    assert seed_demo_people(store, hasher, NOW) == first
    with store.read() as uow:
        assert list(uow.list_people()) == before
    assert store.last_change_seq() == 3 + 3, "three orgs and three people, nothing on the second run"
