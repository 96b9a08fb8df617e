"""The token service's read model: clients, keys, scopes and access, cached in memory.

Changes are pushed in, never served stale by a TTL: every committed change writes a row to the
store's change feed, and `refresh()` (called right after a local commit, and by a background
poller in every worker) drops exactly the entries that changed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from portvakt.domain.models import AccessState, Client, ClientKey, Scope
from portvakt.domain.ports import Store
from portvakt.jose import JoseError, Verifier, parse_public_key

CLIENT = "client"
SCOPE = "scope"
ACCESS = "access"
SIGNING_KEY = "signing_key"
_MAX_CLIENTS = 50_000


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


class Catalog:
    """Read-through cache over a Store, invalidated by the change feed."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._seq = store.last_change_seq()
        self._clients: OrderedDict[str, ClientView | None] = OrderedDict()
        self._scopes: dict[str, Scope | None] = {}
        self._access: dict[tuple[str, str], bool] = {}
        self._listeners: list[Callable[[str, str], None]] = []

    def on_change(self, listener: Callable[[str, str], None]) -> None:
        """Call `listener(kind, key)` for every change the feed brings (e.g. signing keys)."""
        self._listeners.append(listener)

    def client(self, client_id: str) -> ClientView | None:
        """The active or inactive client with its verifiers, or None (negative answers cached too)."""
        try:
            view = self._clients[client_id]
        except KeyError:
            with self._store.begin() as uow:
                c = uow.get_client(client_id)
            view = _view(c) if c is not None else None
            with self._lock:
                self._clients[client_id] = view
                if len(self._clients) > _MAX_CLIENTS:
                    self._clients.popitem(last=False)
        return view

    def scope(self, name: str) -> Scope | None:
        """The scope by name, or None."""
        try:
            return self._scopes[name]
        except KeyError:
            with self._store.begin() as uow:
                s = uow.get_scope(name)
            self._scopes[name] = s
            return s

    def has_approved_access(self, scope: str, consumer_orgno: str) -> bool:
        """Spec §8 step 10: the consumer's ACL entry on the scope is APPROVED."""
        key = (scope, consumer_orgno)
        try:
            return self._access[key]
        except KeyError:
            with self._store.begin() as uow:
                a = uow.get_access(scope, consumer_orgno)
            ok = a is not None and a.state == AccessState.APPROVED
            self._access[key] = ok
            return ok

    def refresh(self) -> int:
        """Apply the change feed since the last refresh; returns how many changes were seen."""
        changes = self._store.changes_since(self._seq)
        if not changes:
            return 0
        with self._lock:
            for ch in changes:
                self._forget(ch.kind, ch.key)
            self._seq = changes[-1].seq
        for ch in changes:
            for listener in self._listeners:
                listener(ch.kind, ch.key)
        return len(changes)

    def _forget(self, kind: str, key: str) -> None:
        if kind == CLIENT:
            self._clients.pop(key, None)
        elif kind == SCOPE:
            self._scopes.pop(key, None)
        elif kind == ACCESS:
            scope, _, consumer = key.partition("|")
            self._access.pop((scope, consumer), None)

    @staticmethod
    def access_key(scope: str, consumer_orgno: str) -> str:
        """The change-feed key of an access-list entry."""
        return f"{scope}|{consumer_orgno}"


