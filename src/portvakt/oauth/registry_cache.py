"""The token service's read model: clients, keys, scopes and access, cached in memory.

Changes are pushed in, never served stale by a TTL: every committed change writes a row to the
store's change feed, and `refresh()` (called right after a local commit, and by a background
poller in every worker) drops exactly the entries that changed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from portvakt.domain.changes import ACCESS_KIND, CLIENT_KIND, SCOPE_KIND, access_of
from portvakt.domain.models import AccessState, Client, ClientKey, Scope
from portvakt.domain.ports import TokenStore
from portvakt.jose import JoseError, Verifier, parse_public_key

from .guarded_cache import GuardedCache

_MAX_CLIENTS = 50_000
_MAX_SCOPES = 50_000
_MAX_ACCESS = 200_000


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

    def __init__(self, store: TokenStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._seq = store.last_change_seq()
        self._clients: GuardedCache[str, ClientView | None] = GuardedCache(max_entries=_MAX_CLIENTS)
        self._scopes: GuardedCache[str, Scope | None] = GuardedCache(max_entries=_MAX_SCOPES)
        self._access: GuardedCache[tuple[str, str], bool] = GuardedCache(max_entries=_MAX_ACCESS)
        self._listeners: list[Callable[[str, str], None]] = []

    def on_change(self, listener: Callable[[str, str], None]) -> None:
        """Call `listener(kind, key)` for every change the feed brings (e.g. signing keys)."""
        self._listeners.append(listener)

    def client(self, client_id: str) -> ClientView | None:
        """The active or inactive client with its verifiers, or None (negative answers cached too)."""
        return self._clients.get(client_id, lambda: self._load_client(client_id))

    def scope(self, name: str) -> Scope | None:
        """The scope by name, or None."""
        return self._scopes.get(name, lambda: self._load_scope(name))

    def has_approved_access(self, scope: str, consumer_orgno: str) -> bool:
        """docs/protocol.md §7 step 10: the consumer's ACL entry on the scope is APPROVED."""
        return self._access.get((scope, consumer_orgno), lambda: self._load_access(scope, consumer_orgno))

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
        """Apply the change feed since the last refresh; returns how many changes were seen."""
        changes = self._store.changes_since(self._seq)
        if not changes:
            return 0
        with self._lock:
            for ch in changes:
                self._forget(ch.kind, ch.key)
            self._seq = max(self._seq, changes[-1].seq)
        for ch in changes:
            for listener in self._listeners:
                listener(ch.kind, ch.key)
        return len(changes)

    def _forget(self, kind: str, key: str) -> None:
        if kind == CLIENT_KIND:
            self._clients.forget(key)
        elif kind == SCOPE_KIND:
            self._scopes.forget(key)
        elif kind == ACCESS_KIND:
            self._access.forget(access_of(key))
