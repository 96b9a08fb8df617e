"""docs/security.md, Store outage and Replay after a store crash: `portvakt serve` on a Redis replay store that stops
answering (SIGSTOP) or crashes and comes back empty (SIGKILL).

A stopped Redis makes /token answer 503 MP-503 with Retry-After within about a second, never a hang, while /healthz
stays fast; once it answers again tokens are issued again. After a crash and an empty restart, grants used before it
are refused MP-012 (saying why), by every worker, and grants made after it get their tokens.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from portvakt.jose import PrivateKeyHandle
from tests.api.test_serve import Server, grant, post
from tests.redis_server import RedisServer

from .deploy import seed_registry

#: Real processes, and latency bounds: run alone, like tests/security/test_store_outage.py (docs/testing.md).
pytestmark = [pytest.mark.slow, pytest.mark.timing]
SOCKET_TIMEOUT = 0.5  # the default store.redis_socket_timeout_seconds
MARGIN = 0.5  # the worker thread, the HTTP round trip and a shared machine


@pytest.fixture
def registry(tmp_path: Path, rsa_keys: list[PrivateKeyHandle]) -> tuple[Path, str, PrivateKeyHandle]:
    """A SQLite registry with one client (signing with rsa_keys[0]) in a data dir of this test's own."""
    data = tmp_path / "var"
    return data, seed_registry(data, rsa_keys[0]), rsa_keys[0]


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    proc = RedisServer(tmp_path / "redis")
    yield proc
    proc.stop()


def _serve(data: Path, redis_url: str, *args: str) -> Server:
    """A server on the Redis replay store, past the loss window a fresh Redis opens (its first use can't be told from
    a loss): /readyz's probe makes that first use, and grants signed a second later are issued after it."""
    server = Server(data, *args, env={"PORTVAKT_REPLAY_STORE": "redis", "PORTVAKT_REDIS_URL": redis_url})
    assert httpx.get(f"{server.url}readyz", timeout=10).status_code == 200
    time.sleep(1.1)
    return server


def _timed(assertion: str, url: str) -> tuple[float, httpx.Response]:
    start = time.monotonic()
    r = post(url, assertion)
    return time.monotonic() - start, r


def test_a_stopped_redis_answers_503_fast_never_stalls_and_recovers(
        registry: tuple[Path, str, PrivateKeyHandle], redis_server: RedisServer) -> None:
    data, client_id, key = registry
    server = _serve(data, redis_server.url)
    try:
        assert post(server.url, grant(server.url, client_id, key)).status_code == 200
        signed = [grant(server.url, client_id, key) for _ in range(6)]  # signed before: the test's CPU stays out
        redis_server.pause()
        try:
            answers = [_timed(g, server.url) for g in signed]
            health = []
            with httpx.Client(timeout=10) as http:
                for _ in range(10):
                    start = time.monotonic()
                    assert http.get(f"{server.url}healthz").status_code == 200
                    health.append(time.monotonic() - start)
        finally:
            redis_server.resume()
        for elapsed, r in answers:
            assert r.status_code == 503, r.text
            body = r.json()
            assert body["error"] == "temporarily_unavailable" and body["error_uri"].endswith("/MP-503")
            assert r.headers["retry-after"]
            assert elapsed < SOCKET_TIMEOUT + MARGIN, f"/token took {elapsed:.2f} s"
        assert max(health) < 0.1, f"/healthz took up to {max(health):.3f} s"
        r = post(server.url, grant(server.url, client_id, key))
        assert r.status_code == 200, r.text
    finally:
        server.stop()


def test_grants_used_before_a_crash_and_empty_restart_are_refused_new_ones_work(
        registry: tuple[Path, str, PrivateKeyHandle], redis_server: RedisServer) -> None:
    data, client_id, key = registry
    server = _serve(data, redis_server.url, "--workers", "2")
    try:
        used = [grant(server.url, client_id, key) for _ in range(6)]
        for g in used:
            r = post(server.url, g)
            assert r.status_code == 200, r.text
        redis_server.kill()  # kill -9: whatever Redis held is gone
        redis_server.restart_empty()
        for g in used:  # spread over both workers: each refuses them
            r = post(server.url, g)
            assert r.status_code == 400, r.text
            body = r.json()
            assert body["error"] == "invalid_grant" and body["error_uri"].endswith("/MP-012")
            assert "the replay store lost its data; grants issued before " in body["error_description"]
            assert " are refused until " in body["error_description"]
        time.sleep(1.1)  # grants made from the next second on were not issued before the loss
        for _ in range(4):
            g = grant(server.url, client_id, key)
            r = post(server.url, g)
            assert r.status_code == 200, r.text
            again = post(server.url, g)
            assert again.status_code == 400 and again.json()["error_uri"].endswith("/MP-012")
    finally:
        server.stop()
