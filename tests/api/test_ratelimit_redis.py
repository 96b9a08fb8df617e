"""Rate limits shared across nodes through one Redis (docs/security.md, Token flood): two token services on one
Redis share their counts, and a Redis that is down or does not answer leaves each node counting alone."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from portvakt.jose import PrivateKeyHandle
from portvakt.portal.ratelimit import LoginLimiter
from portvakt.storage import redis_ratelimit
from portvakt.storage.redis_ratelimit import CountsUnavailable, RedisRateLimits
from tests.api.test_ratelimit import Registry, make_node, make_registry, retry_after
from tests.redis_server import RedisServer, dead_url


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The module's Redis, emptied for this test."""
    redis_server.client().flushall()
    return redis_server.url


@pytest.fixture
def registry(rsa_keys: list[PrivateKeyHandle]) -> Registry:
    """The registry both nodes of a test serve (one database, as several nodes on PostgreSQL)."""
    return make_registry(rsa_keys[0])


def test_two_nodes_on_one_redis_share_the_client_limit(registry: Registry, redis_url: str) -> None:
    a = make_node(registry, redis_url, per_client_per_minute=4)
    b = make_node(registry, redis_url, per_client_per_minute=4)
    assert [n.token().status_code for n in (a, b, a, b)] == [200] * 4
    assert 9 <= retry_after(a.token()) <= 15
    assert retry_after(b.token(address="198.51.100.9")) > 0
    alone = [make_node(registry, per_client_per_minute=4) for _ in range(2)]
    assert [n.token().status_code for n in (*alone, *alone)] == [200] * 4, "control: without Redis each counts alone"


def test_two_nodes_on_one_redis_share_the_address_limit(registry: Registry, redis_url: str) -> None:
    a = make_node(registry, redis_url, per_address_per_minute=6)
    b = make_node(registry, redis_url, per_address_per_minute=6)
    statuses = [n.post().status_code for n in (a, b, a, b, a, b)]
    assert statuses == [400] * 6
    retry_after(a.post())
    retry_after(b.post())
    assert b.post(address="192.0.2.99").status_code == 400


def test_junk_grants_spread_over_nodes_do_not_lock_the_victim_out(registry: Registry, redis_url: str,
                                                                  rsa_keys: list[PrivateKeyHandle]) -> None:
    a = make_node(registry, redis_url, per_client_per_minute=2)
    b = make_node(registry, redis_url, per_client_per_minute=2)
    for node in (a, b) * 10:
        assert node.post(registry.grant(rsa_keys[1]), address="203.0.113.66").status_code == 400
    assert [a.token().status_code, b.token().status_code] == [200, 200]
    retry_after(a.token())


def test_redis_counts_are_atomic_across_clients(redis_url: str) -> None:
    nodes = [RedisRateLimits(redis_url, timeout=1) for _ in range(2)]
    admitted: list[float] = []
    lock = threading.Lock()

    def ask(counts: RedisRateLimits) -> None:
        wait = counts.admit([("k", 5, 60.0)])
        with lock:
            admitted.append(wait)

    threads = [threading.Thread(target=ask, args=(nodes[i % 2],)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(admitted)[:6] == [0.0] * 5 + [pytest.approx(12.0, abs=0.5)]
    assert nodes[0].admit((), [("k", 5, 60.0)]) == pytest.approx(12.0, abs=0.5), "a check charges nothing"
    nodes[0].charge([("k", 5, 60.0)])
    assert nodes[1].admit((), [("k", 5, 60.0)]) == pytest.approx(24.0, abs=0.5)
    for counts in nodes:
        counts.close()


def test_parallel_logins_on_two_nodes_admit_five(redis_server: RedisServer, redis_url: str) -> None:
    """docs/security.md, Login brute force, across nodes: of 11 attempts at once on two nodes, 5 are let through."""
    limiters = [LoginLimiter(5, 20, 300, now=time.monotonic, shared=RedisRateLimits(redis_url, timeout=1))
                for _ in range(2)]
    waits: list[int] = []
    start = threading.Barrier(11)

    def attempt(i: int) -> None:
        start.wait()
        waits.append(limiters[i % 2].admit("Ida@Vendor.test", "192.0.2.1"))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(11)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert waits.count(0) == 5 and all(290 <= w <= 300 for w in waits if w)
    assert not any(b"ida" in key.lower() for key in redis_server.client().keys("*")), "usernames are hashed"
    limiters[0].unchecked("ida@vendor.test", "192.0.2.1")
    assert limiters[1].admit("ida@vendor.test", "192.0.2.1") == 0, "a taken-back attempt frees its slot everywhere"
    assert limiters[1].retry_after("ida@vendor.test", "192.0.2.2") > 0
    limiters[0].succeeded("ida@vendor.test", "192.0.2.1")
    assert limiters[1].retry_after("ida@vendor.test", "192.0.2.2") == 0, "a success clears the username everywhere"


def test_redis_down_each_node_counts_alone_and_says_so_once(registry: Registry,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    node = make_node(registry, dead_url(), per_client_per_minute=3, per_address_per_minute=1000)
    with caplog.at_level(logging.WARNING, logger="portvakt.ratelimit"):
        assert [node.token().status_code for _ in range(3)] == [200] * 3, "fail open on the shared count"
        retry_after(node.token())
        for _ in range(5):
            assert node.post().status_code == 400
    lines = [r.getMessage() for r in caplog.records if r.name == "portvakt.ratelimit"]
    assert len(lines) == 1 and "did not answer (ConnectionError)" in lines[0], lines


def wait_for_client_charge(server: RedisServer) -> None:
    """Until Redis holds a count that lasts over a second: the client's, at 3 a minute (20 s a slot), charged a moment
    after its token was answered. The address's count, at the default 6,000 a minute, lasts about 10 ms, so it may
    be gone already and is not waited for."""
    deadline = time.monotonic() + 5
    client = server.client()
    while not any(client.pttl(key) > 1000 for key in client.keys("*")):
        assert time.monotonic() < deadline, "the charge never reached Redis"
        time.sleep(0.01)


def test_a_redis_that_does_not_answer_costs_one_timeout_per_interval(
        registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(redis_ratelimit, "RETRY_SECONDS", 2.0)  # the four tokens below fit in it on a loaded host
    server = RedisServer(tmp_path)
    try:
        a = make_node(registry, server.url, per_client_per_minute=3, redis_timeout_seconds=0.2)
        b = make_node(registry, server.url, per_client_per_minute=3, redis_timeout_seconds=0.2)
        assert a.token().status_code == 200
        wait_for_client_charge(server)  # a's client, charged after the answer by a's own thread
        server.pause()
        with caplog.at_level(logging.WARNING, logger="portvakt.ratelimit"):
            started = time.perf_counter()
            assert b.token().status_code == 200
            assert 0.2 <= time.perf_counter() - started < 5, "one socket timeout, then the token"
            assert [b.token().status_code for _ in range(2)] == [200, 200]
            retry_after(b.token())  # b's own count: 3 tokens
            server.resume()
            time.sleep(2.1)
            assert b.post().status_code == 400, "past the interval b asks Redis again"
        lines = [r.getMessage() for r in caplog.records if r.name == "portvakt.ratelimit"]
        assert len(lines) == 2 and "did not answer (TimeoutError)" in lines[0], lines
        assert "answers again" in lines[1]
        assert [a.token().status_code for _ in range(2)] == [200, 200]
        retry_after(a.token())  # shared: a's 3, while b's 3 of the pause were counted by b alone
    finally:
        server.stop()


def test_after_a_timeout_redis_is_not_asked_until_the_interval_is_over(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    try:
        counts = RedisRateLimits(server.url, timeout=0.2)
        assert counts.admit([("k", 5, 60.0)]) == 0.0
        server.pause()
        started = time.perf_counter()
        with pytest.raises(CountsUnavailable, match="TimeoutError"):
            counts.admit([("k", 5, 60.0)])
        assert time.perf_counter() - started >= 0.2
        for _ in range(5):
            with pytest.raises(CountsUnavailable, match="within the last few seconds"):
                counts.admit([("k", 5, 60.0)])
        server.resume()
        with pytest.raises(CountsUnavailable, match="within the last few seconds"):
            counts.charge([("k", 5, 60.0)])
    finally:
        server.stop()


def test_counts_unavailable_is_an_oserror() -> None:
    counts = RedisRateLimits(dead_url(), timeout=0.2)
    with pytest.raises(OSError, match="ConnectionError"):
        counts.admit([("k", 1, 60.0)])
    with pytest.raises(CountsUnavailable, match="within the last few seconds"):
        counts.failure_wait([("k", 1)], 60)


def test_a_batch_of_admits_and_charges_is_one_pipeline_with_each_answer(redis_url: str) -> None:
    nodes = [RedisRateLimits(redis_url, timeout=1) for _ in range(2)]
    limit = ("batch-key", 3, 60.0)
    waits = nodes[0].admit_all([([limit], []), ([limit], []), ([("other", 3, 60.0)], [limit])], [[limit]])
    assert waits == [0.0, 0.0, 0.0]  # the third only checks the key, which had a slot; then the charge takes it
    assert nodes[1].admit([limit]) > 0  # the other node sees all three slots spent
    assert nodes[1].admit_all([]) == []
