"""Contract: delegation schemes and delegations (docs/protocol.md §4.1), and the token-time check has_delegation
(§4.2)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portvakt.domain.errors import NotFound
from portvakt.domain.ports import Store, UnitOfWork

from .builders import ORG_A, ORG_B, ORG_C, at, delegation, scheme
from .conftest import Backend, RollbackError, fail_inside

ORG_D = "920000002"


def test_scheme_round_trips_every_field(store: Store) -> None:
    full = scheme("s1", scopes=("brreg:b", "brreg:a", "skatt:x"), owner=ORG_B, active=False,
                  title={"nb": "Tittel", "nn": "Tittel", "en": "Title"}, description={})
    with store.begin() as uow:
        assert uow.get_scheme("s1") is None
        uow.put_scheme(full)
        assert uow.get_scheme("s1") == full
    with store.read() as uow:
        found = uow.get_scheme("s1")
        assert uow.get_scheme("S1") is None
    assert found == full
    assert found is not None
    assert isinstance(found.scopes, tuple)
    assert found.scopes == ("brreg:b", "brreg:a", "skatt:x")  # the order given, not sorted


def test_put_scheme_upserts_texts_scopes_and_state(store: Store) -> None:
    with store.begin() as uow:
        uow.put_scheme(scheme("s1", scopes=("brreg:a", "brreg:b")))
    changed = scheme("s1", scopes=("brreg:c",), owner=ORG_B, title={"en": "New"}, description={"en": "d"},
                     last_updated=at(60), active=False)
    with store.begin() as uow:
        uow.put_scheme(changed)
    with store.read() as uow:
        assert uow.get_scheme("s1") == changed
        assert uow.list_schemes(include_inactive=True) == [changed]
        assert uow.list_schemes(scope="brreg:a", include_inactive=True) == []
        assert uow.list_schemes(scope="brreg:c", include_inactive=True) == [changed]


def test_list_schemes_sorted_and_filtered_by_owner_scope_and_state(store: Store) -> None:
    with store.begin() as uow:
        for made in (scheme("s-z", scopes=("brreg:a", "brreg:b")), scheme("S-up", scopes=("brreg:b",)),
                     scheme("s-b", scopes=("skatt:x",), owner=ORG_B),
                     scheme("s-a", scopes=("brreg:a",), active=False), scheme("s-ø", scopes=())):
            uow.put_scheme(made)
    with store.read() as uow:
        assert [s.scheme_id for s in uow.list_schemes()] == ["S-up", "s-b", "s-z", "s-ø"]
        assert [s.scheme_id for s in uow.list_schemes(include_inactive=True)] == ["S-up", "s-a", "s-b", "s-z",
                                                                                  "s-ø"]
        assert [s.scheme_id for s in uow.list_schemes(owner_orgno=ORG_B)] == ["s-b"]
        assert [s.scheme_id for s in uow.list_schemes(scope="brreg:a")] == ["s-z"]
        assert [s.scheme_id for s in uow.list_schemes(scope="brreg:a", include_inactive=True)] == ["s-a", "s-z"]
        assert [s.scheme_id for s in uow.list_schemes(scope="brreg:b", owner_orgno=ORG_A)] == ["S-up", "s-z"]
        assert uow.list_schemes(scope="brreg:b", owner_orgno=ORG_B) == []
        assert uow.list_schemes(scope="brreg") == []  # a whole scope name, not a prefix
        assert uow.list_schemes(owner_orgno=ORG_C) == []
        assert uow.list_schemes(scope="brreg:a")[0] == scheme("s-z", scopes=("brreg:a", "brreg:b"))


def test_a_scheme_may_name_a_scope_twice(store: Store) -> None:
    twice = scheme("s1", scopes=("brreg:a", "brreg:a"))
    with store.begin() as uow:
        uow.put_scheme(twice)
        uow.put_delegation(delegation("d1"))
    with store.read() as uow:
        assert uow.get_scheme("s1") == twice
        assert uow.list_schemes(scope="brreg:a") == [twice]
        assert uow.has_delegation(ORG_B, ORG_C, "brreg:a") is True


def test_delegation_round_trips_every_field(store: Store) -> None:
    full = delegation("d1", created=datetime(2025, 6, 1, 12, 0, 0, 5, tzinfo=UTC), created_by="ola@consumer",
                      revoked=datetime(2025, 6, 2, 7, 30, tzinfo=UTC), revoked_by="kari@consumer")
    with store.begin() as uow:
        uow.put_scheme(scheme("s1"))
        assert uow.get_delegation("d1") is None
        uow.put_delegation(full)
        uow.put_delegation(delegation("d2"))
        assert uow.get_delegation("d1") == full
    with store.read() as uow:
        found = uow.get_delegation("d1")
        assert uow.get_delegation("d2") == delegation("d2")
        assert uow.get_delegation("d3") is None
    assert found == full
    assert found is not None
    assert found.active is False


def test_put_delegation_upserts_and_revoking_keeps_the_row(store: Store) -> None:
    with store.begin() as uow:
        uow.put_scheme(scheme("s1"))
        uow.put_scheme(scheme("s2"))
        uow.put_delegation(delegation("d1", created_by="ola"))
    revoked = delegation("d1", created_by="ola", revoked=at(30), revoked_by="kari")
    with store.begin() as uow:
        uow.put_delegation(revoked)
    with store.read() as uow:
        assert uow.get_delegation("d1") == revoked
        assert uow.list_delegations() == []
        assert uow.list_delegations(include_revoked=True) == [revoked]
    restored = delegation("d1", scheme_id="s2", supplier=ORG_D)
    with store.begin() as uow:
        uow.put_delegation(restored)  # every field is overwritten, the revocation too
    with store.read() as uow:
        assert uow.list_delegations(include_revoked=True) == [restored]


def test_list_delegations_sorted_by_created_then_id_and_filtered(store: Store) -> None:
    made = [
        delegation("d-b", ORG_B, ORG_C, "s1", created=at(10)),
        delegation("d-a", ORG_B, ORG_C, "s2", created=at(10)),
        delegation("d-c", ORG_A, ORG_C, "s1", created=at(5)),
        delegation("d-d", ORG_B, ORG_D, "s1", created=at(20)),
        delegation("d-e", ORG_B, ORG_C, "s1", created=at(1), revoked=at(2), revoked_by="x"),
        delegation("d-f", ORG_C, ORG_B, "s1", created=at(30)),
    ]
    with store.begin() as uow:
        uow.put_scheme(scheme("s1"))
        uow.put_scheme(scheme("s2"))
        for d in made:
            uow.put_delegation(d)

    def ids(uow: UnitOfWork, **filters: object) -> list[str]:
        return [d.delegation_id for d in uow.list_delegations(**filters)]  # type: ignore[arg-type]

    with store.read() as uow:
        assert ids(uow) == ["d-c", "d-a", "d-b", "d-d", "d-f"]
        assert ids(uow, include_revoked=True) == ["d-e", "d-c", "d-a", "d-b", "d-d", "d-f"]
        assert ids(uow, consumer_orgno=ORG_B) == ["d-a", "d-b", "d-d"]
        assert ids(uow, consumer_orgno=ORG_B, include_revoked=True) == ["d-e", "d-a", "d-b", "d-d"]
        assert ids(uow, supplier_orgno=ORG_C) == ["d-c", "d-a", "d-b"]
        assert ids(uow, supplier_orgno=ORG_B) == ["d-f"]
        assert ids(uow, scheme_id="s2") == ["d-a"]
        assert ids(uow, consumer_orgno=ORG_B, supplier_orgno=ORG_C, scheme_id="s1") == ["d-b"]
        assert ids(uow, consumer_orgno=ORG_D) == []
        assert uow.list_delegations(scheme_id="s2") == [made[1]]


def test_a_delegation_needs_its_scheme(store: Store) -> None:
    with store.begin() as uow:
        uow.put_scheme(scheme("s1"))

    def delegate_twice() -> None:
        with store.begin() as uow:
            uow.put_delegation(delegation("d1"))
            uow.put_delegation(delegation("d2", scheme_id="nope"))

    with pytest.raises(NotFound, match="nope"):
        delegate_twice()
    with store.read() as uow:  # the whole unit of work rolled back
        assert uow.list_delegations(include_revoked=True) == []


def _setup_for_has_delegation(uow: UnitOfWork) -> None:
    """ORG_B (consumer) has given ORG_C (supplier) some schemes; each case below differs in one way."""
    uow.put_scheme(scheme("active", scopes=("brreg:a", "brreg:b")))
    uow.put_scheme(scheme("inactive", scopes=("brreg:inactive",), active=False))
    uow.put_scheme(scheme("revoked", scopes=("brreg:revoked",)))
    uow.put_scheme(scheme("undelegated", scopes=("brreg:undelegated",)))
    uow.put_delegation(delegation("d-active", ORG_B, ORG_C, "active"))
    uow.put_delegation(delegation("d-inactive", ORG_B, ORG_C, "inactive"))
    uow.put_delegation(delegation("d-revoked", ORG_B, ORG_C, "revoked", revoked=at(5), revoked_by="kari"))
    uow.put_delegation(delegation("d-other-pair", ORG_A, ORG_D, "undelegated"))


HAS_DELEGATION_CASES = {  # case: (consumer, supplier, scope, expected); one set-up, every case
    "active": (ORG_B, ORG_C, "brreg:a", True),
    "second scope of the scheme": (ORG_B, ORG_C, "brreg:b", True),
    "no delegation": (ORG_B, ORG_C, "brreg:undelegated", False),
    "revoked delegation": (ORG_B, ORG_C, "brreg:revoked", False),
    "inactive scheme": (ORG_B, ORG_C, "brreg:inactive", False),
    "scheme does not name the scope": (ORG_B, ORG_C, "brreg:c", False),
    "a prefix is not a scope": (ORG_B, ORG_C, "brreg", False),
    "wrong direction (supplier and consumer swapped)": (ORG_C, ORG_B, "brreg:a", False),
    "other supplier": (ORG_B, ORG_D, "brreg:a", False),
    "other consumer": (ORG_A, ORG_C, "brreg:a", False),
}


def test_has_delegation(store: Store) -> None:
    with store.begin() as uow:
        _setup_for_has_delegation(uow)
    with store.read() as uow:
        found = {case: uow.has_delegation(consumer, supplier, scope)
                 for case, (consumer, supplier, scope, _) in HAS_DELEGATION_CASES.items()}
    assert found == {case: expected for case, (*_, expected) in HAS_DELEGATION_CASES.items()}


def test_has_delegation_follows_changes_in_the_same_unit_of_work(store: Store) -> None:
    with store.begin() as uow:
        _setup_for_has_delegation(uow)
    with store.begin() as uow:
        assert uow.has_delegation(ORG_B, ORG_C, "brreg:a") is True
        uow.put_scheme(scheme("active", scopes=("brreg:b",)))  # brreg:a dropped from the scheme
        assert uow.has_delegation(ORG_B, ORG_C, "brreg:a") is False
        assert uow.has_delegation(ORG_B, ORG_C, "brreg:b") is True
        uow.put_scheme(scheme("inactive", scopes=("brreg:inactive",)))  # reactivated
        assert uow.has_delegation(ORG_B, ORG_C, "brreg:inactive") is True
        uow.put_delegation(delegation("d-revoked", ORG_B, ORG_C, "revoked"))  # delegated again
        assert uow.has_delegation(ORG_B, ORG_C, "brreg:revoked") is True
        uow.put_delegation(delegation("d-active", ORG_B, ORG_C, "active", revoked=at(9)))
        assert uow.has_delegation(ORG_B, ORG_C, "brreg:b") is False
    with store.read() as uow:
        assert uow.has_delegation(ORG_B, ORG_C, "brreg:b") is False
        assert uow.has_delegation(ORG_B, ORG_C, "brreg:revoked") is True


def test_has_delegation_when_one_of_several_delegations_qualifies(store: Store) -> None:
    with store.begin() as uow:
        uow.put_scheme(scheme("off", scopes=("brreg:a",), active=False))
        uow.put_scheme(scheme("other", scopes=("brreg:b",)))
        uow.put_scheme(scheme("on", scopes=("brreg:a",)))
        uow.put_delegation(delegation("d1", scheme_id="off"))
        uow.put_delegation(delegation("d2", scheme_id="other"))
        uow.put_delegation(delegation("d3", scheme_id="on", revoked=at(1)))
        assert uow.has_delegation(ORG_B, ORG_C, "brreg:a") is False
        uow.put_delegation(delegation("d4", scheme_id="on"))
        assert uow.has_delegation(ORG_B, ORG_C, "brreg:a") is True


def test_rolled_back_schemes_and_delegations_are_gone(store: Store) -> None:
    with store.begin() as uow:
        uow.put_scheme(scheme("s1"))
        uow.put_delegation(delegation("d1"))

    def change(uow: UnitOfWork) -> None:
        uow.put_scheme(scheme("s1", scopes=("brreg:z",), active=False))
        uow.put_scheme(scheme("s2"))
        uow.put_delegation(delegation("d1", revoked=at(3)))
        uow.put_delegation(delegation("d2", scheme_id="s2"))

    with pytest.raises(RollbackError):
        fail_inside(store, change)
    with store.read() as uow:
        assert uow.list_schemes(include_inactive=True) == [scheme("s1")]
        assert uow.list_schemes(scope="brreg:z", include_inactive=True) == []
        assert uow.list_delegations(include_revoked=True) == [delegation("d1")]
        assert uow.has_delegation(ORG_B, ORG_C, "brreg:a") is True


def test_schemes_and_delegations_are_shared_between_stores_on_one_database(backend: Backend) -> None:
    other, _ = backend.another()
    with backend.store.begin() as uow:
        uow.put_scheme(scheme("s1"))
        uow.put_delegation(delegation("d1"))
    with other.read() as uow:
        assert uow.list_schemes() == [scheme("s1")]
        assert uow.list_delegations() == [delegation("d1")]
        assert uow.has_delegation(ORG_B, ORG_C, "brreg:a") is True

