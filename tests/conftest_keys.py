"""Pytest plugin: the server's signing keys come from a pool of ready RSA keys (`pytest_plugins` in conftest.py).

Every in-process server a test builds (the `world` fixture, the portal stacks, …) makes an active and a next
signing key when its store has none (`portvakt.oauth.keyring.ensure_signing_keys`). Making an RSA-2048 key takes
about 0.1 s, twice per server, for some 1,500 tests: most of the fast suite's time. Here the keyring's
`PrivateKeyHandle.generate` hands out real keys made earlier in this worker instead: within one test every key
it hands out is a different one (the n-th key of a test is the pool's n-th, made when first needed), so a test
that rotates or compares keys sees distinct kids as before. Everything else (states, encryption with the KEK,
rotation, the JWK set) runs unchanged, and processes started by tests (`portvakt serve`, the CLI) are not
touched. Fixtures of a wider scope (a module's live server) are set up before this one and make their own keys.

Decrypting a stored key (`PrivateKeyHandle.from_pem` with the KEK) costs about 0.06 s too, once per server: a
pooled key encrypts to the same PEM each time, and the keyring's `from_pem` remembers what it decrypted.
`PORTVAKT_TEST_FRESH_KEYS=1` turns all of this off.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from portvakt.jose import PrivateKeyHandle


class _PooledHandle(PrivateKeyHandle):
    """A real key whose encrypted PEM is made once per password."""

    __slots__ = ("_pems",)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._pems: dict[bytes | None, bytes] = {}

    def to_pem(self, password: bytes | None = None) -> bytes:
        if password not in self._pems:
            self._pems[password] = super().to_pem(password)
        return self._pems[password]


_POOL: dict[int, list[PrivateKeyHandle]] = {}
_DECRYPTED: dict[tuple[bytes, bytes | None], PrivateKeyHandle] = {}


class _PooledKeys:
    """Stands in for PrivateKeyHandle inside portvakt.oauth.keyring, for one test."""

    def __init__(self) -> None:
        self._handed: dict[int, int] = {}

    def generate(self, bits: int = 2048) -> PrivateKeyHandle:
        pool = _POOL.setdefault(bits, [])
        n = self._handed.get(bits, 0)
        self._handed[bits] = n + 1
        if n == len(pool):
            pool.append(_PooledHandle.generate(bits))
        return pool[n]

    @staticmethod
    def from_pem(data: bytes, password: bytes | None = None) -> PrivateKeyHandle:
        if (data, password) not in _DECRYPTED:
            _DECRYPTED[data, password] = PrivateKeyHandle.from_pem(data, password)
        return _DECRYPTED[data, password]


@pytest.fixture(autouse=True)
def _pooled_signing_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    if os.environ.get("PORTVAKT_TEST_FRESH_KEYS") != "1":
        monkeypatch.setattr("portvakt.oauth.keyring.PrivateKeyHandle", _PooledKeys())
