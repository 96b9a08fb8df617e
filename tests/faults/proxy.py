"""A small threaded TCP proxy on 127.0.0.1 in front of one upstream port, whose link can be cut or black-holed.

`cut()` closes every connection and the listening socket, so a new connection is refused; `blackhole()` keeps the
sockets open but forwards nothing (new connections are accepted and held), as a network that drops packets;
`heal()` forwards again (after a cut, on the same port).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from enum import StrEnum

BUFFER = 65536
TICK = 0.05


class Link(StrEnum):
    """The state of the proxied link."""

    OPEN = "open"
    CUT = "cut"
    BLACKHOLE = "blackhole"


class LinkProxy:
    """Forwards 127.0.0.1:<port> to 127.0.0.1:<upstream>; one thread accepts, one thread per connection pumps."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._state = Link.OPEN
        self._changed = threading.Condition()
        self._closed = False
        self._pairs: set[tuple[socket.socket, socket.socket | None]] = set()
        self._listener: socket.socket | None = self._bind(0)
        self.port = int(self._listener.getsockname()[1])
        self._listening = threading.Event()
        self._listening.set()
        self._acceptor = threading.Thread(target=self._accept_loop, name="faults-proxy-accept", daemon=True)
        self._acceptor.start()

    @property
    def state(self) -> Link:
        """open, cut or blackhole."""
        return self._state

    def cut(self) -> None:
        """Close every connection and stop listening: the peer sees its connections drop and new ones refused."""
        with self._changed:
            self._state = Link.CUT
            self._changed.notify_all()
            pairs = list(self._pairs)
        for client, upstream in pairs:  # their pump threads close them
            _shutdown(client)
            if upstream is not None:
                _shutdown(upstream)
        deadline = time.monotonic() + 5
        while self._listening.is_set() and time.monotonic() < deadline:
            time.sleep(TICK / 5)
        assert not self._listening.is_set(), "the proxy did not stop listening"

    def blackhole(self) -> None:
        """Keep every socket open and accept new connections, but forward no byte in either direction."""
        with self._changed:
            self._state = Link.BLACKHOLE
            self._changed.notify_all()

    def heal(self) -> None:
        """Forward again; after a cut, listen again on the same port."""
        with self._changed:
            self._state = Link.OPEN
            self._changed.notify_all()
        deadline = time.monotonic() + 5
        while not self._listening.is_set() and time.monotonic() < deadline:
            time.sleep(TICK / 5)
        assert self._listening.is_set(), f"the proxy could not listen on port {self.port} again"

    def close(self) -> None:
        """Stop the proxy and drop every connection."""
        with self._changed:
            self._closed = True
            self._state = Link.CUT
            self._changed.notify_all()
            pairs = list(self._pairs)
        for client, upstream in pairs:
            _shutdown(client)
            if upstream is not None:
                _shutdown(upstream)
        self._acceptor.join(timeout=5)

    def _bind(self, port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        listener.settimeout(TICK)
        return listener

    def _accept_loop(self) -> None:
        """The listener's only owner: closes it on a cut, binds it again on a heal."""
        while not self._closed:
            if self._state is Link.CUT:
                if self._listener is not None:
                    self._listener.close()
                    self._listener = None
                    self._listening.clear()
                with self._changed:
                    self._changed.wait(TICK)
                continue
            if self._listener is None:
                try:
                    self._listener = self._bind(self.port)
                except OSError:
                    time.sleep(TICK)
                    continue
                self._listening.set()
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(client,), name="faults-proxy-pump", daemon=True).start()
        if self._listener is not None:
            self._listener.close()
            self._listening.clear()

    def _wait_while_blackholed(self) -> bool:
        """Block while the link is black-holed; False once it is cut or the proxy closed."""
        with self._changed:
            while self._state is Link.BLACKHOLE and not self._closed:
                self._changed.wait(TICK)
            return self._state is Link.OPEN and not self._closed

    def _serve(self, client: socket.socket) -> None:
        """Hold a new connection while black-holed, then connect upstream and pump bytes both ways."""
        pair: tuple[socket.socket, socket.socket | None] = (client, None)
        with self._changed:
            self._pairs.add(pair)
        upstream: socket.socket | None = None
        try:
            if not self._wait_while_blackholed():
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            upstream.settimeout(None)
            client.settimeout(None)
            for end in (client, upstream):  # a proxy forwards each chunk as it comes: Nagle would hold the next
                end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._changed:
                self._pairs.discard(pair)
                pair = (client, upstream)
                self._pairs.add(pair)
                if self._state is Link.CUT:
                    return
            self._pump(client, upstream)
        except (OSError, ValueError):  # a socket shut down or closed under us by a cut
            return
        finally:
            with self._changed:
                self._pairs.discard(pair)
            _close(client)
            if upstream is not None:
                _close(upstream)

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        other = {client: upstream, upstream: client}
        while True:
            if self._state is not Link.OPEN and not self._wait_while_blackholed():
                return
            readable, _, _ = select.select([client, upstream], [], [], TICK)
            if self._state is not Link.OPEN:
                continue  # black-holed meanwhile: what arrived stays unread
            for sock in readable:
                data = sock.recv(BUFFER)
                if not data:
                    return
                other[sock].sendall(data)


def _shutdown(sock: socket.socket) -> None:
    """End both directions at once; the pump thread that owns the socket sees it and closes it."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _close(sock: socket.socket) -> None:
    _shutdown(sock)
    with contextlib.suppress(OSError):
        sock.close()
