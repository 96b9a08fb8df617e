"""The server's signing keys: the active Signer and the published JWK set (docs/protocol.md §2.1, §2.5).

Lifecycle: a key is published as `next` before it signs anything; `rotate` makes it `active` and
retires the old one, which stays published until every token it signed has expired.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from portvakt.domain.changes import SIGNING_KEY_KIND
from portvakt.domain.models import SigningKey, SigningKeyState
from portvakt.domain.ports import Clock, Store, TokenStore, UnitOfWork
from portvakt.jose import PrivateKeyHandle, Signer

from .guarded_cache import GuardedCache


class NoActiveSigningKey(RuntimeError):
    """The store holds no active signing key: run `portvakt init` (or `keys rotate`)."""


@dataclass(frozen=True, slots=True)
class KeyTable:
    """Where one set of signing keys is kept, and the change-feed kind that names its changes: the token service's
    (SIGNING_KEYS) or the Altinn side's own (portvakt.altinn.keys); both share this lifecycle."""

    kind: str
    list_keys: Callable[[UnitOfWork], Sequence[SigningKey]]
    put_key: Callable[[UnitOfWork, SigningKey], None]
    delete_key: Callable[[UnitOfWork, str], None]


#: The token service's signing keys (docs/protocol.md §2.1, §2.5).
SIGNING_KEYS = KeyTable(SIGNING_KEY_KIND, lambda uow: uow.list_signing_keys(),
                        lambda uow, key: uow.put_signing_key(key), lambda uow, kid: uow.delete_signing_key(kid))


def _new_key(kek: bytes, bits: int, state: SigningKeyState, now: datetime) -> SigningKey:
    handle = PrivateKeyHandle.generate(bits)
    return SigningKey(kid=handle.kid, public_jwk=handle.public_jwk, encrypted_private_key=handle.to_pem(kek),
                      state=state, created=now, activated=now if state is SigningKeyState.ACTIVE else None)


def ensure_signing_keys(store: Store, kek: bytes, bits: int, now: datetime, table: KeyTable = SIGNING_KEYS) -> bool:
    """Create an active and a next key when the table has none, in one transaction (two processes racing make one
    pair: units of work run one at a time); True if it made them."""
    with store.begin() as uow:
        keys = table.list_keys(uow)
        if any(k.state is SigningKeyState.ACTIVE for k in keys):
            return False
        for state in (SigningKeyState.ACTIVE, SigningKeyState.NEXT):
            key = _new_key(kek, bits, state, now)
            table.put_key(uow, key)
            uow.record_change(table.kind, key.kid)
    return True


def rotate_signing_keys(store: Store, kek: bytes, bits: int, now: datetime, keep_seconds: int,
                        table: KeyTable = SIGNING_KEYS) -> SigningKey:
    """Promote the published `next` key, retire the active one for `keep_seconds`, publish a new next."""
    with store.begin() as uow:
        keys = {k.state: k for k in table.list_keys(uow) if k.state is not SigningKeyState.RETIRED}
        for old in table.list_keys(uow):
            if old.delete_after is not None and old.delete_after <= now:
                table.delete_key(uow, old.kid)
                uow.record_change(table.kind, old.kid)
        nxt = keys.get(SigningKeyState.NEXT) or _new_key(kek, bits, SigningKeyState.NEXT, now)
        active = keys.get(SigningKeyState.ACTIVE)
        if active is not None:
            retired = SigningKey(active.kid, active.public_jwk, active.encrypted_private_key,
                                 SigningKeyState.RETIRED, active.created, active.activated, now,
                                 now + timedelta(seconds=keep_seconds))
            table.put_key(uow, retired)
            uow.record_change(table.kind, retired.kid)
        promoted = SigningKey(nxt.kid, nxt.public_jwk, nxt.encrypted_private_key, SigningKeyState.ACTIVE,
                              nxt.created, now)
        fresh = _new_key(kek, bits, SigningKeyState.NEXT, now)
        for k in (promoted, fresh):
            table.put_key(uow, k)
            uow.record_change(table.kind, k.kid)
    return promoted


@dataclass(frozen=True, slots=True)
class _Published:
    """What the keyring serves: the active Signer (if any) and the /jwk document."""

    signer: Signer | None
    jwks_json: bytes


_ORDER = {SigningKeyState.ACTIVE: 0, SigningKeyState.NEXT: 1, SigningKeyState.RETIRED: 2}


class Keyring:
    """Holds the active Signer and the /jwk document, read once per change (docs/security.md "Stale cache").

    By default the token service's keys; `kind` and `read` (the keys, read in a read-only unit of work) make it
    the keyring of another KeyTable, such as the Altinn side's (portvakt.altinn.keys).
    """

    def __init__(self, store: TokenStore, kek: bytes, clock: Clock, *, kind: str = SIGNING_KEY_KIND,
                 read: Callable[[], Sequence[SigningKey]] | None = None) -> None:
        self._store = store
        self._clock = clock
        self._kek = kek
        self._kind = kind
        self._read = read or self._read_signing_keys
        self._state: GuardedCache[str, _Published] = GuardedCache(max_entries=1)
        self._last: Signer | None = None
        self.reload()

    @property
    def signer(self) -> Signer | None:
        """The Signer of the active key, or None."""
        return self._published().signer

    @property
    def jwks_json(self) -> bytes:
        """The published keys (active, next, retired) as the /jwk document."""
        return self._published().jwks_json

    def reload(self) -> None:
        """Read the keys again now (a fill a change overtook is read again on next use)."""
        self._state.forget(self._kind)
        self._published()

    def on_change(self, kind: str, key: str) -> None:
        """RegistryCache listener: reload when one of its keys changed."""
        if kind == self._kind:
            self.reload()

    def active_signer(self) -> Signer:
        """The Signer of the active key."""
        signer = self.signer
        if signer is None:
            raise NoActiveSigningKey("no active signing key; run `portvakt init`")
        return signer

    def _published(self) -> _Published:
        return self._state.get(self._kind, self._load)

    def _read_signing_keys(self) -> Sequence[SigningKey]:
        """The token service's keys, from a read-only unit of work."""
        with self._store.read() as uow:
            return uow.list_signing_keys()

    def _load(self) -> _Published:
        """Read the keys; decrypts the active key only when it changed."""
        found = self._read()
        now = self._clock.now()
        keys = [k for k in found if k.delete_after is None or k.delete_after > now]
        active = next((k for k in keys if k.state is SigningKeyState.ACTIVE), None)
        signer = self._last
        if active is not None and (signer is None or signer.kid != active.kid):
            signer = self._last = Signer(PrivateKeyHandle.from_pem(active.encrypted_private_key, self._kek))
        elif active is None:
            signer = None
        published = sorted(keys, key=lambda k: _ORDER[k.state])
        return _Published(signer, json.dumps({"keys": [k.public_jwk for k in published]},
                                             separators=(",", ":")).encode())
