"""docs/security.md, Resource exhaustion: no endpoint reads more than limits.max_body_bytes of a request body.

A real `portvakt serve --demo` process is sent 100 MB bodies, both with a declared Content-Length and
chunked, to /token, /api/v1, the Altinn side and the portal, without a token; every one is answered 413
before the body is read, and the server's peak memory grows by less than 20 MB.
"""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.test_serve import Server

#: Timing-sensitive: under pytest-xdist these run one after another on one worker (docs/testing.md).
pytestmark = [pytest.mark.slow, pytest.mark.timing]
BODY = 100 * 1024 * 1024
CHUNK = b"a" * (64 * 1024)
PATHS = [
    ("/api/v1/clients", "application/json"),
    ("/api/v1/scopes", "application/json"),
    ("/maskinporten-api/delegationSchemes", "application/json"),
    ("/accessmanagement/api/v1/portal/login", "application/json"),
    ("/portal/login", "application/x-www-form-urlencoded"),
    ("/token", "application/x-www-form-urlencoded"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One demo server for the whole module."""
    srv = Server(tmp_path_factory.mktemp("body") / "var", "--demo", ready="healthz")
    try:
        yield srv
    finally:
        srv.stop()


def _status(pid: int, field: str) -> int:
    """A memory figure of the process in kB (/proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def _reset_peak(pid: int) -> None:
    """Start VmHWM afresh at the current RSS (Linux clear_refs 5), so startup's peak does not count."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _send(port: int, path: str, content_type: str, *, chunked: bool) -> tuple[int, dict[str, str], bytes]:
    """POST up to 100 MB, a chunk at a time, stopping as soon as the server answers; returns its answer."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {BODY}"
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n{framing}\r\n\r\n"
    frame = b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK) if chunked else CHUNK
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        for _ in range(BODY // len(CHUNK)):
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                break
        return _read_response(sock)


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one HTTP/1.1 response with a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        assert more, f"connection closed before a response: {data!r}"
        data += more
    raw_head, body = data.split(b"\r\n\r\n", 1)
    lines = raw_head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(headers.get("content-length", "0")):
        more = sock.recv(65536)
        if not more:
            break
        body += more
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_100_mb_body_is_refused_413_and_memory_stays_flat(server: Server, chunked: bool) -> None:
    pid = server.proc.pid
    _reset_peak(pid)
    before = _status(pid, "VmRSS")
    for path, content_type in PATHS:
        status, headers, body = _send(server.port, path, content_type, chunked=chunked)
        assert status == 413, (path, status, body[:300])
        doc = json.loads(body)
        if path == "/token":
            assert doc["error"] == "invalid_request", doc
            assert doc["error_uri"].endswith("/errors/MP-011"), doc
        else:
            assert headers["content-type"] == "application/problem+json", (path, headers)
            assert doc["type"] == "/problems/too-large" and doc["status"] == 413, doc
    grown = _status(pid, "VmHWM") - before
    assert grown < 20 * 1024, f"peak RSS grew by {grown} kB"


def test_a_body_under_the_limit_still_reaches_the_endpoint(server: Server) -> None:
    status, _, body = _send_small(server.port, "/api/v1/clients", b"{}")
    assert status == 401, body


def _send_small(port: int, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """POST a small JSON body."""
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode() + body)
        return _read_response(sock)
