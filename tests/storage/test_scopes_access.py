"""Contract: scopes, their access lists and the prefixes assigned to API providers."""

from __future__ import annotations

import dataclasses
from typing import Any

from portvakt.domain.models import AccessState
from portvakt.domain.ports import Store

from .builders import ORG_A, ORG_B, ORG_C, access, full_scope, scope


def test_scope_round_trips_every_field(store: Store) -> None:
    with store.begin() as uow:
        uow.put_scope(full_scope())
    with store.begin() as uow:
        found = uow.get_scope("brreg:full")
        assert uow.get_scope("brreg:nope") is None
    assert found == full_scope()
    assert found is not None
    assert isinstance(found.allowed_integration_types, tuple)


def test_put_scope_replaces(store: Store) -> None:
    with store.begin() as uow:
        uow.put_scope(scope("brreg:a"))
    with store.begin() as uow:
        uow.put_scope(scope("brreg:a", description="changed", at_max_age=30))
    with store.begin() as uow:
        found = uow.get_scope("brreg:a")
    assert found is not None
    assert (found.description, found.at_max_age) == ("changed", 30)


def test_list_scopes_filters_owner_and_inactive(store: Store) -> None:
    with store.begin() as uow:
        uow.put_scope(scope("skatt:b", owner=ORG_B))
        uow.put_scope(scope("brreg:z"))
        uow.put_scope(scope("brreg:a/sub"))
        uow.put_scope(scope("brreg:old", active=False))
    with store.begin() as uow:
        def names(**f: Any) -> list[str]:
            return [s.name for s in uow.list_scopes(**f)]

        assert names() == ["brreg:a/sub", "brreg:z", "skatt:b"]
        assert names(include_inactive=True) == ["brreg:a/sub", "brreg:old", "brreg:z", "skatt:b"]
        assert names(owner_orgno=ORG_A) == ["brreg:a/sub", "brreg:z"]
        assert names(owner_orgno=ORG_B) == ["skatt:b"]
        assert names(owner_orgno=ORG_C) == []


def test_access_round_trip_replace_and_delete(store: Store) -> None:
    with store.begin() as uow:
        uow.put_access(access("brreg:a", ORG_B, AccessState.REQUESTED))
    with store.begin() as uow:
        assert uow.get_access("brreg:a", ORG_B) == access("brreg:a", ORG_B, AccessState.REQUESTED)
        assert uow.get_access("brreg:a", ORG_C) is None
        uow.put_access(access("brreg:a", ORG_B, AccessState.APPROVED))
    with store.begin() as uow:
        found = uow.get_access("brreg:a", ORG_B)
        assert found is not None
        assert found.state is AccessState.APPROVED
        uow.delete_access("brreg:a", ORG_B)
        uow.delete_access("brreg:a", "000000000")  # deleting what is not there is fine
    with store.begin() as uow:
        assert uow.get_access("brreg:a", ORG_B) is None


def test_list_access_filters_and_order(store: Store) -> None:
    entries = [access("brreg:b", ORG_B), access("brreg:a", ORG_C), access("brreg:a", ORG_B),
               access("skatt:x", ORG_B, AccessState.DENIED)]
    with store.begin() as uow:
        for entry in entries:
            uow.put_access(entry)
    with store.begin() as uow:
        def keys(**f: Any) -> list[tuple[str, str]]:
            return [(a.scope, a.consumer_orgno) for a in uow.list_access(**f)]

        assert keys() == sorted((a.scope, a.consumer_orgno) for a in entries)
        assert keys(scope="brreg:a") == [("brreg:a", ORG_C), ("brreg:a", ORG_B)]
        assert keys(consumer_orgno=ORG_B) == [("brreg:a", ORG_B), ("brreg:b", ORG_B), ("skatt:x", ORG_B)]
        assert keys(scope="brreg:a", consumer_orgno=ORG_C) == [("brreg:a", ORG_C)]
        assert uow.list_access(scope="nope") == []
        assert uow.list_access(consumer_orgno=ORG_B)[-1] == dataclasses.replace(
            access("skatt:x", ORG_B), state=AccessState.DENIED)


def test_prefixes(store: Store) -> None:
    with store.begin() as uow:
        assert uow.get_prefix_owner("brreg") is None
        uow.put_prefix("brreg", ORG_A)
        uow.put_prefix("skatt", ORG_B)
    with store.begin() as uow:
        assert uow.get_prefix_owner("brreg") == ORG_A
        uow.put_prefix("brreg", ORG_C)
    with store.begin() as uow:
        assert (uow.get_prefix_owner("brreg"), uow.get_prefix_owner("skatt")) == (ORG_C, ORG_B)
