"""The Altinn side's own signing keys: the key its token exchange signs with, and the key set it publishes
(docs/protocol.md §6.7).

They live in the store's AltinnKeyRepository, apart from the token service's keys but in the same form (the private
half encrypted under the key-encryption key, decision K3), with the same lifecycle (oauth.keyring: an active and a
published next key; a rotation retires the active one while the tokens it signed can still be checked).

    keys = AltinnKeys(store, kek, clock)          # nothing is made until the first exchange or key-set request
    keys.signer().sign(claims)
    keys.jwks_json                                 # the JWK Set at <issuer>.well-known/openid-configuration/jwks
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from portvakt.domain.changes import ALTINN_KEY_KIND
from portvakt.domain.models import SigningKey
from portvakt.domain.ports import Clock, Store
from portvakt.jose import Signer
from portvakt.oauth.keyring import Keyring, KeyTable, NoActiveSigningKey, ensure_signing_keys, rotate_signing_keys

__all__ = ["ALTINN_KEYS", "OPENID_PATH", "RECHECK_SECONDS", "AltinnKeys", "altinn_issuer", "ensure_altinn_keys",
           "retire_seconds", "rotate_altinn_keys"]

#: The Altinn side's keys in the store (AltinnKeyRepository), under their own change-feed kind.
ALTINN_KEYS = KeyTable(ALTINN_KEY_KIND, lambda uow: uow.list_altinn_keys(),
                       lambda uow, key: uow.put_altinn_key(key), lambda uow, kid: uow.delete_altinn_key(kid))
#: Where Altinn 3 serves its OpenID metadata and keys, below the Altinn side's base URL (docs/protocol.md §6.7).
OPENID_PATH = "authentication/api/v1/openid/"
#: How often a process re-reads the keys by itself (the Altinn side alone reads no change feed).
RECHECK_SECONDS = 60.0


def altinn_issuer(base_url: str) -> str:
    """docs/protocol.md §6.7: the issuer of the exchange's tokens, `<base URL>authentication/api/v1/openid/`."""
    return base_url.rstrip("/") + "/" + OPENID_PATH


def retire_seconds(token_seconds: int, recheck_seconds: float = RECHECK_SECONDS) -> int:
    """How long a retired key stays published: every token it signed must still verify, including those another
    process signed with it before it re-read the keys (docs/protocol.md §6.7)."""
    return int(token_seconds + recheck_seconds) + 1


def ensure_altinn_keys(store: Store, kek: bytes, bits: int, now: datetime) -> bool:
    """An active and a next key when there are none, in one transaction (two nodes racing make one pair)."""
    return ensure_signing_keys(store, kek, bits, now, ALTINN_KEYS)


def rotate_altinn_keys(store: Store, kek: bytes, bits: int, now: datetime, keep_seconds: int) -> SigningKey:
    """Promote the published next key, retire the active one for `keep_seconds` (retire_seconds), publish a new
    next; returns the new active key."""
    return rotate_signing_keys(store, kek, bits, now, keep_seconds, ALTINN_KEYS)


class AltinnKeys:
    """The Altinn side's keyring: made on first need, re-read on a change-feed entry (on_change) and at least every
    `recheck_seconds` (a rotation elsewhere is seen without a change feed)."""

    def __init__(self, store: Store, kek: bytes, clock: Clock, *, bits: int = 2048,
                 recheck_seconds: float = RECHECK_SECONDS, monotonic: Callable[[], float] = time.monotonic) -> None:
        if recheck_seconds <= 0:
            raise ValueError("recheck_seconds must be above 0")
        self._store = store
        self._kek = kek
        self._clock = clock
        self._bits = bits
        self._recheck = float(recheck_seconds)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._read_at = monotonic()
        self._keyring = Keyring(store, kek, clock, kind=ALTINN_KEY_KIND, read=self._read)

    def signer(self) -> Signer:
        """The Signer of the active key; the keys are made first if there are none."""
        self._fresh()
        signer = self._keyring.signer
        if signer is None:
            with self._lock:
                ensure_altinn_keys(self._store, self._kek, self._bits, self._clock.now())
                self._reload()
            signer = self._keyring.signer
        if signer is None:  # pragma: no cover - ensure_altinn_keys leaves an active key
            raise NoActiveSigningKey("the Altinn side has no active signing key")
        return signer

    @property
    def jwks_json(self) -> bytes:
        """The published keys (active, next, retired) as a JWK Set (RFC 7517 §5); made first if there are none."""
        self.signer()
        return self._keyring.jwks_json

    def on_change(self, kind: str, key: str) -> None:
        """Change-feed listener: re-read the keys when one of them changed."""
        if kind == ALTINN_KEY_KIND:
            self._reload()

    def reload(self) -> None:
        """Re-read the keys now."""
        self._reload()

    def _fresh(self) -> None:
        """Re-read the keys when the last read is older than recheck_seconds."""
        if self._monotonic() - self._read_at >= self._recheck:
            self._reload()

    def _reload(self) -> None:
        self._read_at = self._monotonic()
        self._keyring.reload()

    def _read(self) -> Sequence[SigningKey]:
        """The keys, from a read-only unit of work."""
        with self._store.read() as uow:
            return uow.list_altinn_keys()
