"""Decision S12 in one process: the change listener wakes the refresher as soon as another node commits, the poll
stays the fallback, a wake never counts as a confirmation (decision S9), the setting turns it off, and the lifespan
stops it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from portvakt.api.app import create_app
from portvakt.domain import usecases as uc
from portvakt.domain.clock import FixedClock
from portvakt.jose import PrivateKeyHandle
from portvakt.settings import Settings
from portvakt.storage.memory import MemoryReplayCache, MemoryStore
from portvakt.storage.sql import SqlStore
from portvakt.storage.sql.notify import ChangeListener
from portvakt.wiring import Overrides, assemble
from portvakt.wiring.assembly import build_runtime, change_push
from tests.api.test_staleness import FeedStore
from tests.conftest import ISSUER, OP, World, seed

SLOW_POLL = 5.0  # so that only the push can make a change arrive quickly


def settings(**cache: Any) -> Settings:
    """A token service that polls the feed every 5 s and whose registry may go a minute unconfirmed."""
    return Settings(issuer=ISSUER, data_dir="/nonexistent", cache_poll_seconds=SLOW_POLL,
                    cache={"max_staleness_seconds": 60, **cache})


def listeners(store: SqlStore) -> int:
    """How many change listeners are connected to the store's database."""
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                                        "'portvakt-listener' AND datname = current_database()")).scalar_one())


def until(done: Callable[[], bool], within: float = 5.0) -> bool:
    """Poll `done` every 5 ms until it holds or `within` seconds pass."""
    deadline = time.monotonic() + within
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


@pytest.fixture
def pg_world(pg_databases: Any, rsa_keys: list[PrivateKeyHandle]) -> Iterator[tuple[SqlStore, str]]:
    """A migrated PostgreSQL database seeded with the usual registry, and its client_id."""
    url: str = pg_databases.create()
    store = SqlStore(url, migrate=True)
    client_id = seed(store, rsa_keys[0], datetime.now(UTC).replace(microsecond=0))  # type: ignore[arg-type]
    yield store, client_id
    store.close()
    pg_databases.drop(url)


def served(store: SqlStore, **cache: Any) -> tuple[Any, FixedClock]:
    """The token service on the store, as `portvakt serve` wires it, and its clock."""
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    app = assemble(settings(**cache), ("token",), Overrides(store=store, clock=clock, kek=b"test-kek",
                                                            replay=MemoryReplayCache(clock=clock)))
    return app, clock


@pytest.mark.postgres
def test_a_commit_through_another_node_reaches_this_one_at_once(pg_world: tuple[SqlStore, str],
                                                                 rsa_keys: list[PrivateKeyHandle]) -> None:
    store, client_id = pg_world
    app, clock = served(store)
    other_node = SqlStore(store.engine.url)
    try:
        with TestClient(app, base_url="http://portvakt.test") as http:
            world = World(store, clock, http, rsa_keys[0], client_id, app.runtime)  # type: ignore[arg-type]
            assert until(lambda: listeners(store) == 1)
            assert world.post(world.grant()).status_code == 200  # the client and its key are now cached
            with other_node.begin() as uow:
                uc.replace_client_keys(uow, client_id, [], OP, clock.now())
            committed = time.monotonic()
            assert until(lambda: world.post(world.grant()).status_code == 400, within=1.0)
            assert time.monotonic() - committed < 1.0  # far within the 5 s poll
            assert world.post(world.grant()).json()["error_uri"].endswith("/MP-126")
        assert until(lambda: listeners(store) == 0, within=3.0)  # the lifespan stopped it
    finally:
        other_node.close()


@pytest.mark.postgres
def test_with_notify_off_no_listener_runs(pg_world: tuple[SqlStore, str]) -> None:
    store, _ = pg_world
    assert change_push(settings(notify=False), store) is None
    app, _clock = served(store, notify=False)
    with TestClient(app, base_url="http://portvakt.test"):
        time.sleep(0.3)
        assert listeners(store) == 0


@pytest.mark.postgres
def test_only_a_postgresql_store_gets_a_listener(pg_world: tuple[SqlStore, str], tmp_path: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    store, _ = pg_world
    assert isinstance(change_push(settings(), store), ChangeListener)
    sqlite = SqlStore(f"sqlite:///{tmp_path / 'portvakt.db'}", migrate=True)
    try:
        assert change_push(settings(), sqlite) is None
    finally:
        sqlite.close()
    assert change_push(settings(), MemoryStore()) is None
    assert Settings().cache.notify is True
    monkeypatch.setenv("PORTVAKT_CACHE__NOTIFY", "false")
    assert Settings().cache.notify is False


class FakePush:
    """A push the test fires by hand, from a thread of its own as the listener does."""

    def __init__(self) -> None:
        self.on_change: Callable[[int | None], None] | None = None
        self.stopped = False

    def start(self, on_change: Callable[[int | None], None]) -> None:
        self.on_change = on_change

    def stop(self) -> None:
        self.stopped = True

    def fire(self) -> None:
        """Call the callback from another thread, and wait for that thread."""
        assert self.on_change is not None
        thread = threading.Thread(target=self.on_change, args=(None,))
        thread.start()
        thread.join()


def fire_and_see_a_read(push: FakePush, store: FeedStore) -> bool:
    """Fire the push; True when the refresher reads the feed within a second."""
    before = store.feed_reads
    push.fire()
    return until(lambda: store.feed_reads > before, within=1.0)


def test_a_wake_reads_the_feed_at_once_but_only_a_successful_read_confirms_the_registry(
        rsa_keys: list[PrivateKeyHandle]) -> None:
    inner = MemoryStore()
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    seed(inner, rsa_keys[0], clock.now())
    store = FeedStore(inner)
    rt = build_runtime(settings(max_staleness_seconds=0.5),
                       Overrides(store=store, clock=clock, kek=b"test-kek",
                                 replay=MemoryReplayCache(clock=clock)))
    push = FakePush()
    with TestClient(create_app(rt, push=push), base_url="http://portvakt.test"):
        assert push.on_change is not None
        assert fire_and_see_a_read(push, store)  # within a second, not after the 5 s poll

        store.failing.set()
        for _ in range(8):  # woken again and again, each time the feed fails: never confirmed
            assert fire_and_see_a_read(push, store)
            time.sleep(0.1)
        assert rt.registry.age() > 0.5 and not rt.registry.is_fresh()

        store.failing.clear()
        push.fire()
        assert until(rt.registry.is_fresh, within=1.0)
        assert rt.registry.age() < 0.5
        assert not push.stopped
    assert push.stopped
