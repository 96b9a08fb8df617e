"""tests/conftest.py's `world` on a store a test picks: for the rules that must hold on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from portvakt.domain.clock import FixedClock
from portvakt.jose import PrivateKeyHandle
from portvakt.settings import Settings
from portvakt.storage.memory import MemoryStore
from portvakt.storage.sql import SqlStore
from portvakt.wiring import Overrides, assemble
from tests.conftest import ISSUER, World, seed

#: `@pytest.mark.parametrize("world", STORES, indirect=True)`: the test on the memory store, SQLite and PostgreSQL.
STORES = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(name="world")
def world_on_store(request: pytest.FixtureRequest, rsa_keys: list[PrivateKeyHandle],
                   tmp_path: Path) -> Iterator[World]:
    """tests/conftest.py's world, on the memory store unless a test asks for "sqlite" or "postgres" (indirect).

    A module imports this fixture (it is `world` there) to put its tests on the store they ask for."""
    backend = getattr(request, "param", "memory")
    if backend == "memory":
        store: Any = MemoryStore()
    else:
        url = f"sqlite:///{tmp_path / 'portvakt.db'}"
        store = SqlStore(url if backend == "sqlite" else request.getfixturevalue("fresh_pg_url"), migrate=True)
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock(now)
    client_id = seed(store, rsa_keys[0], now)
    app = assemble(Settings(issuer=ISSUER, data_dir=str(tmp_path)), ("token", "altinn"),
                   Overrides(store=store, clock=clock, kek=b"test-kek"))
    with TestClient(app, base_url="http://portvakt.test") as http:
        yield World(store, clock, http, rsa_keys[0], client_id, app.runtime)
    if backend != "memory":
        store.close()
