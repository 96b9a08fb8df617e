"""Graceful shutdown of a real `portvakt serve` (docs/decisions.md S10): on SIGTERM /readyz answers 503 (draining) at
once while the notice lasts, a request in flight finishes after the server stopped accepting, and the process exits
within PORTVAKT_LIMITS__DRAIN_SECONDS even with a request that never completes."""

from __future__ import annotations

import json
import re
import signal
import socket
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from portvakt.jose import PrivateKeyHandle
from tests.api.test_serve import JWT_BEARER, Server, grant, registry

pytestmark = pytest.mark.slow
__all__ = ["registry"]
DRAIN, NOTICE = 6.0, 2.0
MARGIN = 2.0  # process exit, a shared machine


def _start_request(port: int, body: bytes, hold: int) -> socket.socket:
    """A POST /token whose last `hold` body bytes are not sent yet: a request in flight."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
    head = (f"POST /token HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    sock.sendall(head + body[:-hold])
    return sock


def _response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "closed before a response"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed in the middle of a response"
        rest += chunk
    return int(head.split(b" ", 2)[1]), rest[:length]


def test_sigterm_drains_finishes_in_flight_and_exits_in_time(
        registry: tuple[Path, str, PrivateKeyHandle]) -> None:
    data, client_id, key = registry
    server = Server(data, "--only", "token", env={"PORTVAKT_LIMITS__DRAIN_SECONDS": str(DRAIN),
                                                  "PORTVAKT_LIMITS__DRAIN_NOTICE_SECONDS": str(NOTICE)})
    try:
        assert httpx.get(f"{server.url}readyz", timeout=5).status_code == 200
        body = urlencode({"grant_type": JWT_BEARER, "assertion": grant(server.url, client_id, key)}).encode()
        in_flight = _start_request(server.port, body, hold=10)
        never_done = _start_request(server.port, body, hold=10)
        time.sleep(0.3)
        sent = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)

        ready = httpx.get(f"{server.url}readyz", timeout=5)
        assert ready.status_code == 503, ready.text
        assert ready.json()["draining"] is True
        assert ready.json()["checks"]["draining"] == {"ok": False, "draining": True}
        assert time.monotonic() - sent < 1.0  # at once
        assert httpx.get(f"{server.url}livez", timeout=5).status_code == 200

        time.sleep(max(0.0, sent + NOTICE + 1.0 - time.monotonic()))  # the notice is over: no new connections
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.url}livez", timeout=2)
        in_flight.sendall(body[-10:])
        status, answer = _response(in_flight)
        assert status == 200, answer
        assert json.loads(answer)["token_type"] == "Bearer"

        server.proc.wait(timeout=DRAIN + MARGIN + 5)
        assert time.monotonic() - sent <= DRAIN + MARGIN
        in_flight.close()
        never_done.close()
        log = server.log.read_text()
        assert "draining: /readyz answers 503" in log
    finally:
        if server.proc.poll() is None:
            server.stop()
