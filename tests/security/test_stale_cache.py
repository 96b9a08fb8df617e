"""Threat: a cache keeps a removed fact. A refresh between a cache's read and its store wins.

Each test holds one /token request right after its store read (a threading.Event, no sleeps), commits
a change meanwhile (the runtime's store refreshes the caches after the commit), releases the request,
and then asks again: the second answer must see the change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from portvakt.domain import usecases as uc
from portvakt.domain.clients import deactivate_client
from portvakt.domain.clock import FixedClock
from portvakt.domain.ports import UnitOfWork
from portvakt.domain.scopes import deactivate_scope, revoke_access
from portvakt.jose import PrivateKeyHandle
from portvakt.settings import Settings
from portvakt.storage.memory import MemoryReplayCache, MemoryStore
from portvakt.wiring import Overrides, assemble
from tests.conftest import ISSUER, OP, VENDOR, World, seed

TIMEOUT = 10


class _Spy:
    """A unit of work that notes whether the watched read was made."""

    def __init__(self, inner: UnitOfWork, watched: str | None) -> None:
        self._inner = inner
        self._watched = watched
        self.hit = False

    def __getattr__(self, name: str) -> Any:
        if name == self._watched:
            self.hit = True
        return getattr(self._inner, name)


class PausingStore:
    """A Store that, once armed, holds the first unit of work making the watched read, after it closed."""

    def __init__(self, inner: MemoryStore) -> None:
        self.inner = inner
        self.watched: str | None = None
        self.paused = threading.Event()
        self.resume = threading.Event()

    def arm(self, method: str) -> None:
        self.watched = method

    @contextmanager
    def _paused_after(self, unit: Any) -> Iterator[Any]:
        with unit as uow:
            spy = _Spy(uow, self.watched)
            yield spy
        if spy.hit and self.watched is not None:
            self.watched = None  # one shot
            self.paused.set()
            assert self.resume.wait(TIMEOUT)

    def begin(self) -> Any:
        return self._paused_after(self.inner.begin())

    def read(self) -> Any:
        """The cache fills through read-only units of work: those are the ones held."""
        return self._paused_after(self.inner.read())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def paused(rsa_keys: list[PrivateKeyHandle]) -> Iterator[tuple[World, PausingStore]]:
    """The `world` server, but on a PausingStore."""
    inner = MemoryStore()
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock(now)
    client_id = seed(inner, rsa_keys[0], now)
    store = PausingStore(inner)
    settings = Settings(issuer=ISSUER, data_dir="/nonexistent")  # type: ignore[arg-type]
    injected = Overrides(store=store, clock=clock, kek=b"test-kek",  # type: ignore[arg-type]
                         replay=MemoryReplayCache(clock=clock))
    app = assemble(settings, ("token", "altinn"), injected)
    with TestClient(app, base_url="http://portvakt.test") as http:
        yield World(inner, clock, http, rsa_keys[0], client_id, app.runtime), store


def race(world: World, store: PausingStore, read: str, change: Callable[[UnitOfWork], object]) -> Any:
    """Hold a /token request after its `read`, commit `change` (refreshing), release; return a new answer."""
    store.arm(read)
    first = threading.Thread(target=lambda: world.post(world.grant()))
    first.start()
    assert store.paused.wait(TIMEOUT), f"the request never read {read}"
    with world.runtime.store.begin() as uow:  # the runtime's store refreshes the caches after commit
        change(uow)
    store.resume.set()
    first.join(TIMEOUT)
    assert not first.is_alive()
    return world.post(world.grant()).json()


def _now(world: World) -> datetime:
    return world.clock.now()


def test_deactivated_client(paused: tuple[World, PausingStore]) -> None:
    world, store = paused

    def deactivate(uow: UnitOfWork) -> None:
        client = uow.get_client(world.client_id)
        assert client is not None
        deactivate_client(uow, client, OP, _now(world))

    assert race(world, store, "get_client", deactivate)["error_uri"].endswith("/errors/MP-100")


def test_removed_key(paused: tuple[World, PausingStore]) -> None:
    world, store = paused

    def remove_keys(uow: UnitOfWork) -> None:
        uc.replace_client_keys(uow, world.client_id, [], OP, _now(world))

    assert race(world, store, "get_client", remove_keys)["error_uri"].endswith("/errors/MP-126")


def test_deactivated_scope(paused: tuple[World, PausingStore]) -> None:
    world, store = paused

    def deactivate(uow: UnitOfWork) -> None:
        deactivate_scope(uow, "brreg:test/read", OP, _now(world))

    assert race(world, store, "get_scope", deactivate)["error_uri"].endswith("/errors/MP-200")


def test_revoked_access(paused: tuple[World, PausingStore]) -> None:
    world, store = paused

    def revoke(uow: UnitOfWork) -> None:
        revoke_access(uow, "brreg:test/read", VENDOR, OP, _now(world))

    assert race(world, store, "get_access", revoke)["error_uri"].endswith("/errors/MP-250")
