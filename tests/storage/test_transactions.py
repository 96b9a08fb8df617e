"""Contract: one unit of work is one transaction: own writes visible, all-or-nothing, seen by others."""

from __future__ import annotations

import threading

import pytest

from portvakt.domain.ports import Store, UnitOfWork

from .builders import (
    ORG_A,
    ORG_B,
    ORG_C,
    access,
    at,
    client,
    delegation,
    event,
    key,
    org,
    person,
    role,
    scheme,
    scope,
    signing_key,
    source,
)
from .conftest import Backend, RollbackError, fail_inside


def _seed(uow: UnitOfWork) -> None:
    uow.put_org(org(ORG_A, "before"))
    uow.put_client(client("c1", keys=(key("k1"),)))
    uow.put_scope(scope("brreg:a"))
    uow.put_access(access("brreg:a", ORG_B))
    uow.put_prefix("brreg", ORG_A)
    uow.put_delegation_source(source("altinn"))
    uow.put_signing_key(signing_key("s1", at(0)))
    uow.put_scheme(scheme("scheme-1", scopes=("brreg:a",)))
    uow.put_delegation(delegation("del-1", ORG_B, ORG_C, "scheme-1"))
    uow.append_audit(event("c1", (ORG_A,)))
    uow.record_change("client", "c1")
    uow.put_person(person("ida", roles=(role(ORG_A),)))


def _snapshot(store: Store) -> tuple[object, ...]:
    with store.begin() as uow:
        return (list(uow.list_orgs()), list(uow.list_clients(include_inactive=True)),
                list(uow.list_scopes(include_inactive=True)), list(uow.list_access()),
                uow.get_prefix_owner("brreg"), uow.get_prefix_owner("skatt"), list(uow.list_prefixes()),
                list(uow.list_delegation_sources()), list(uow.list_signing_keys()),
                list(uow.list_schemes(include_inactive=True)), list(uow.list_schemes(scope="brreg:z")),
                list(uow.list_delegations(include_revoked=True)), uow.has_delegation(ORG_B, ORG_C, "brreg:a"),
                list(uow.list_audit(org=ORG_A)), list(store.changes_since(0)), store.last_change_seq(),
                list(uow.list_people()))


def test_exception_rolls_back_every_kind_of_write(store: Store) -> None:
    with store.begin() as uow:
        _seed(uow)
    before = _snapshot(store)
    with pytest.raises(RollbackError):
        fail_inside(store, _overwrite_everything)
    assert _snapshot(store) == before


def _overwrite_everything(uow: UnitOfWork) -> None:
    uow.put_org(org(ORG_A, "after"))
    uow.put_org(org(ORG_B))
    uow.put_client(client("c1", client_name="changed", keys=(key("k2"), key("k3"))))
    uow.put_client(client("c2"))
    uow.put_scope(scope("brreg:a", description="changed"))
    uow.put_scope(scope("brreg:b"))
    uow.delete_access("brreg:a", ORG_B)
    uow.put_access(access("brreg:b", ORG_B))
    uow.put_prefix("brreg", ORG_B)
    uow.put_prefix("skatt", ORG_B)
    uow.put_delegation_source(source("altinn", "https://changed.example/"))
    uow.put_delegation_source(source("other"))
    uow.delete_signing_key("s1")
    uow.put_signing_key(signing_key("s2", at(1)))
    uow.put_scheme(scheme("scheme-1", scopes=("brreg:z",), active=False))
    uow.put_scheme(scheme("scheme-2", scopes=("brreg:z",)))
    uow.put_person(person("ida", roles=(role(ORG_B),), active=False))
    uow.put_person(person("ola"))
    uow.put_delegation(delegation("del-1", ORG_B, ORG_C, "scheme-1", revoked=at(2)))
    uow.put_delegation(delegation("del-2", ORG_A, ORG_C, "scheme-2"))
    uow.append_audit(event("c2", (ORG_A,)))
    uow.record_change("client", "c2")


def test_reads_see_own_writes(store: Store) -> None:
    with store.begin() as uow:
        _seed(uow)
        assert uow.get_org(ORG_A) == org(ORG_A, "before")
        found = uow.get_client("c1")
        assert found is not None
        assert [k.kid for k in found.keys] == ["k1"]
        assert [c.client_id for c in uow.list_clients()] == ["c1"]
        assert uow.get_scope("brreg:a") == scope("brreg:a")
        assert uow.get_access("brreg:a", ORG_B) == access("brreg:a", ORG_B)
        assert uow.get_prefix_owner("brreg") == ORG_A
        assert [k.kid for k in uow.list_signing_keys()] == ["s1"]
        assert [e.entity_key for e in uow.list_audit(org=ORG_A)] == ["c1"]
        uow.delete_access("brreg:a", ORG_B)
        uow.delete_signing_key("s1")
        assert uow.get_access("brreg:a", ORG_B) is None
        assert uow.list_signing_keys() == []


def test_commit_is_seen_by_another_store_on_the_same_database(backend: Backend) -> None:
    other, _ = backend.another()
    with backend.store.begin() as uow:
        _seed(uow)
    with other.begin() as uow:
        assert uow.get_client("c1") is not None
        assert [e.entity_key for e in uow.list_audit(org=ORG_A)] == ["c1"]
    assert [c.key for c in other.changes_since(0)] == ["c1"]
    assert other.last_change_seq() == backend.store.last_change_seq()


def test_rolled_back_work_is_invisible_to_another_store(backend: Backend) -> None:
    other, _ = backend.another()
    with pytest.raises(RollbackError):
        fail_inside(backend.store, _seed)
    with other.begin() as uow:
        assert uow.get_client("c1") is None
        assert uow.list_orgs() == []
    assert other.changes_since(0) == []
    assert other.last_change_seq() == 0


def test_concurrent_read_modify_write_loses_no_update(backend: Backend) -> None:
    """Units of work on two store instances increment one counter; every increment survives."""
    stores = [backend.store, backend.another()[0]]
    with backend.store.begin() as uow:
        uow.put_org(org(ORG_A, "0"))

    def increment(store: Store) -> None:
        for _ in range(15):
            with store.begin() as uow:
                current = uow.get_org(ORG_A)
                assert current is not None
                uow.put_org(org(ORG_A, str(int(current.name) + 1)))

    threads = [threading.Thread(target=increment, args=(s,)) for s in stores for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with backend.store.begin() as uow:
        final = uow.get_org(ORG_A)
    assert final is not None
    assert final.name == "60"
