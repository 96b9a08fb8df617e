"""A small threaded TCP proxy on 127.0.0.1 whose link can be black-holed: it then forwards nothing, yet keeps every
connection open and accepts new ones, as a link whose packets vanish does to the ends' applications (the kernels
still acknowledge, so only a client's own deadline notices). restore() forwards again, what was held first."""

from __future__ import annotations

import contextlib
import socket
import threading


class BlackholeProxy:
    """127.0.0.1:<port> -> target; `blackhole()` stops the traffic both ways, `restore()` lets it through again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def blackhole(self) -> None:
        """Stop forwarding (bytes read meanwhile are held, not passed on)."""
        self._flowing.clear()

    def restore(self) -> None:
        """Forward again."""
        self._flowing.set()

    def close(self) -> None:
        """Stop listening and close every connection."""
        self._closed = True
        self._flowing.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for s in self._sockets:
                with contextlib.suppress(OSError):
                    s.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), name="proxy-pump", daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        """Copy src to dst; while black-holed, hold what was read until the link is restored."""
        try:
            while True:
                data = src.recv(65536)
                self._flowing.wait()
                if not data or self._closed:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)
