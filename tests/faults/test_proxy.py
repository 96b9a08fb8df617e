"""The fault suite's link proxy: it forwards, a cut drops connections and refuses new ones, a black hole holds bytes
back without closing anything, and a heal forwards again (on the same port)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from tests.faults.proxy import Link, LinkProxy

pytestmark = pytest.mark.faults


@pytest.fixture
def echo() -> Iterator[int]:
    """An upper-casing echo server on 127.0.0.1; yields its port."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.1)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            while data := conn.recv(1024):
                conn.sendall(data.upper())

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    yield int(server.getsockname()[1])
    stop.set()
    acceptor.join()
    server.close()


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=2)


def _ask(conn: socket.socket, text: bytes) -> bytes:
    conn.sendall(text)
    return conn.recv(1024)


def test_it_forwards_cuts_and_heals_on_the_same_port(echo: int) -> None:
    proxy = LinkProxy(echo)
    try:
        first = _connect(proxy.port)
        assert _ask(first, b"hello") == b"HELLO"
        proxy.cut()
        assert proxy.state is Link.CUT
        assert first.recv(1024) == b""  # the open connection is closed
        with pytest.raises(ConnectionRefusedError):
            _connect(proxy.port)
        proxy.heal()
        second = _connect(proxy.port)
        assert _ask(second, b"again") == b"AGAIN"
        first.close()
        second.close()
    finally:
        proxy.close()


def test_a_black_hole_holds_bytes_back_without_closing_and_releases_them_on_heal(echo: int) -> None:
    proxy = LinkProxy(echo)
    try:
        old = _connect(proxy.port)
        assert _ask(old, b"before") == b"BEFORE"
        proxy.blackhole()
        old.settimeout(0.5)
        with pytest.raises(TimeoutError):
            _ask(old, b"held")
        new = _connect(proxy.port)  # accepted, never answered
        new.settimeout(0.5)
        with pytest.raises(TimeoutError):
            _ask(new, b"new")
        proxy.heal()
        old.settimeout(2)
        new.settimeout(2)
        assert old.recv(1024) == b"HELD"
        assert new.recv(1024) == b"NEW"
        old.close()
        new.close()
    finally:
        proxy.close()
