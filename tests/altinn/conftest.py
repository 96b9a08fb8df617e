"""Fixtures of the Altinn side's unit tests: the seeded memory store (no server) and scheme helpers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portvakt.domain.audit import Actor
from portvakt.domain.clock import FixedClock
from portvakt.domain.delegations import create_scheme
from portvakt.domain.models import DelegationScheme
from portvakt.jose import PrivateKeyHandle
from portvakt.storage.memory import MemoryStore
from tests.conftest import PROVIDER, seed

DELEGABLE = "brreg:test/delegable"
PROVIDER_ACTOR = Actor(PROVIDER, "admin-provider")


@pytest.fixture
def clock() -> FixedClock:
    """A fixed clock at a whole second."""
    return FixedClock(datetime(2025, 1, 15, 12, 0, tzinfo=UTC))


@pytest.fixture
def store(rsa_keys: list[PrivateKeyHandle], clock: FixedClock) -> MemoryStore:
    """The shared seed (operator, provider with brreg:test/*, vendor, consumer, other) on a memory store."""
    made = MemoryStore()
    seed(made, rsa_keys[0], clock.now())
    return made


def new_scheme(store: MemoryStore, clock: FixedClock, *, scopes: tuple[str, ...] = (DELEGABLE,),
               title: str = "Reelle rettighetshavere - På vegne av") -> DelegationScheme:
    """A scheme of the provider naming its delegable scope."""
    with store.begin() as uow:
        return create_scheme(uow, PROVIDER, scopes, {"nb": title, "en": "Beneficial owners"}, {"nb": "Beskrivelse"},
                             PROVIDER_ACTOR, clock.now())
