"""The port through which the token service asks whether a consumer delegated a scope (docs/protocol.md §4.2 step 4)."""

from __future__ import annotations

from typing import Protocol

from portvakt.domain.changes import DELEGATION_KIND, SCHEME_KIND, pair_of

from .guarded_cache import GuardedCache


class DelegationUnavailable(Exception):
    """The delegation source could not answer; delegated requests fail closed."""


class DelegationLookup(Protocol):
    """Answers has_delegation(consumer, supplier, scope); raises DelegationUnavailable when it cannot."""

    def has_delegation(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool: ...


class CachedDelegationLookup:
    """Remembers the answers of a lookup on the same database until the change feed says they changed.

    The Altinn side records every delegation under DELEGATION_KIND with a pair_key, and every scheme
    change under SCHEME_KIND (domain/changes.py). Feed this cache's `on_change` from the registry cache: a
    delegation change drops that pair's answers, a scheme change drops them all. Failures are never
    remembered. The number of pairs remembered is bounded; the oldest go first.
    """

    def __init__(self, inner: DelegationLookup, *, max_pairs: int = 100_000) -> None:
        if max_pairs < 1:
            raise ValueError("max_pairs must be at least 1")
        self._inner = inner
        self._pairs: GuardedCache[tuple[str, str], dict[str, bool]] = GuardedCache(max_entries=max_pairs)

    def has_delegation(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        """docs/protocol.md §4.2 step 4: the remembered answer, else the inner lookup's (DelegationUnavailable
        passes)."""
        pair = (consumer_orgno, supplier_orgno)
        answer = (self._pairs.peek(pair) or {}).get(scope)
        if answer is not None:
            return answer
        ticket = self._pairs.ticket()
        answer = self._inner.has_delegation(consumer_orgno, supplier_orgno, scope)
        self._pairs.keep(ticket, pair, lambda old: {**(old or {}), scope: answer})
        return answer

    def on_change(self, kind: str, key: str) -> None:
        """A change-feed entry: forget what it may have changed."""
        if kind == SCHEME_KIND:
            self._pairs.forget_all()
        elif kind == DELEGATION_KIND:
            self._pairs.forget(pair_of(key))
