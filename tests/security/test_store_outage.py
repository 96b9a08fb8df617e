"""docs/security.md, Store outage: a locked database makes requests fail fast with 503, never stalls the server.

Another process holds SQLite's write lock for 10 s. Meanwhile /healthz answers within 100 ms, every /token
(each a fresh grant, so its replay entry must be written) answers 503 temporarily_unavailable with MP-503 and
Retry-After within the busy timeout, and an /api/v1 write answers a 503 problem with Retry-After and a trace
id. A grant of a client not yet in the cache still gets its true answer at once: the cache reads in a read-only
transaction, which a writer's lock does not block.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from portvakt.jose import PrivateKeyHandle, Signer
from tests.api.test_serve import Server, cli, grant, post, registry

#: Timing-sensitive: under pytest-xdist these run one after another on one worker (docs/testing.md).
pytestmark = [pytest.mark.slow, pytest.mark.timing]
__all__ = ["registry"]
OPERATOR = "991825827"
BUSY = 2.0  # the default limits.store_busy_seconds
MARGIN = 1.0  # thread hand-off, the HTTP round trip and a shared machine
HOLD = 10.0
PER_THREAD = 40  # more than one thread can send in the window
PACE = 0.05  # between the fast refusals of an unknown client

LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def _admin_client(data: Path, key: PrivateKeyHandle, tmp_path: Path) -> str:
    """A client of the operator with idporten:dcr.write (made with the CLI before the server starts)."""
    jwk = tmp_path / "admin.jwk.json"
    jwk.write_text(json.dumps(key.public_jwk))
    out = cli(data, "client", "add", "--org", OPERATOR, "--name", "admin", "--scope", "idporten:dcr.write",
              "--public-key", str(jwk))
    return str(json.loads(out)["client_id"])


def _admin_token(url: str, client_id: str, key: PrivateKeyHandle) -> str:
    """An access token with idporten:dcr.write, fetched before the lock."""
    now = int(time.time())
    assertion = Signer(key).sign({"aud": url, "iss": client_id, "scope": "idporten:dcr.write", "iat": now,
                                  "exp": now + 60, "jti": str(uuid.uuid4())})
    r = post(url, assertion)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _hold_lock(db: Path) -> subprocess.Popen[str]:
    """A process that holds the database's write lock for HOLD seconds (started once it holds it)."""
    proc = subprocess.Popen([sys.executable, "-c", LOCKER, str(db), str(HOLD)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def _timed(fn: object, *args: object) -> tuple[float, httpx.Response]:
    start = time.monotonic()
    r = fn(*args)  # type: ignore[operator]
    return time.monotonic() - start, r


def test_a_locked_store_answers_503_fast_and_never_stalls_the_server(
        registry: tuple[Path, str, PrivateKeyHandle], rsa_keys: list[PrivateKeyHandle], tmp_path: Path) -> None:
    data, client_id, key = registry
    admin_id = _admin_client(data, rsa_keys[1], tmp_path)
    server = Server(data)
    try:
        assert post(server.url, grant(server.url, client_id, key)).status_code == 200  # caches warm
        bearer = _admin_token(server.url, admin_id, rsa_keys[1])
        locker = _hold_lock(data / "portvakt.db")
        try:
            _check_window(server.url, client_id, key, bearer, time.monotonic() + HOLD - BUSY - MARGIN)
        finally:
            locker.wait(timeout=HOLD + 10)
        assert post(server.url, grant(server.url, client_id, key)).status_code == 200  # and it recovers
        page = httpx.get(f"{server.url}errors/MP-503?lang=en", timeout=10)
        assert page.status_code == 200 and "Registry unavailable" in page.text
    finally:
        server.stop()


def _check_window(url: str, client_id: str, key: PrivateKeyHandle, bearer: str, until: float) -> None:
    """While the lock is held: /token in 3 threads, an /api/v1 write, and /healthz polled throughout."""
    answers: list[tuple[float, httpx.Response]] = []
    unknown: list[tuple[float, httpx.Response]] = []
    stranger = PrivateKeyHandle.generate(2048)

    # Signed before the window, and the fast refusals paced: the test's own CPU must not be what /healthz measures.
    signed = {False: [grant(url, client_id, key) for _ in range(2 * PER_THREAD)],
              True: [grant(url, "not-a-cached-client", stranger) for _ in range(PER_THREAD)]}

    def tokens(uncached: bool) -> None:
        pool = signed[uncached]
        while time.monotonic() < until and pool:
            if uncached:
                unknown.append(_timed(post, url, pool.pop()))
                time.sleep(PACE)
            else:
                answers.append(_timed(post, url, pool.pop()))

    workers = [threading.Thread(target=tokens, args=(i == 2,)) for i in range(3)]
    for w in workers:
        w.start()
    health = _poll_health(url, until)
    api = _timed(lambda: httpx.post(f"{url}api/v1/clients", json={"client_name": "x", "client_orgno": OPERATOR},
                                    headers={"authorization": f"Bearer {bearer}"}, timeout=30))
    for w in workers:
        w.join()
    assert max(health) < 0.1, f"/healthz took up to {max(health):.3f} s"
    assert len(answers) >= 3
    for elapsed, r in answers:
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "temporarily_unavailable" and r.json()["error_uri"].endswith("/MP-503")
        assert "trace_id" in r.json()["error_description"] and r.headers["retry-after"]
        assert elapsed < BUSY + MARGIN, f"/token took {elapsed:.2f} s"
    assert unknown
    for elapsed, r in unknown:
        assert r.status_code == 400 and r.json()["error_uri"].endswith("/MP-100"), r.text
        assert elapsed < MARGIN, f"an uncached client's refusal took {elapsed:.2f} s"
    elapsed, r = api
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/problem+json" and r.headers["retry-after"]
    assert r.json()["type"] == "/problems/unavailable" and len(r.json()["trace_id"]) == 32
    assert elapsed < BUSY + MARGIN, f"/api/v1 took {elapsed:.2f} s"


def _poll_health(url: str, until: float) -> list[float]:
    """/healthz every 100 ms until `until`, on one kept-alive connection; the latencies."""
    took: list[float] = []
    with httpx.Client(timeout=30) as http:
        while time.monotonic() < until:
            elapsed, r = _timed(http.get, f"{url}healthz")
            assert r.status_code == 200
            took.append(elapsed)
            time.sleep(0.1)
    return took
