"""Contract: organisations, clients and their key sets; listing with filters and keyset pagination."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from portvakt.domain.errors import Conflict
from portvakt.domain.models import IntegrationType
from portvakt.domain.ports import Store
from tests.storage.builders import iter_all_clients

from .builders import ORG_A, ORG_B, ORG_C, at, client, full_client, key, org


def test_org_round_trip_and_listing_sorted(store: Store) -> None:
    with store.begin() as uow:
        uow.put_org(org(ORG_B, "B"))
        uow.put_org(org(ORG_A, "A"))
    with store.begin() as uow:
        assert uow.get_org(ORG_A) == org(ORG_A, "A")
        assert uow.get_org("000000000") is None
        assert [o.orgno for o in uow.list_orgs()] == sorted([ORG_A, ORG_B])


def test_put_org_replaces(store: Store) -> None:
    with store.begin() as uow:
        uow.put_org(org(ORG_A, "old"))
    with store.begin() as uow:
        uow.put_org(org(ORG_A, "new"))
    with store.begin() as uow:
        assert [o.name for o in uow.list_orgs()] == ["new"]


def test_client_round_trips_every_field(store: Store) -> None:
    stored = full_client()
    with store.begin() as uow:
        uow.put_client(stored)
    with store.begin() as uow:
        found = uow.get_client("full")
    assert found == stored
    assert found is not None
    assert isinstance(found.scopes, tuple)
    assert isinstance(found.grant_types, tuple)
    assert [k.kid for k in found.keys] == ["k-2", "k-1"]
    assert found.created.utcoffset() is not None


def test_get_unknown_client_is_none(store: Store) -> None:
    with store.begin() as uow:
        assert uow.get_client("nope") is None


def test_put_client_replaces_the_key_set(store: Store) -> None:
    with store.begin() as uow:
        uow.put_client(client("c1", keys=(key("a"), key("b"))))
    with store.begin() as uow:
        uow.put_client(client("c1", client_name="renamed", keys=(key("c"),)))
    with store.begin() as uow:
        found = uow.get_client("c1")
    assert found is not None
    assert found.client_name == "renamed"
    assert [k.kid for k in found.keys] == ["c"]
    with store.begin() as uow:
        uow.put_client(dataclasses.replace(found, keys=()))
    with store.begin() as uow:
        assert uow.get_client("c1") == dataclasses.replace(found, keys=())


def _seed_clients(store: Store) -> None:
    with store.begin() as uow:
        for i in range(12):
            uow.put_client(client(f"c{i:02d}", orgno=ORG_A if i % 2 else ORG_B, keys=(key(f"k{i}"),),
                                  supplier_orgno=ORG_C if i % 3 == 0 else None, active=i != 5,
                                  integration_type=IntegrationType.ALTINN_VIRKSYS if i % 4 == 0
                                  else IntegrationType.MASKINPORTEN))


def test_list_clients_filters(store: Store) -> None:
    _seed_clients(store)
    with store.begin() as uow:
        def ids(**f: Any) -> list[str]:
            return [c.client_id for c in uow.list_clients(**f)]

        assert ids() == [f"c{i:02d}" for i in range(12) if i != 5]
        assert ids(include_inactive=True) == [f"c{i:02d}" for i in range(12)]
        assert ids(client_orgno=ORG_A) == ["c01", "c03", "c07", "c09", "c11"]
        assert ids(client_orgno=ORG_A, include_inactive=True) == ["c01", "c03", "c05", "c07", "c09", "c11"]
        assert ids(supplier_orgno=ORG_C) == ["c00", "c03", "c06", "c09"]
        assert ids(integration_type=IntegrationType.ALTINN_VIRKSYS) == ["c00", "c04", "c08"]
        assert ids(client_orgno=ORG_B, supplier_orgno=ORG_C) == ["c00", "c06"]
        assert ids(client_orgno="000000000") == []


def test_list_clients_carries_keys(store: Store) -> None:
    _seed_clients(store)
    with store.begin() as uow:
        page = uow.list_clients(limit=3)
    assert [[k.kid for k in c.keys] for c in page] == [["k0"], ["k1"], ["k2"]]


def test_list_clients_keyset_pagination(store: Store) -> None:
    _seed_clients(store)
    with store.begin() as uow:
        first = uow.list_clients(limit=4, include_inactive=True)
        second = uow.list_clients(limit=4, include_inactive=True, after_client_id=first[-1].client_id)
        rest = uow.list_clients(limit=100, include_inactive=True, after_client_id=second[-1].client_id)
        after_last = uow.list_clients(after_client_id=rest[-1].client_id)
        everything = list(iter_all_clients(uow, include_inactive=True))
    assert [c.client_id for c in first] == ["c00", "c01", "c02", "c03"]
    assert [c.client_id for c in second] == ["c04", "c05", "c06", "c07"]
    assert [c.client_id for c in rest] == ["c08", "c09", "c10", "c11"]
    assert after_last == []
    assert [c.client_id for c in everything] == [f"c{i:02d}" for i in range(12)]


@pytest.mark.parametrize("ids", [["B-1", "a-1", "a_1", "a.1", "A", "a", "Z", "ø", "é", "a1", "a-"]])
def test_client_order_is_code_point_order(store: Store, ids: list[str]) -> None:
    """Sorting and `after_client_id` follow code points on every backend (no locale collation)."""
    with store.begin() as uow:
        for client_id in ids:
            uow.put_client(client(client_id))
    with store.begin() as uow:
        listed = [c.client_id for c in uow.list_clients()]
        after = [c.client_id for c in uow.list_clients(after_client_id="a")]
    assert listed == sorted(ids)
    assert after == [i for i in sorted(ids) if i > "a"]


def test_iter_all_clients_pages_past_500(store: Store) -> None:
    with store.begin() as uow:
        for i in range(1203):
            uow.put_client(client(f"bulk-{i:05d}", orgno=ORG_A if i % 2 else ORG_B, created=at(i)))
    with store.begin() as uow:
        assert sum(1 for _ in iter_all_clients(uow)) == 1203
        assert sum(1 for _ in iter_all_clients(uow, client_orgno=ORG_A)) == 601


def test_key_holders_names_the_client_of_each_registered_kid(store: Store) -> None:
    """docs/protocol.md §3.3: a kid names one key across all clients, deactivated ones too."""
    with store.begin() as uow:
        uow.put_client(client("c1", keys=(key("a"), key("b"))))
        uow.put_client(client("c2", active=False, keys=(key("c"),)))
        assert uow.get_key_holders(["c"]) == {"c": "c2"}, "the transaction sees its own writes"
    with store.read() as uow:
        assert uow.get_key_holders(["a", "c", "nope", "a"]) == {"a": "c1", "c": "c2"}
        assert uow.get_key_holders([]) == {}


def test_put_client_refuses_a_kid_another_client_holds(store: Store) -> None:
    with store.begin() as uow:
        uow.put_client(client("c1", keys=(key("shared"),)))
    with pytest.raises(Conflict) as refused, store.begin() as uow:
        uow.put_client(client("c2", keys=(key("own"), key("shared"))))
    assert '"shared"' in refused.value.message and "c1" not in refused.value.message
    with store.read() as uow:
        assert uow.get_client("c2") is None and uow.get_key_holders(["shared", "own"]) == {"shared": "c1"}


def test_a_kid_moves_once_its_client_lets_it_go(store: Store) -> None:
    with store.begin() as uow:
        uow.put_client(client("c1", keys=(key("k"),)))
    with store.begin() as uow:
        uow.put_client(client("c1", keys=(key("k", n="renewed"),)))
        uow.put_client(client("c1", keys=()))
        uow.put_client(client("c2", keys=(key("k"),)))
    with store.read() as uow:
        assert uow.get_key_holders(["k"]) == {"k": "c2"}
