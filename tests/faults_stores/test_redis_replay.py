"""docs/security.md, Replay after a store crash: the Redis replay cache against a real redis-server that loses its
data (a flush, a restart from an old snapshot, a restart empty) or stops answering (SIGSTOP, SIGKILL)."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from portvakt.domain.errors import StoreUnavailable
from portvakt.domain.ports import IssuedBeforeLoss, ReplayClaim
from portvakt.storage.redis_replay import RedisReplayCache
from tests.redis_server import RedisServer

pytestmark = pytest.mark.slow  # starts a redis-server
WINDOW = timedelta(seconds=130)  # grant_max_lifetime + grant_max_future_iat, the defaults


def k(name: str) -> bytes:
    """A 32-byte replay key, as the token service derives them."""
    return hashlib.sha256(name.encode()).digest()


def now() -> datetime:
    return datetime.now(UTC)


def soon() -> datetime:
    return now() + timedelta(seconds=120)


def ago(seconds: float) -> datetime:
    return now() - timedelta(seconds=seconds)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    proc = RedisServer(tmp_path / "redis")
    yield proc
    proc.stop()


@pytest.fixture
def cache(server: RedisServer) -> Iterator[RedisReplayCache]:
    made = RedisReplayCache(server.url, window=WINDOW)
    yield made
    made.close()


def _settle(cache: RedisReplayCache) -> None:
    """The first use of a fresh Redis is a loss too (an empty Redis can't be told from one that lost its data):
    make it, and wait past its moment (whole seconds, rounded up), so that the grants of the test are issued after."""
    assert cache.first_use(k("warm-up"), soon()) is True
    time.sleep(1.1)


def test_first_use_then_replay(cache: RedisReplayCache) -> None:
    _settle(cache)
    assert cache.first_use(k("a"), soon(), now()) is True
    assert cache.first_use(k("a"), soon(), now()) is False
    assert cache.first_use(k("b"), soon(), now()) is True


def test_a_first_start_refuses_grants_made_before_it_for_the_window_only(server: RedisServer,
                                                                         cache: RedisReplayCache) -> None:
    with pytest.raises(IssuedBeforeLoss):
        cache.first_use(k("older"), soon(), ago(5))
    assert cache.first_use(k("probe"), soon()) is True  # no grant (the readiness probe): never refused
    ttl = int(server.command(b"TTL", b"portvakt:lost").lstrip(b":"))
    assert WINDOW.total_seconds() - 2 <= ttl <= WINDOW.total_seconds()


def test_a_flush_is_detected_and_grants_issued_before_it_are_refused(server: RedisServer,
                                                                     cache: RedisReplayCache) -> None:
    _settle(cache)
    used = ago(0)
    assert cache.first_use(k("used"), soon(), used) is True
    assert server.command(b"FLUSHALL") == b"+OK"
    flushed = now()
    with pytest.raises(IssuedBeforeLoss) as refused:
        cache.first_use(k("used"), soon(), used)  # would be accepted again: its key went with the flush
    lost_at = datetime.fromtimestamp(math.ceil(flushed.timestamp()), UTC)
    assert refused.value.lost_at >= lost_at - timedelta(seconds=1)
    assert refused.value.until == refused.value.lost_at + WINDOW
    text = str(refused.value)
    assert text.startswith("the replay store lost its data; grants issued before ")
    assert refused.value.lost_at.strftime("%Y-%m-%dT%H:%M:%SZ") in text
    assert refused.value.until.strftime("%Y-%m-%dT%H:%M:%SZ") in text
    with pytest.raises(IssuedBeforeLoss):
        cache.first_use(k("never-used-but-older"), soon(), used)
    assert cache.first_use(k("new"), soon(), refused.value.lost_at) is True  # made after the loss: fine
    assert cache.first_use(k("new"), soon(), refused.value.lost_at) is False


def test_a_restart_from_an_old_snapshot_is_detected_though_the_epoch_key_survived(
        server: RedisServer, cache: RedisReplayCache) -> None:
    _settle(cache)
    before = now()
    assert cache.first_use(k("before-snapshot"), soon(), before) is True
    assert server.command(b"SAVE") == b"+OK"
    assert cache.first_use(k("after-snapshot"), soon(), now()) is True
    used = now()
    server.kill()
    server.start()  # loads the snapshot: the epoch key is back, the last grant is not
    assert server.command(b"EXISTS", b"portvakt:epoch") == b":1"
    assert server.command(b"EXISTS", b"portvakt:jti:" + k("after-snapshot").hex().encode()) == b":0"
    with pytest.raises(IssuedBeforeLoss):
        cache.first_use(k("after-snapshot"), soon(), used)
    with pytest.raises(IssuedBeforeLoss):
        cache.first_use(k("before-snapshot"), soon(), before)


def test_every_worker_applies_a_loss_another_one_detected(server: RedisServer, cache: RedisReplayCache) -> None:
    _settle(cache)
    other = RedisReplayCache(server.url, window=WINDOW)  # another worker, or another node
    try:
        used = now()
        assert other.first_use(k("used-by-other"), soon(), used) is True
        server.restart_empty()
        time.sleep(1.1)
        assert cache.first_use(k("detects"), soon()) is True  # this worker's first call after the restart sees it
        with pytest.raises(IssuedBeforeLoss):
            other.first_use(k("used-by-other"), soon(), used)  # the other learns it from Redis
        late = RedisReplayCache(server.url, window=WINDOW)  # a worker started after the loss
        try:
            with pytest.raises(IssuedBeforeLoss):
                late.first_use(k("used-by-other"), soon(), used)
        finally:
            late.close()
    finally:
        other.close()


def test_the_window_ends_when_every_grant_issued_before_the_loss_has_expired(server: RedisServer) -> None:
    short = RedisReplayCache(server.url, window=timedelta(seconds=1))
    try:
        issued = ago(3)
        with pytest.raises(IssuedBeforeLoss):
            short.first_use(k("old"), soon(), issued)
        time.sleep(2.2)  # the window, rounded up, and Redis's expiry of the loss key
        assert short.first_use(k("old"), soon(), issued) is True
    finally:
        short.close()


def test_a_repeated_call_with_its_own_nonce_is_still_the_first_use(server: RedisServer,
                                                                   cache: RedisReplayCache) -> None:
    """A lost connection is tried once more: the grant key holds that call's nonce, so the retry is no replay."""
    _settle(cache)
    keys = [b"portvakt:epoch", b"portvakt:lost", b"portvakt:jti:" + k("retry").hex().encode()]
    exp = int(soon().timestamp())
    first = cache._script(keys=keys, args=[exp, "nonce-1", "e", math.ceil(time.time()), 130, ""])
    again = cache._script(keys=keys, args=[exp, "nonce-1", "e", math.ceil(time.time()), 130, ""])
    other = cache._script(keys=keys, args=[exp, "nonce-2", "e", math.ceil(time.time()), 130, ""])
    assert (first[0], again[0], other[0]) == (1, 1, 0)


@pytest.mark.timing  # a latency bound: run alone (docs/testing.md)
def test_a_paused_redis_fails_fast_and_then_answers_again(server: RedisServer, cache: RedisReplayCache) -> None:
    _settle(cache)
    server.pause()
    try:
        for name in ("during-1", "during-2"):
            start = time.monotonic()
            with pytest.raises(StoreUnavailable, match="TimeoutError"):
                cache.first_use(k(name), soon(), now())
            assert time.monotonic() - start < 0.9
        fresh = RedisReplayCache(server.url, window=WINDOW)  # a new connection to a paused server: bounded too
        start = time.monotonic()
        with pytest.raises(StoreUnavailable):
            fresh.first_use(k("during-3"), soon(), now())
        assert time.monotonic() - start < 1.4
        fresh.close()
    finally:
        server.resume()
    assert cache.first_use(k("after"), soon(), now()) is True


@pytest.mark.timing  # a latency bound: run alone (docs/testing.md)
def test_a_killed_redis_is_unavailable_at_once_and_its_restart_is_a_loss(server: RedisServer,
                                                                          cache: RedisReplayCache) -> None:
    _settle(cache)
    used = now()
    assert cache.first_use(k("used"), soon(), used) is True
    server.kill()
    start = time.monotonic()
    with pytest.raises(StoreUnavailable, match="ConnectionError"):
        cache.first_use(k("down"), soon(), now())
    assert time.monotonic() - start < 0.5
    server.start()
    with pytest.raises(IssuedBeforeLoss):
        cache.first_use(k("used"), soon(), used)


def test_a_script_redis_refuses_is_unavailable_not_a_crash(server: RedisServer, cache: RedisReplayCache) -> None:
    client = redis.Redis.from_url(server.url)
    try:
        client.set("portvakt:epoch", "not-a-string-epoch")
        client.delete("portvakt:lost")
        client.lpush("portvakt:lost", "x")  # the wrong type: GET fails inside the script
        with pytest.raises(StoreUnavailable, match="refused its script"):
            cache.first_use(k("x"), soon(), now())
    finally:
        client.close()


def test_a_batch_is_one_pipeline_with_each_claims_own_outcome(server: RedisServer, cache: RedisReplayCache) -> None:
    _settle(cache)
    assert cache.first_use(k("used"), soon(), now()) is True
    batch = [ReplayClaim(k(n), soon(), now()) for n in ("n1", "used", "n2", "n1")]
    assert cache.first_use_many(batch) == [True, False, True, False]
    assert server.command(b"FLUSHALL") == b"+OK"
    flushed = now()
    older = flushed - timedelta(seconds=3)
    outcomes = cache.first_use_many([ReplayClaim(k("older"), soon(), older), ReplayClaim(k("probe"), soon())])
    assert isinstance(outcomes[0], IssuedBeforeLoss)  # the loss, detected inside the batch, refuses the older grant
    assert outcomes[1] is True  # the probe (no iat) in the same round trip is never refused
    time.sleep(1.1)  # past the loss moment (whole seconds, rounded up)
    outcomes = cache.first_use_many([ReplayClaim(k("fresh"), soon(), now()), ReplayClaim(k("older-2"), soon(), older)])
    assert outcomes[0] is True
    assert isinstance(outcomes[1], IssuedBeforeLoss)


def test_a_batch_against_a_stopped_redis_fails_whole_within_the_timeout(server: RedisServer,
                                                                       cache: RedisReplayCache) -> None:
    _settle(cache)
    server.kill()
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        cache.first_use_many([ReplayClaim(k(f"x{i}"), soon(), now()) for i in range(20)])
    assert time.monotonic() - started < 2.0
