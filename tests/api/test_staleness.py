"""docs/security.md, Stale cache: a node that cannot confirm its registry within the bound refuses tokens.

The unit tests drive RegistryCache with a fake monotonic clock; the wire tests run a real app whose store's change
feed fails on demand: after the bound (0.5 s here) /token answers 503 MP-504 with Retry-After, the admin API and
/jwk keep answering, and once the feed answers again tokens are issued again.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from portvakt.domain.clock import FixedClock
from portvakt.domain.errors import StoreUnavailable
from portvakt.domain.models import Change
from portvakt.jose import PrivateKeyHandle
from portvakt.oauth.errors import OAuthError
from portvakt.oauth.registry_cache import RegistryCache
from portvakt.settings import Settings
from portvakt.storage.memory import MemoryReplayCache, MemoryStore
from portvakt.wiring import Overrides, assemble
from tests.conftest import ISSUER, World, seed

BOUND = 0.5


class FeedStore:
    """A MemoryStore whose change feed fails while `failing` is set (as a database that is down)."""

    def __init__(self, inner: MemoryStore) -> None:
        self.inner = inner
        self.failing = threading.Event()
        self.feed_reads = 0
        self.on_read: Callable[[], None] | None = None

    def changes_since(self, seq: int) -> Sequence[Change]:
        self.feed_reads += 1
        if self.on_read is not None:
            self.on_read()
        if self.failing.is_set():
            raise StoreUnavailable("the database could not be reached")
        return self.inner.changes_since(seq)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class FakeMonotonic:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cache() -> tuple[RegistryCache, FeedStore, FakeMonotonic]:
    store = FeedStore(MemoryStore())
    clock = FakeMonotonic()
    return RegistryCache(store, max_staleness=5, retry_every=0.25, monotonic=clock), store, clock


def test_a_new_cache_is_fresh_and_a_refresh_without_changes_confirms_it(
        cache: tuple[RegistryCache, FeedStore, FakeMonotonic]) -> None:
    registry, _, clock = cache
    assert registry.age() == 0 and registry.is_fresh()
    clock.now += 4.0
    assert registry.age() == pytest.approx(4.0)
    assert registry.refresh() == 0
    assert registry.age() == 0
    clock.now += 5.0
    registry.ensure_fresh()  # exactly at the bound: still fresh


def test_past_the_bound_with_the_feed_down_tokens_are_refused_with_mp_504(
        cache: tuple[RegistryCache, FeedStore, FakeMonotonic]) -> None:
    registry, store, clock = cache
    store.failing.set()
    clock.now += 5.1
    with pytest.raises(OAuthError) as refused:
        registry.ensure_fresh()
    assert refused.value.code == "MP-504" and refused.value.status == 503
    assert "5.1 s" in (refused.value.detail or "")
    store.failing.clear()
    with pytest.raises(OAuthError):  # within retry_every of the failed attempt: no new attempt, still stale
        registry.ensure_fresh()
    clock.now += 0.25
    registry.ensure_fresh()  # the on-demand refresh confirms it
    assert registry.is_fresh() and registry.age() == 0


def test_a_stale_cache_asks_the_store_at_most_once_per_retry_interval(
        cache: tuple[RegistryCache, FeedStore, FakeMonotonic]) -> None:
    registry, store, clock = cache
    store.failing.set()
    clock.now += 6
    for _ in range(50):
        with pytest.raises(OAuthError):
            registry.ensure_fresh()
    assert store.feed_reads == 1
    clock.now += 0.3
    with pytest.raises(OAuthError):
        registry.ensure_fresh()
    assert store.feed_reads == 2


def test_freshness_counts_from_when_the_store_was_asked_not_when_it_answered(
        cache: tuple[RegistryCache, FeedStore, FakeMonotonic]) -> None:
    registry, store, clock = cache

    def slow_answer() -> None:
        clock.now += 3.0

    store.on_read = slow_answer
    clock.now += 4.0
    registry.refresh()
    assert registry.age() == pytest.approx(3.0)


def test_a_failed_refresh_does_not_confirm(cache: tuple[RegistryCache, FeedStore, FakeMonotonic]) -> None:
    registry, store, clock = cache
    clock.now += 2.0
    store.failing.set()
    with pytest.raises(StoreUnavailable):
        registry.refresh()
    assert registry.age() == pytest.approx(2.0)


@pytest.fixture
def flaky(rsa_keys: list[PrivateKeyHandle]) -> Iterator[tuple[World, FeedStore]]:
    """The `world` server with a staleness bound of 0.5 s, on a store whose change feed can be made to fail."""
    inner = MemoryStore()
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock(now)
    client_id = seed(inner, rsa_keys[0], now)
    store = FeedStore(inner)
    settings = Settings(issuer=ISSUER, data_dir="/nonexistent", cache={"max_staleness_seconds": BOUND})
    app = assemble(settings, ("token", "altinn"), Overrides(store=store, clock=clock, kek=b"test-kek",
                                                            replay=MemoryReplayCache(clock=clock)))
    with TestClient(app, base_url="http://portvakt.test") as http:
        yield World(inner, clock, http, rsa_keys[0], client_id, app.runtime), store


def _until(answer: Callable[[], Any], done: Callable[[Any], bool], within: float = 5.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        got = answer()
        if done(got) or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def test_token_fails_closed_after_the_bound_and_recovers(flaky: tuple[World, FeedStore]) -> None:
    world, store = flaky
    assert world.post(world.grant()).status_code == 200
    _until(lambda: store.feed_reads, lambda n: n >= 1)  # the poller is running: confirmations come every poll now
    store.failing.set()
    cut_off = time.monotonic()
    refused = _until(lambda: world.post(world.grant()), lambda r: r.status_code == 503)
    # the last confirmation was at most one poll (0.25 s) before the cut
    assert time.monotonic() - cut_off >= BOUND - 0.3, refused.text
    assert refused.status_code == 503, refused.text
    body = refused.json()
    assert body["error"] == "temporarily_unavailable"
    assert body["error_uri"] == f"{ISSUER}errors/MP-504"
    assert "trace_id: " in body["error_description"]
    assert refused.headers["retry-after"] == "5"
    assert world.http.get("/jwk").status_code == 200  # not the token path: still served
    assert world.http.get("/api/v1/scopes/all").status_code == 200  # the admin API reads the database directly
    store.failing.clear()
    issued = _until(lambda: world.post(world.grant()), lambda r: r.status_code == 200)
    assert issued.status_code == 200, issued.text
    assert issued.json()["token_type"] == "Bearer"


def test_the_error_page_of_mp_504_explains_it(world: World) -> None:
    page = world.http.get("/errors/MP-504?lang=en")
    assert page.status_code == 200
    assert "staleness bound" in page.text


def test_without_its_poller_a_node_confirms_on_demand_while_the_database_answers(
        rsa_keys: list[PrivateKeyHandle]) -> None:
    """An app served without its lifespan (httpx.ASGITransport, as the portal's tests do) runs no poller: past the
    bound, /token refreshes once itself and issues while the feed answers, and refuses once it does not."""
    inner = MemoryStore()
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock(now)
    client_id = seed(inner, rsa_keys[0], now)
    store = FeedStore(inner)
    settings = Settings(issuer=ISSUER, data_dir="/nonexistent", cache={"max_staleness_seconds": 0.2})
    app = assemble(settings, ("token",), Overrides(store=store, clock=clock, kek=b"test-kek",
                                                   replay=MemoryReplayCache(clock=clock)))
    world = World(inner, clock, None, rsa_keys[0], client_id, app.runtime)  # type: ignore[arg-type]

    async def post() -> int:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portvakt.test") as c:
            r = await c.post("/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                             "assertion": world.grant()})
            return r.status_code

    time.sleep(0.3)
    reads = store.feed_reads
    assert asyncio.run(post()) == 200
    assert store.feed_reads == reads + 1
    time.sleep(0.3)
    store.failing.set()
    assert asyncio.run(post()) == 503
