"""/livez and /readyz (docs/decisions.md S10): what each check says, that a hung store neither blocks the event loop
nor piles up threads, that no failure text (a connection string) leaks, and the drain that SIGTERM starts."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from portvakt.api.app import create_front
from portvakt.api.health import Drain, drain_plan
from portvakt.domain.clock import FixedClock
from portvakt.jose import PrivateKeyHandle
from portvakt.settings import LimitSettings, Settings
from portvakt.storage.memory import MemoryReplayCache, MemoryStore
from portvakt.wiring import Overrides, assemble
from tests.conftest import ISSUER, World, seed

SECRET_URL = "postgresql://portvakt:hunter2@db.internal:5432/portvakt"


class ProbedStore:
    """A MemoryStore whose cheap query (last_change_seq) can fail with a revealing message, or hang."""

    def __init__(self, inner: MemoryStore) -> None:
        self.inner = inner
        self.failing = False
        self.hanging = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def last_change_seq(self) -> int:
        self.calls += 1
        if self.failing:
            raise ConnectionError(f"could not connect to {SECRET_URL}")
        if self.hanging.is_set():
            self.release.wait(10)
        return self.inner.last_change_seq()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class BrokenReplay(MemoryReplayCache):
    """A replay cache that cannot write."""

    def first_use(self, key: bytes, expires: datetime) -> bool:
        raise OSError(f"redis://:hunter2@cache:6379 refused {key!r}")


@pytest.fixture
def probed(rsa_keys: list[PrivateKeyHandle]) -> Iterator[tuple[World, ProbedStore, Any]]:
    inner = MemoryStore()
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock(now)
    client_id = seed(inner, rsa_keys[0], now)
    store = ProbedStore(inner)
    settings = Settings(issuer=ISSUER, data_dir="/nonexistent")
    app = assemble(settings, ("token", "altinn"), Overrides(store=store, clock=clock, kek=b"test-kek",
                                                            replay=MemoryReplayCache(clock=clock)))
    with TestClient(app, base_url="http://portvakt.test") as http:
        yield World(inner, clock, http, rsa_keys[0], client_id, app.runtime), store, app
    store.release.set()


def test_livez_answers_ok(world: World) -> None:
    r = world.http.get("/livez")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert r.headers["cache-control"] == "no-store"


def test_readyz_names_every_check_of_the_token_service(world: World) -> None:
    r = world.http.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok" and body["draining"] is False
    checks = body["checks"]
    assert list(checks) == ["store", "replay_store", "registry", "draining"]
    assert checks["store"]["ok"] and checks["replay_store"]["ok"]
    assert checks["registry"]["ok"] is True
    assert 0 <= checks["registry"]["age_seconds"] < 5
    assert checks["registry"]["max_staleness_seconds"] == 5
    assert checks["draining"] == {"ok": True, "draining": False}


def test_healthz_is_unchanged(world: World) -> None:
    r = world.http.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_a_failing_store_is_named_without_its_message(probed: tuple[World, ProbedStore, Any]) -> None:
    world, store, _ = probed
    store.failing = True
    r = world.http.get("/readyz")
    assert r.status_code == 503
    assert r.headers["retry-after"] == "5"
    body = r.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["store"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["replay_store"]["ok"] is True
    assert "hunter2" not in r.text and "postgresql" not in r.text and "db.internal" not in r.text
    assert "trace_id" not in body  # a health answer, not an error
    assert world.http.get("/livez").status_code == 200


def test_a_failing_replay_store_is_named_without_its_message(rsa_keys: list[PrivateKeyHandle]) -> None:
    store = MemoryStore()
    now = datetime.now(UTC).replace(microsecond=0)
    seed(store, rsa_keys[0], now)
    clock = FixedClock(now)
    app = assemble(Settings(issuer=ISSUER, data_dir="/nonexistent"), ("token",),
                   Overrides(store=store, clock=clock, kek=b"test-kek", replay=BrokenReplay(clock=clock)))
    with TestClient(app, base_url="http://portvakt.test") as http:
        r = http.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["replay_store"] == {"ok": False, "error": "OSError"}
    assert "hunter2" not in r.text and "redis" not in r.text


def test_a_hung_store_times_out_without_blocking_the_loop_or_piling_up_threads(
        probed: tuple[World, ProbedStore, Any]) -> None:
    world, store, _ = probed
    store.hanging.set()
    before = store.calls
    answers: list[Any] = []
    waiting = threading.Thread(target=lambda: answers.append(world.http.get("/readyz")))
    start = time.monotonic()
    waiting.start()
    time.sleep(0.2)
    live = world.http.get("/livez")
    assert live.status_code == 200 and time.monotonic() - start < 0.9  # answered while the store check hangs
    second = world.http.get("/readyz")  # the first check is still running: no second thread is started
    waiting.join(5)
    assert answers and answers[0].status_code == 503
    assert answers[0].json()["checks"]["store"] == {"ok": False, "error": "no answer within 1 s"}
    assert second.status_code == 503
    assert store.calls == before + 1
    store.hanging.clear()
    store.release.set()
    deadline = time.monotonic() + 5
    while world.http.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_draining_answers_503_and_livez_stays_ok(probed: tuple[World, ProbedStore, Any]) -> None:
    world, _, app = probed
    app.health.drain.begin()
    r = world.http.get("/readyz")
    assert r.status_code == 503
    assert r.json()["draining"] is True
    assert r.json()["checks"]["draining"] == {"ok": False, "draining": True}
    assert world.http.get("/livez").status_code == 200
    assert world.post(world.grant()).status_code == 200  # requests still in reach are served while draining


def test_the_altinn_side_alone_checks_its_store_and_draining(rsa_keys: list[PrivateKeyHandle]) -> None:
    store = MemoryStore()
    seed(store, rsa_keys[0], datetime.now(UTC).replace(microsecond=0))
    settings = Settings(issuer="http://altinn.test/", data_dir="/nonexistent",
                        altinn={"token_issuer": ISSUER})
    app = assemble(settings, ("altinn",), Overrides(store=store))
    with TestClient(app, base_url="http://altinn.test") as http:
        r = http.get("/readyz")
        assert http.get("/livez").status_code == 200
        assert http.get("/metrics").status_code == 200
    assert r.status_code == 200, r.text
    assert list(r.json()["checks"]) == ["store", "draining"]


def test_the_portal_front_checks_draining_only() -> None:
    with TestClient(create_front(LimitSettings())) as http:
        r = http.get("/readyz")
        assert http.get("/livez").status_code == 200
    assert r.status_code == 200 and list(r.json()["checks"]) == ["draining"]


def test_lifespan_shutdown_drains() -> None:
    front = create_front(LimitSettings())
    with TestClient(front):
        assert not front.health.drain.draining
    assert front.health.drain.draining


def test_drain_plan_keeps_within_drain_seconds() -> None:
    assert drain_plan(LimitSettings()) == (0, 10)
    assert drain_plan(LimitSettings(drain_seconds=6, drain_notice_seconds=2)) == (2, 4)
    notice, grace = drain_plan(LimitSettings(drain_seconds=3, drain_notice_seconds=30))
    assert notice == 2 and grace == 1


def test_sigterm_drains_at_once_and_hands_over_after_the_notice() -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be set from the main thread")
    calls: list[tuple[int, float]] = []
    original = signal.getsignal(signal.SIGTERM)
    def server_handler(signum: int, frame: object) -> None:
        calls.append((signum, time.monotonic()))

    signal.signal(signal.SIGTERM, server_handler)
    drain = Drain(notice_seconds=0.3)

    async def scenario() -> float:
        assert drain.install()
        sent = time.monotonic()
        signal.raise_signal(signal.SIGTERM)
        await asyncio.sleep(0)
        assert drain.draining and not calls  # the flag at once, the server's own handler later
        await asyncio.sleep(0.6)
        return sent

    try:
        sent = asyncio.run(scenario())
        assert signal.getsignal(signal.SIGTERM) is not server_handler  # the drain's, until it is uninstalled
        drain.uninstall()
        assert signal.getsignal(signal.SIGTERM) is server_handler
    finally:
        signal.signal(signal.SIGTERM, original)
    assert len(calls) == 1 and calls[0][0] == signal.SIGTERM
    assert calls[0][1] - sent >= 0.3
