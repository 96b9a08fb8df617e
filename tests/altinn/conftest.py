"""Fixtures of the Altinn side's unit tests: the seeded memory store (no server), the seeded SQLite store, both as
`any_store`, and scheme helpers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from portvakt.domain.audit import Actor
from portvakt.domain.clock import FixedClock
from portvakt.domain.delegations import create_scheme
from portvakt.domain.models import DelegationScheme
from portvakt.domain.ports import Store
from portvakt.jose import PrivateKeyHandle
from portvakt.storage.memory import MemoryStore
from portvakt.storage.sql import SqlStore
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


@pytest.fixture
def sqlite_store(rsa_keys: list[PrivateKeyHandle], clock: FixedClock, tmp_path: Path) -> Iterator[SqlStore]:
    """The same seed on a SQLite file."""
    sql = SqlStore(f"sqlite:///{tmp_path / 'portvakt.db'}", migrate=True)
    try:
        seed(sql, rsa_keys[0], clock.now())  # type: ignore[arg-type]
        yield sql
    finally:
        sql.engine.dispose()


@pytest.fixture(params=["memory", "sqlite"])
def any_store(request: pytest.FixtureRequest) -> Store:
    """`store`, then `sqlite_store` (as the test's module defines them): a test taking it runs on both."""
    store: Store = request.getfixturevalue("store" if request.param == "memory" else "sqlite_store")
    return store


def new_scheme(store: MemoryStore, clock: FixedClock, *, scopes: tuple[str, ...] = (DELEGABLE,),
               title: str = "Reelle rettighetshavere - På vegne av") -> DelegationScheme:
    """A scheme of the provider naming its delegable scope."""
    with store.begin() as uow:
        return create_scheme(uow, PROVIDER, scopes, {"nb": title, "en": "Beneficial owners"}, {"nb": "Beskrivelse"},
                             PROVIDER_ACTOR, clock.now())
