"""Fixtures for people: a fast argon2id hasher, the seeded memory store, and a person per portal role."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portvakt.altinn.passwords import Argon2PasswordHasher
from portvakt.domain.audit import Actor
from portvakt.domain.clock import FixedClock
from portvakt.domain.models import Person, PersonRole, PortalRole
from portvakt.domain.people import add_person
from portvakt.jose import PrivateKeyHandle
from portvakt.storage.memory import MemoryStore
from tests.conftest import CONSUMER, VENDOR, seed

PASSWORD = "korrekt hest batteri stift"
OP = Actor.operator("test")
IDA_ROLES = (PersonRole(VENDOR, PortalRole.INTEGRATION_RESPONSIBLE), PersonRole(CONSUMER, PortalRole.ACCESS_MANAGER))


def fast_hasher() -> Argon2PasswordHasher:
    """argon2id with the smallest parameters (tests only; production uses RFC 9106's)."""
    return Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def hasher() -> Argon2PasswordHasher:
    """A fast argon2id hasher."""
    return fast_hasher()


@pytest.fixture
def clock() -> FixedClock:
    """A fixed clock at a whole second."""
    return FixedClock(datetime(2025, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def store(rsa_keys: list[PrivateKeyHandle], clock: FixedClock) -> MemoryStore:
    """The shared seed (operator, provider, vendor, consumer, other) on a memory store."""
    made = MemoryStore()
    seed(made, rsa_keys[0], clock.now())
    return made


@pytest.fixture
def ida(store: MemoryStore, hasher: Argon2PasswordHasher, clock: FixedClock) -> Person:
    """An integration responsible for the vendor who is also the consumer's access manager."""
    with store.begin() as uow:
        return add_person(uow, hasher, username="Ida@Vendor.test", name="Ida  Ærlig", mobile="912 34 567",
                          password=PASSWORD, roles=IDA_ROLES, actor=OP, now=clock.now())
