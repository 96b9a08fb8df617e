"""argon2id password hashes for people (RFC 9106), implementing the domain's PasswordHasher port."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

#: RFC 9106 §4 second recommended option (64 MiB, t=3, p=4): argon2-cffi's defaults.
DEFAULT_TIME_COST = 3
DEFAULT_MEMORY_COST = 64 * 1024
DEFAULT_PARALLELISM = 4


class VerifierBusy(Exception):
    """As many password checks as allowed are running and queued; answer 429 (docs/security.md, Login flood)."""


class VerificationGate:
    """At most `running` verifications at once and `waiting` more queued; any further one is refused at once,
    so a login storm holds only running + waiting worker threads (docs/security.md, Login flood)."""

    def __init__(self, running: int, waiting: int) -> None:
        if running < 1 or waiting < 0:
            raise ValueError("running must be at least 1 and waiting at least 0")
        self._slots = threading.BoundedSemaphore(running)
        self._limit, self._admitted = running + waiting, 0
        self._lock = threading.Lock()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for a slot if the queue has room; VerifierBusy if it has none."""
        with self._lock:
            if self._admitted >= self._limit:
                raise VerifierBusy()
            self._admitted += 1
        try:
            with self._slots:
                yield
        finally:
            with self._lock:
                self._admitted -= 1


def default_running() -> int:
    """One argon2id verification per two cores (each uses DEFAULT_PARALLELISM lanes and 64 MiB)."""
    return max(1, (os.cpu_count() or 2) // 2)


class Argon2PasswordHasher:
    """argon2id with fixed parameters; hashes are PHC strings that carry their own parameters and salt."""

    def __init__(self, *, time_cost: int = DEFAULT_TIME_COST, memory_cost: int = DEFAULT_MEMORY_COST,
                 parallelism: int = DEFAULT_PARALLELISM, max_running: int | None = None,
                 max_waiting: int | None = None) -> None:
        running = max_running or default_running()
        self._gate = VerificationGate(running, 4 * running if max_waiting is None else max_waiting)
        self._hasher = argon2.PasswordHasher(time_cost=time_cost, memory_cost=memory_cost,
                                             parallelism=parallelism, type=argon2.Type.ID)
        self._dummy: str | None = None
        self._lock = threading.Lock()

    def hash(self, password: str) -> str:
        """A fresh salted argon2id hash."""
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """True on a match, else False (never logs); VerifierBusy when the gate is full (docs/security.md,
        Login flood)."""
        with self._gate.turn():
            return self._verify(password_hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        """The argon2id check itself: a mismatch or a hash argon2 cannot read is False."""
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash's parameters differ from this hasher's (RFC 9106 §4: raise them over time)."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def dummy_hash(self) -> str:
        """A hash of a random secret, made once: an unknown username costs as much as a known one."""
        with self._lock:
            if self._dummy is None:
                self._dummy = self._hasher.hash(secrets.token_urlsafe(32))
            return self._dummy
