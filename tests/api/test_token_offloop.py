"""docs/security.md, Store outage: no store I/O on the event loop. /token's checks run on the loop only while every
answer is in memory; a cache miss runs the request in a worker thread; the replay claim always goes to the claim
thread. Shown with a store whose every read refuses inside a non-blocking section (as the SQL store does)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from portvakt.domain.blocking import WouldBlock, may_block
from portvakt.domain.clock import FixedClock
from portvakt.jose import PrivateKeyHandle
from portvakt.settings import Settings
from portvakt.storage.memory import MemoryReplayCache, MemoryStore
from portvakt.wiring import Overrides, assemble
from tests.conftest import ISSUER, World, seed


@dataclass
class Reads:
    """Where the store was read from: refused on the loop (WouldBlock), or read in a thread (its name)."""

    refused: int = 0
    threads: list[str] = field(default_factory=list)


class IoStore:
    """A MemoryStore whose reads behave as I/O: refused inside a non-blocking section, recorded elsewhere."""

    def __init__(self, inner: MemoryStore, reads: Reads) -> None:
        self.inner = inner
        self.reads = reads

    def read(self) -> AbstractContextManager[Any]:
        try:
            may_block()
        except WouldBlock:
            self.reads.refused += 1
            raise
        self.reads.threads.append(threading.current_thread().name)
        return self.inner.read()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class ThreadedReplay(MemoryReplayCache):
    """Records the thread of every claim."""

    def __init__(self, clock: FixedClock) -> None:
        super().__init__(clock=clock)
        self.threads: list[str] = []

    def first_use(self, key: bytes, expires: datetime, issued_at: datetime | None = None) -> bool:
        self.threads.append(threading.current_thread().name)
        return super().first_use(key, expires, issued_at)


@pytest.fixture
def io_world(rsa_keys: list[PrivateKeyHandle]) -> Iterator[tuple[World, Reads, ThreadedReplay]]:
    inner = MemoryStore()
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock(now)
    client_id = seed(inner, rsa_keys[0], now)
    reads = Reads()
    replay = ThreadedReplay(clock)
    settings = Settings(issuer=ISSUER, data_dir="/nonexistent")
    app = assemble(settings, ("token",), Overrides(store=IoStore(inner, reads), clock=clock, kek=b"test-kek",
                                                   replay=replay))
    with TestClient(app, base_url="http://portvakt.test") as http:
        yield World(inner, clock, http, rsa_keys[0], client_id, app.runtime), reads, replay


def test_a_cache_miss_runs_in_a_worker_thread_and_a_hit_reads_no_store(
        io_world: tuple[World, Reads, ThreadedReplay]) -> None:
    world, reads, replay = io_world
    reads.refused, reads.threads[:] = 0, []
    first = world.post(world.grant())
    assert first.status_code == 200, first.text
    assert reads.refused >= 1  # the checks met a miss on the loop and stopped before any I/O ...
    assert reads.threads and all(name != "MainThread" for name in reads.threads)  # ... and ran in a thread
    reads.refused, reads.threads[:] = 0, []
    for _ in range(3):
        assert world.post(world.grant()).status_code == 200
    assert (reads.refused, reads.threads) == (0, [])  # every answer was in memory: no store read at all
    assert replay.threads[-3:] == ["portvakt-claims"] * 3  # the claims, off the loop


def test_a_grant_posted_twice_at_once_gets_one_token(io_world: tuple[World, Reads, ThreadedReplay]) -> None:
    world, _, _ = io_world
    assert world.post(world.grant()).status_code == 200  # warm: the rest take the event-loop path
    for _ in range(5):
        grant = world.grant()
        with ThreadPoolExecutor(4) as pool:
            statuses = sorted(r.status_code for r in pool.map(world.post, [grant] * 4))
        assert statuses == [200, 400, 400, 400]
