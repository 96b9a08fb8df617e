"""argon2id password hashes for people (RFC 9106), implementing the domain's PasswordHasher port."""

from __future__ import annotations

import secrets
import threading

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

#: RFC 9106 §4 second recommended option (64 MiB, t=3, p=4): argon2-cffi's defaults.
DEFAULT_TIME_COST = 3
DEFAULT_MEMORY_COST = 64 * 1024
DEFAULT_PARALLELISM = 4


class Argon2PasswordHasher:
    """argon2id with fixed parameters; hashes are PHC strings that carry their own parameters and salt."""

    def __init__(self, *, time_cost: int = DEFAULT_TIME_COST, memory_cost: int = DEFAULT_MEMORY_COST,
                 parallelism: int = DEFAULT_PARALLELISM) -> None:
        self._hasher = argon2.PasswordHasher(time_cost=time_cost, memory_cost=memory_cost,
                                             parallelism=parallelism, type=argon2.Type.ID)
        self._dummy: str | None = None
        self._lock = threading.Lock()

    def hash(self, password: str) -> str:
        """A fresh salted argon2id hash."""
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """True on a match; a mismatch or a hash argon2 cannot read is False (never raises, never logs)."""
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
