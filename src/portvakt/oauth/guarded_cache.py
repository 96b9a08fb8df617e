"""The one cache of the token service's read model: filled from the store, emptied by the change feed.

The guard: every change bumps a generation. A fill notes the generation before it reads the store and
keeps its answer only if no change arrived meanwhile, so a refresh that lands between a read and the
store of its answer cannot leave a removed fact behind (docs/security.md "Stale cache").
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class GuardedCache(Generic[K, V]):
    """A bounded map (oldest entries go first) whose fills are dropped when a change overtook them."""

    def __init__(self, *, max_entries: int) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._entries: dict[K, V] = {}
        self._lock = threading.Lock()
        self._generation = 0

    def get(self, key: K, load: Callable[[], V]) -> V:
        """The remembered value, else load()'s, remembered only if no change arrived while it loaded."""
        try:
            return self._entries[key]
        except KeyError:
            pass
        ticket = self.ticket()
        value = load()
        self.keep(ticket, key, lambda _old: value)
        return value

    def peek(self, key: K) -> V | None:
        """The remembered value, or None."""
        return self._entries.get(key)

    def ticket(self) -> int:
        """The generation to hand to keep(); take it before reading the store ("Stale cache")."""
        return self._generation

    def keep(self, ticket: int, key: K, update: Callable[[V | None], V]) -> bool:
        """Store update(old) unless a change arrived since `ticket` ("Stale cache"); True if stored."""
        with self._lock:
            if ticket != self._generation:
                return False
            if key not in self._entries and len(self._entries) >= self._max:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = update(self._entries.get(key))
            return True

    def forget(self, key: K) -> None:
        """A change to `key`: drop it, and refuse every fill already under way."""
        with self._lock:
            self._generation += 1
            self._entries.pop(key, None)

    def forget_all(self) -> None:
        """A change that may touch any entry: drop them all, and refuse every fill under way."""
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
