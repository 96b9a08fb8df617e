"""The token service's read model: clients, keys, scopes and access, cached in memory.

Changes are pushed in, never served stale by a TTL: every committed change writes a row to the
store's change feed, and `refresh()` (called right after a local commit, and by a background
poller in every worker) drops exactly the entries that changed.

Freshness is bounded too: every successful `refresh()` (one that saw no change as well) confirms the
cache as of the moment it asked the store. A cache not confirmed for longer than `max_staleness`
seconds refuses tokens (`ensure_fresh`, MP-504) rather than answer from a registry that may have changed
(docs/security.md, Stale cache).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

from portvakt.domain.blocking import may_block
from portvakt.domain.changes import ACCESS_KIND, CLIENT_KIND, SCOPE_KIND, access_of
from portvakt.domain.models import AccessState, Client, ClientKey, Scope
from portvakt.domain.ports import TokenStore
from portvakt.jose import JoseError, Verifier, parse_public_key

from . import mp_codes as mp
from .guarded_cache import GuardedCache

_MAX_CLIENTS = 50_000
_MAX_SCOPES = 50_000
_MAX_ACCESS = 200_000
#: The kinds of lookup a `LookupObserver` is told about.
LOOKUP_KINDS = ("client", "scope", "access")

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
#: Told (kind, hit) for every lookup: hit is False when the store was read.
LookupObserver = Callable[[str, bool], None]


@dataclass(frozen=True, slots=True)
class ClientView:
    """A client with a ready Verifier per registered key (keys imported once, not per request)."""

    client: Client
    keys: dict[str, tuple[ClientKey, Verifier | None]]


def _view(client: Client) -> ClientView:
    keys: dict[str, tuple[ClientKey, Verifier | None]] = {}
    for k in client.keys:
        try:
            verifier: Verifier | None = Verifier(parse_public_key(k.jwk, kid=k.kid))
        except JoseError:
            verifier = None
        keys[k.kid] = (k, verifier)
    return ClientView(client, keys)


class RegistryCache:
    """The registry's clients, scopes and access, read through over a Store and invalidated by the change feed
    (docs/security.md "Stale cache", S2)."""

    def __init__(self, store: TokenStore, *, max_staleness: float = 5.0, retry_every: float = 0.25,
                 monotonic: Callable[[], float] = time.monotonic, observe: LookupObserver | None = None) -> None:
        if max_staleness <= 0:
            raise ValueError("max_staleness must be positive")
        self._store = store
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        self._monotonic = monotonic
        self.max_staleness = max_staleness
        self._retry_every = retry_every
        self._observe = observe
        started = monotonic()
        self._seq = store.last_change_seq()
        self._confirmed = started
        self._last_attempt = started
        self._clients: GuardedCache[str, ClientView | None] = GuardedCache(max_entries=_MAX_CLIENTS)
        self._scopes: GuardedCache[str, Scope | None] = GuardedCache(max_entries=_MAX_SCOPES)
        self._access: GuardedCache[tuple[str, str], bool] = GuardedCache(max_entries=_MAX_ACCESS)
        self._listeners: list[Callable[[str, str], None]] = []

    def on_change(self, listener: Callable[[str, str], None]) -> None:
        """Call `listener(kind, key)` for every change the feed brings (e.g. signing keys)."""
        self._listeners.append(listener)

    def observe(self, observer: LookupObserver | None) -> None:
        """Tell `observer(kind, hit)` about every lookup from now on (e.g. metrics); None: tell nobody."""
        self._observe = observer

    def client(self, client_id: str) -> ClientView | None:
        """The active or inactive client with its verifiers, or None (negative answers cached too)."""
        return self._lookup("client", self._clients, client_id, lambda: self._load_client(client_id))

    def scope(self, name: str) -> Scope | None:
        """The scope by name, or None."""
        return self._lookup("scope", self._scopes, name, lambda: self._load_scope(name))

    def has_approved_access(self, scope: str, consumer_orgno: str) -> bool:
        """docs/protocol.md §7 step 10: the consumer's ACL entry on the scope is APPROVED."""
        return self._lookup("access", self._access, (scope, consumer_orgno),
                            lambda: self._load_access(scope, consumer_orgno))

    def _lookup(self, kind: str, cache: GuardedCache[K, V], key: K, load: Callable[[], V]) -> V:
        """cache.get, telling the observer whether the store was read."""
        observe = self._observe
        if observe is None:
            return cache.get(key, load)
        missed = False

        def fill() -> V:
            nonlocal missed
            missed = True
            return load()

        value = cache.get(key, fill)
        observe(kind, not missed)
        return value

    def age(self) -> float:
        """Seconds since the cache was last confirmed in step with the store's change feed."""
        return max(0.0, self._monotonic() - self._confirmed)

    def is_fresh(self) -> bool:
        """Confirmed within the staleness bound (docs/security.md, Stale cache)."""
        return self.age() <= self.max_staleness

    def ensure_fresh(self) -> None:
        """docs/security.md, Stale cache: past the staleness bound, try one refresh (at most one at a time, and
        not more often than `retry_every`); still not confirmed, refuse with MP-504."""
        if self.is_fresh():
            return
        may_block()  # the refresh below reads the store
        now = self._monotonic()
        if now - self._last_attempt >= self._retry_every and self._refreshing.acquire(blocking=False):
            try:
                self._last_attempt = now
                with contextlib.suppress(Exception):  # the poller logs the store's failures; here: still stale
                    self._refresh_locked()
            finally:
                self._refreshing.release()
        if not self.is_fresh():
            raise mp.MP504(detail=f"registry last confirmed {self.age():.1f} s ago, bound {self.max_staleness:g} s")

    def _load_client(self, client_id: str) -> ClientView | None:
        with self._store.read() as uow:
            c = uow.get_client(client_id)
        return _view(c) if c is not None else None

    def _load_scope(self, name: str) -> Scope | None:
        with self._store.read() as uow:
            return uow.get_scope(name)

    def _load_access(self, scope: str, consumer_orgno: str) -> bool:
        with self._store.read() as uow:
            a = uow.get_access(scope, consumer_orgno)
        return a is not None and a.state == AccessState.APPROVED

    def refresh(self) -> int:
        """Apply the change feed since the last refresh, confirming the cache fresh as of the moment it asked;
        returns how many changes were seen. Refreshes run one at a time."""
        with self._refreshing:
            return self._refresh_locked()

    def _refresh_locked(self) -> int:
        asked = self._monotonic()
        changes = self._store.changes_since(self._seq)
        if not changes:
            self._confirm(asked)
            return 0
        with self._lock:
            for ch in changes:
                self._forget(ch.kind, ch.key)
            self._seq = max(self._seq, changes[-1].seq)
        for ch in changes:
            for listener in self._listeners:
                listener(ch.kind, ch.key)
        self._confirm(asked)
        return len(changes)

    def _confirm(self, asked: float) -> None:
        with self._lock:
            self._confirmed = max(self._confirmed, asked)

    def _forget(self, kind: str, key: str) -> None:
        if kind == CLIENT_KIND:
            self._clients.forget(key)
        elif kind == SCOPE_KIND:
            self._scopes.forget(key)
        elif kind == ACCESS_KIND:
            self._access.forget(access_of(key))
