"""docs/security.md, Replay after a store crash, on the wire: a grant issued before the replay store lost its data is
refused MP-012 with the reason and the two moments; the token service hands the replay store every grant's iat."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from portvakt.domain.clock import FixedClock
from portvakt.domain.ports import IssuedBeforeLoss
from portvakt.jose import PrivateKeyHandle
from portvakt.settings import Settings
from portvakt.storage.memory import MemoryReplayCache, MemoryStore
from portvakt.wiring import Overrides, assemble
from tests.conftest import ISSUER, World, seed

WINDOW = timedelta(seconds=130)


class LostData:
    """A replay cache that lost its data at `lost`, refusing as RedisReplayCache does; it notes every iat it is
    given."""

    def __init__(self, lost: datetime) -> None:
        self.inner = MemoryReplayCache()
        self.lost = lost
        self.seen: list[datetime | None] = []

    def first_use(self, key: bytes, expires: datetime, issued_at: datetime | None = None) -> bool:
        self.seen.append(issued_at)
        if issued_at is not None and issued_at < self.lost:
            raise IssuedBeforeLoss(self.lost, self.lost + WINDOW)
        return self.inner.first_use(key, expires, issued_at)

    def purge(self, now: datetime) -> int:
        return self.inner.purge(now)


@pytest.fixture
def lossy(rsa_keys: list[PrivateKeyHandle]) -> Iterator[tuple[World, LostData]]:
    """The world of tests/conftest.py, with a replay store that lost its data 5 s ago."""
    store = MemoryStore()
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock(now)
    client_id = seed(store, rsa_keys[0], now)
    replay = LostData(now - timedelta(seconds=5))
    app = assemble(Settings(issuer=ISSUER, data_dir="/nonexistent"), ("token",),
                   Overrides(store=store, clock=clock, kek=b"test-kek", replay=replay))
    with TestClient(app, base_url="http://portvakt.test") as http:
        yield World(store, clock, http, rsa_keys[0], client_id, app.runtime), replay


def test_a_grant_issued_before_the_loss_is_refused_mp012_saying_why(lossy: tuple[World, LostData]) -> None:
    world, replay = lossy
    iat = int(replay.lost.timestamp()) - 10
    r = world.post(world.grant(iat=iat, exp=iat + 100))
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "invalid_grant" and body["error_uri"] == f"{ISSUER}errors/MP-012"
    lost, until = (m.strftime("%Y-%m-%dT%H:%M:%SZ") for m in (replay.lost, replay.lost + WINDOW))
    assert body["error_description"].startswith(
        f"Grant is used before: the replay store lost its data; grants issued before {lost} are refused until "
        f"{until} (trace_id: ")
    assert replay.seen == [datetime.fromtimestamp(iat, UTC)]


def test_a_grant_issued_after_the_loss_gets_its_token_and_stays_single_use(lossy: tuple[World, LostData]) -> None:
    world, replay = lossy
    grant = world.grant()
    assert world.post(grant).status_code == 200
    again = world.post(grant)
    assert again.status_code == 400
    assert "lost its data" not in again.json()["error_description"]
    assert replay.seen == [world.clock.now(), world.clock.now()]
