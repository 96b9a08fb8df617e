"""docs/security.md, Store outage: `portvakt serve` on PostgreSQL behind a link that is black-holed (a small proxy that
stops forwarding and keeps every connection open, so no TCP error ever comes).

Meanwhile /token answers 503 temporarily_unavailable with Retry-After within the statement and connect bounds (a
statement's client-side deadline, then a new connection's connect timeout), never a hang; /healthz and /livez stay
fast; and once the link forwards again, tokens are issued again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from portvakt.jose import PrivateKeyHandle
from tests.api.test_serve import Server, grant, post

from .deploy import seed_registry
from .tcp_proxy import BlackholeProxy

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timing]
BUSY = 2.0  # limits.store_busy_seconds: the statement timeout and lock timeout by default
DEADLINE = BUSY + 0.5  # the client's own bound on any answer (engine.DEADLINE_MARGIN)
CONNECT = 2.0  # store.connect_timeout_seconds
#: The longest a store call may wait: a pooled connection's answer (its deadline), then a new connection (the pool
#: opens one when its ping found the old one dead, the replay store on its next statement).
BOUND = DEADLINE + CONNECT
MARGIN = 1.0  # the worker thread, the HTTP round trip and a shared machine


@pytest.fixture
def proxied(fresh_pg_url: str) -> Iterator[tuple[str, str, BlackholeProxy]]:
    """An empty database of this test's own: its direct URL, its URL through a black-hole proxy, and the proxy."""
    direct = sa.make_url(fresh_pg_url)
    proxy = BlackholeProxy(direct.host or "127.0.0.1", direct.port or 5432)
    through = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    yield fresh_pg_url, through, proxy
    proxy.close()


def _poll(url: str, path: str, stop: threading.Event, took: list[float]) -> None:
    with httpx.Client(timeout=30) as http:
        while not stop.is_set():
            start = time.monotonic()
            assert http.get(f"{url}{path}").status_code == 200
            took.append(time.monotonic() - start)
            time.sleep(0.1)


def test_a_black_holed_database_answers_503_within_the_bounds_and_recovers(
        proxied: tuple[str, str, BlackholeProxy], rsa_keys: list[PrivateKeyHandle], tmp_path: Path) -> None:
    direct, through, proxy = proxied
    data = tmp_path / "var"
    client_id = seed_registry(data, rsa_keys[0], database_url=direct)
    server = Server(data, env={"PORTVAKT_DATABASE_URL": through})
    try:
        assert post(server.url, grant(server.url, client_id, rsa_keys[0])).status_code == 200
        signed = [grant(server.url, client_id, rsa_keys[0]) for _ in range(3)]
        stop = threading.Event()
        health: list[float] = []
        live: list[float] = []
        pollers = [threading.Thread(target=_poll, args=(server.url, path, stop, took))
                   for path, took in (("healthz", health), ("livez", live))]
        proxy.blackhole()
        try:
            for p in pollers:
                p.start()
            answers = []
            for g in signed:
                start = time.monotonic()
                r = post(server.url, g)
                answers.append((time.monotonic() - start, r))
            stop.set()
            for p in pollers:
                p.join()
        finally:
            proxy.restore()
        for i, (elapsed, r) in enumerate(answers):
            assert r.status_code == 503, r.text
            body = r.json()
            assert body["error"] == "temporarily_unavailable" and r.headers["retry-after"]
            # the replay insert's deadline first; later the registry may also pass its staleness bound (MP-504)
            codes = ("MP-503",) if i == 0 else ("MP-503", "MP-504")
            assert body["error_uri"].rsplit("/", 1)[1] in codes, body
            assert elapsed < BOUND + MARGIN, f"/token took {elapsed:.2f} s"
        assert health and max(health) < 0.1, f"/healthz took up to {max(health):.3f} s"
        assert live and max(live) < 0.1, f"/livez took up to {max(live):.3f} s"
        deadline = time.monotonic() + 15
        while True:  # the registry and the replay store reconnect on their next use
            r = post(server.url, grant(server.url, client_id, rsa_keys[0]))
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        assert r.status_code == 200, r.text
    finally:
        server.stop()
