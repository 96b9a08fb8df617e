"""Contract: the change feed that caches follow (ordered, `since`, last seq, pruning)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from portvakt.domain.models import Change
from portvakt.domain.ports import Store

from .conftest import Backend, RollbackError, fail_inside


def _record(store: Store, *entries: tuple[str, str]) -> None:
    with store.begin() as uow:
        for kind, key in entries:
            uow.record_change(kind, key)


def test_empty_feed(store: Store) -> None:
    assert store.changes_since(0) == []
    assert store.last_change_seq() == 0


def test_changes_are_ordered_and_numbered_increasingly(store: Store) -> None:
    _record(store, ("client", "c1"), ("scope", "brreg:a"))
    _record(store, ("client", "c1"))
    changes = list(store.changes_since(0))
    assert [(c.kind, c.key) for c in changes] == [("client", "c1"), ("scope", "brreg:a"), ("client", "c1")]
    seqs = [c.seq for c in changes]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 3
    assert seqs[0] > 0
    assert store.last_change_seq() == seqs[-1]
    assert all(isinstance(c, Change) for c in changes)


def test_changes_since_returns_only_newer(store: Store) -> None:
    _record(store, ("client", "a"), ("client", "b"))
    middle = store.last_change_seq()
    _record(store, ("client", "c"))
    assert [c.key for c in store.changes_since(middle)] == ["c"]
    assert store.changes_since(store.last_change_seq()) == []
    assert [c.key for c in store.changes_since(-1)] == ["a", "b", "c"]


def test_rolled_back_changes_never_appear_and_later_ones_still_increase(store: Store) -> None:
    _record(store, ("client", "a"))
    first = store.last_change_seq()
    with pytest.raises(RollbackError):
        fail_inside(store, lambda uow: uow.record_change("client", "ghost"))
    assert store.last_change_seq() == first
    _record(store, ("client", "b"))
    assert [c.key for c in store.changes_since(0)] == ["a", "b"]
    assert store.last_change_seq() > first


def test_prune_never_loses_the_newest_seq(backend: Backend) -> None:
    store = backend.store
    _record(store, ("client", "a"), ("client", "b"))
    _record(store, ("client", "c"))
    last = store.last_change_seq()
    assert store.prune_changes(datetime.now(UTC) - timedelta(days=1)) == 0
    assert len(store.changes_since(0)) == 3
    removed = store.prune_changes(datetime.now(UTC) + timedelta(days=1))
    remaining = [c.key for c in store.changes_since(0)]
    assert remaining == ["a", "b", "c"][removed:]
    assert store.last_change_seq() == last
    if backend.name != "memory":  # the memory store keeps no timestamps and never prunes
        assert (removed, remaining) == (2, ["c"])
    _record(store, ("client", "d"))
    assert store.last_change_seq() > last
    assert [c.key for c in store.changes_since(last)] == ["d"]


def test_feed_is_shared_between_stores_on_one_database(backend: Backend) -> None:
    other, _ = backend.another()
    _record(backend.store, ("client", "a"))
    _record(other, ("scope", "b"))
    assert [c.key for c in backend.store.changes_since(0)] == ["a", "b"]
    assert backend.store.last_change_seq() == other.last_change_seq()


def test_feed_readers_neither_wait_for_nor_see_an_open_transaction(backend: Backend) -> None:
    other, _ = backend.another()
    _record(backend.store, ("client", "a"))
    with backend.store.begin() as uow:
        uow.record_change("client", "uncommitted")
        started = time.perf_counter()
        assert [c.key for c in other.changes_since(0)] == ["a"]
        assert other.last_change_seq() == backend.store.last_change_seq()
        assert time.perf_counter() - started < 2
    assert [c.key for c in other.changes_since(0)] == ["a", "uncommitted"]
