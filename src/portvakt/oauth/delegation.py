"""The port through which the token service asks whether a consumer delegated a scope (spec §4.2 step 4)."""

from __future__ import annotations

import threading
from typing import Protocol

from portvakt.domain.delegations import DELEGATION_KIND, SCHEME_KIND, pair_of


class DelegationUnavailable(Exception):
    """The delegation source could not answer; delegated requests fail closed."""


class DelegationLookup(Protocol):
    """Answers has_delegation(consumer, supplier, scope); raises DelegationUnavailable when it cannot."""

    def has_delegation(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool: ...


class NoDelegations:
    """The lookup of a token service with no Altinn side attached: nothing is delegated."""

    def has_delegation(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        return False


class CachedDelegationLookup:
    """Remembers the answers of a lookup on the same database until the change feed says they changed.

    The Altinn side records every delegation under DELEGATION_KIND with a pair_key, and every scheme
    change under SCHEME_KIND (domain/delegations.py). Feed this cache's `on_change` from the
    catalog: a delegation change drops that pair's answers, a scheme change drops them all. Failures are
    never remembered. The number of pairs remembered is bounded; the oldest go first.
    """

    def __init__(self, inner: DelegationLookup, *, max_pairs: int = 100_000) -> None:
        if max_pairs < 1:
            raise ValueError("max_pairs must be at least 1")
        self._inner = inner
        self._max = max_pairs
        self._pairs: dict[tuple[str, str], dict[str, bool]] = {}
        self._lock = threading.Lock()
        self._generation = 0

    def has_delegation(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        """Spec §4.2 step 4: the remembered answer, else the inner lookup's (DelegationUnavailable passes)."""
        pair = (consumer_orgno, supplier_orgno)
        answer = self._pairs.get(pair, {}).get(scope)
        if answer is not None:
            return answer
        generation = self._generation
        answer = self._inner.has_delegation(consumer_orgno, supplier_orgno, scope)
        with self._lock:
            if generation != self._generation:  # a change arrived while we asked: do not remember
                return answer
            if pair not in self._pairs and len(self._pairs) >= self._max:
                self._pairs.pop(next(iter(self._pairs)))
            self._pairs.setdefault(pair, {})[scope] = answer
        return answer

    def on_change(self, kind: str, key: str) -> None:
        """A change-feed entry: forget what it may have changed."""
        with self._lock:
            self._generation += 1
            if kind == SCHEME_KIND:
                self._pairs.clear()
            elif kind == DELEGATION_KIND:
                self._pairs.pop(pair_of(key), None)
