"""Contract: the server's signing keys, and the append-only audit trail with its per-org visibility."""

from __future__ import annotations

import dataclasses
from typing import Any

from portvakt.domain.models import SigningKeyState
from portvakt.domain.ports import Store

from .builders import ORG_A, ORG_B, ORG_C, at, event, signing_key


def test_signing_keys_listed_by_creation_and_replaced(store: Store) -> None:
    newer, older = signing_key("k2", at(60), SigningKeyState.NEXT), signing_key("k1", at(0))
    with store.begin() as uow:
        uow.put_signing_key(newer)
        uow.put_signing_key(older)
    with store.begin() as uow:
        assert list(uow.list_signing_keys()) == [older, newer]
        retired = dataclasses.replace(older, state=SigningKeyState.RETIRED, retired=at(90),
                                      delete_after=at(900))
        uow.put_signing_key(retired)
    with store.begin() as uow:
        keys = list(uow.list_signing_keys())
    assert keys == [retired, newer]
    assert isinstance(keys[0].encrypted_private_key, bytes)
    assert keys[0].state is SigningKeyState.RETIRED


def test_delete_signing_key(store: Store) -> None:
    with store.begin() as uow:
        uow.put_signing_key(signing_key("k1", at(0)))
        uow.put_signing_key(signing_key("k2", at(1)))
    with store.begin() as uow:
        uow.delete_signing_key("k1")
        uow.delete_signing_key("never-there")
    with store.begin() as uow:
        assert [k.kid for k in uow.list_signing_keys()] == ["k2"]


def _seed_audit(store: Store) -> None:
    with store.begin() as uow:
        uow.append_audit(event("c1", (ORG_A,), at(0)))
        uow.append_audit(event("c1", (ORG_A, ORG_B), at(10), action="update"))
        uow.append_audit(event("brreg:a", (ORG_B,), at(20), kind="scope"))
    with store.begin() as uow:
        uow.append_audit(event("c2", (ORG_A, ORG_C, ORG_A), at(30)))
        uow.append_audit(event("global", (), at(40), kind="org"))


def test_audit_is_visible_only_to_orgs_in_scope_newest_first(store: Store) -> None:
    _seed_audit(store)
    with store.begin() as uow:
        def keys(org: str) -> list[tuple[str, str]]:
            return [(e.entity_key, e.action) for e in uow.list_audit(org=org)]

        assert keys(ORG_A) == [("c2", "create"), ("c1", "update"), ("c1", "create")]
        assert keys(ORG_B) == [("brreg:a", "create"), ("c1", "update")]
        assert keys(ORG_C) == [("c2", "create")]
        assert keys("000000000") == []


def test_audit_round_trips_and_numbers_events(store: Store) -> None:
    _seed_audit(store)
    with store.begin() as uow:
        newest = uow.list_audit(org=ORG_C)[0]
        all_a = uow.list_audit(org=ORG_A)
    assert dataclasses.replace(newest, seq=0) == event("c2", (ORG_A, ORG_C, ORG_A), at(30))
    assert newest.org_scope == (ORG_A, ORG_C, ORG_A)
    seqs = [e.seq for e in all_a]
    assert seqs == sorted(seqs, reverse=True)
    assert len(set(seqs)) == len(seqs)
    assert min(seqs) > 0


def test_audit_filters_since_and_limit(store: Store) -> None:
    _seed_audit(store)
    with store.begin() as uow:
        def keys(**f: Any) -> list[tuple[str, str]]:
            return [(e.entity_key, e.action) for e in uow.list_audit(org=ORG_A, **f)]

        assert keys(entity_kind="client", entity_key="c1") == [("c1", "update"), ("c1", "create")]
        assert keys(entity_kind="scope") == []
        assert keys(entity_key="c2") == [("c2", "create")]
        assert keys(since=at(10)) == [("c2", "create"), ("c1", "update")]  # `since` is inclusive
        assert keys(since=at(10.5)) == [("c2", "create")]
        assert keys(limit=2) == [("c2", "create"), ("c1", "update")]
        assert keys(limit=1, entity_key="c1") == [("c1", "update")]
    with store.begin() as uow:
        assert [e.entity_key for e in uow.list_audit(org=ORG_B, entity_kind="scope")] == ["brreg:a"]
