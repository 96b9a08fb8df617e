"""CachedDelegationLookup (docs/protocol.md §4.2 step 4) and ObservedStore: answers stay until the change feed says
otherwise."""

from __future__ import annotations

import pytest

from portvakt.domain.delegations import DELEGATION_KIND, SCHEME_KIND, pair_key
from portvakt.oauth.delegation import CachedDelegationLookup, DelegationUnavailable
from portvakt.oauth.observed_store import ObservedStore
from portvakt.storage.memory import MemoryStore

C, S, SCOPE = "310838128", "314330897", "brreg:reelle/rapporteringspliktig"


class Registry:
    """A lookup whose answers the test sets, counting the questions."""

    def __init__(self) -> None:
        self.delegated: set[tuple[str, str, str]] = set()
        self.asked = 0
        self.down = False
        self.during: list[object] = []

    def has_delegation(self, consumer: str, supplier: str, scope: str) -> bool:
        self.asked += 1
        if self.down:
            raise DelegationUnavailable("down")
        for action in self.during:
            action()  # type: ignore[operator]
        return (consumer, supplier, scope) in self.delegated


def test_answers_are_remembered_both_ways() -> None:
    registry = Registry()
    cache = CachedDelegationLookup(registry)
    assert not cache.has_delegation(C, S, SCOPE) and not cache.has_delegation(C, S, SCOPE)
    registry.delegated.add((C, S, SCOPE))
    assert not cache.has_delegation(C, S, SCOPE)
    assert registry.asked == 1


def test_a_delegation_change_drops_only_that_pair() -> None:
    registry = Registry()
    registry.delegated |= {(C, S, SCOPE), ("910753614", S, SCOPE)}
    cache = CachedDelegationLookup(registry)
    assert cache.has_delegation(C, S, SCOPE) and cache.has_delegation("910753614", S, SCOPE)
    registry.delegated.clear()
    cache.on_change(DELEGATION_KIND, pair_key(C, S))
    assert not cache.has_delegation(C, S, SCOPE)
    assert cache.has_delegation("910753614", S, SCOPE)  # another pair: still remembered
    cache.on_change("client", "x")
    assert cache.has_delegation("910753614", S, SCOPE)


def test_a_scheme_change_drops_everything() -> None:
    registry = Registry()
    registry.delegated.add((C, S, SCOPE))
    cache = CachedDelegationLookup(registry)
    assert cache.has_delegation(C, S, SCOPE)
    registry.delegated.clear()
    cache.on_change(SCHEME_KIND, "any-scheme-id")
    assert not cache.has_delegation(C, S, SCOPE)


def test_failures_are_never_remembered() -> None:
    registry = Registry()
    registry.down = True
    cache = CachedDelegationLookup(registry)
    with pytest.raises(DelegationUnavailable):
        cache.has_delegation(C, S, SCOPE)
    registry.down = False
    registry.delegated.add((C, S, SCOPE))
    assert cache.has_delegation(C, S, SCOPE)


def test_an_answer_overtaken_by_a_change_is_not_remembered() -> None:
    registry = Registry()
    registry.delegated.add((C, S, SCOPE))
    cache = CachedDelegationLookup(registry)
    registry.during.append(lambda: cache.on_change(DELEGATION_KIND, pair_key(C, S)))
    assert cache.has_delegation(C, S, SCOPE)  # the answer read before the revocation landed
    registry.during.clear()
    registry.delegated.clear()
    assert not cache.has_delegation(C, S, SCOPE)


def test_the_number_of_pairs_is_bounded() -> None:
    registry = Registry()
    cache = CachedDelegationLookup(registry, max_pairs=2)
    for consumer in ("1", "2", "3"):
        cache.has_delegation(consumer, S, SCOPE)
    asked = registry.asked
    cache.has_delegation("1", S, SCOPE)  # the oldest pair went first
    assert registry.asked == asked + 1
    with pytest.raises(ValueError, match="max_pairs"):
        CachedDelegationLookup(registry, max_pairs=0)


def test_observed_store_tells_after_a_commit_only() -> None:
    calls: list[int] = []
    store = ObservedStore(MemoryStore(), lambda: calls.append(1))
    with store.begin():
        assert calls == []
    assert calls == [1]
    with pytest.raises(RuntimeError), store.begin():
        raise RuntimeError("rolled back")
    assert calls == [1]
    with store.read():
        pass
    assert calls == [1] and store.last_change_seq() == 0


def test_observed_store_survives_a_failing_listener(caplog: pytest.LogCaptureFixture) -> None:
    def boom() -> None:
        raise OSError("database away")

    store = ObservedStore(MemoryStore(), boom)
    with store.begin():
        pass
    assert "the next poll will" in caplog.text
