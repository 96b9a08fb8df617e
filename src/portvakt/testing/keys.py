"""Client keys for test servers: RSA-2048 keys made once per process and handed out again by every new server.

Making an RSA-2048 key takes about 0.1 s. A server hands its n-th client the pool's n-th key, so within one server
every client has its own key (a kid may belong to one client only, docs/protocol.md §3.3) and a fresh server per
test costs no key generation after the first tests.
"""

from __future__ import annotations

import threading

from portvakt.jose import PrivateKeyHandle

_POOL: list[PrivateKeyHandle] = []
_LOCK = threading.Lock()


class KeyDealer:
    """Hands one server's clients distinct keys from the process's pool."""

    def __init__(self) -> None:
        self._next = 0
        self._lock = threading.Lock()

    def deal(self) -> PrivateKeyHandle:
        """The next key this server has not handed out yet."""
        with self._lock:
            n = self._next
            self._next += 1
        with _LOCK:
            while len(_POOL) <= n:
                _POOL.append(PrivateKeyHandle.generate(2048))
            return _POOL[n]
