"""Use-cases of delegations (docs/protocol.md §4.1 step 5, §4.2 step 4): each rule, history, audit and change feed."""

from __future__ import annotations

import pytest

from portvakt.domain.audit import Actor
from portvakt.domain.clock import FixedClock
from portvakt.domain.delegations import deactivate_scheme, delegate, delegations_between, revoke_delegation
from portvakt.domain.errors import Invalid, NotFound
from portvakt.domain.models import Delegation
from portvakt.storage.memory import MemoryStore
from tests.altinn.conftest import DELEGABLE, PROVIDER_ACTOR, new_scheme
from tests.conftest import CONSUMER, OTHER, PROVIDER, VENDOR

CONSUMER_ACTOR = Actor(CONSUMER, "admin-consumer")
PAIR = f"{CONSUMER}|{VENDOR}"


def give(store: MemoryStore, clock: FixedClock, scheme_id: str, consumer: str = CONSUMER,
         supplier: str = VENDOR) -> tuple[Delegation, bool]:
    with store.begin() as uow:
        return delegate(uow, consumer, supplier, scheme_id, CONSUMER_ACTOR, clock.now())


def has(store: MemoryStore, scope: str = DELEGABLE) -> bool:
    with store.read() as uow:
        return uow.has_delegation(CONSUMER, VENDOR, scope)


def test_delegate_records_pair_in_audit_and_change_feed(store: MemoryStore, clock: FixedClock) -> None:
    scheme = new_scheme(store, clock)
    seq = store.last_change_seq()
    made, created = give(store, clock, scheme.scheme_id)
    assert created and made.active and made.created_by == "admin-consumer" and made.created == clock.now()
    assert (made.consumer_orgno, made.supplier_orgno, made.scheme_id) == (CONSUMER, VENDOR, scheme.scheme_id)
    assert [(c.kind, c.key) for c in store.changes_since(seq)] == [("delegation", PAIR)]
    with store.read() as uow:
        for org in (CONSUMER, VENDOR, PROVIDER):
            event = uow.list_audit(org=org, entity_kind="delegation")[0]
            assert (event.action, event.entity_key) == ("delegation.create", PAIR)
        assert uow.list_audit(org=OTHER, entity_kind="delegation") == []
    assert has(store) and not has(store, "brreg:test/read")


def test_delegate_is_idempotent(store: MemoryStore, clock: FixedClock) -> None:
    scheme = new_scheme(store, clock)
    first, _ = give(store, clock, scheme.scheme_id)
    seq = store.last_change_seq()
    clock.advance(10)
    again, created = give(store, clock, scheme.scheme_id)
    assert again == first and not created and store.changes_since(seq) == []


@pytest.mark.parametrize(("consumer", "supplier", "field"), [
    (CONSUMER, CONSUMER, "supplier_org"), (CONSUMER, "123456785", "supplier_org"), (CONSUMER, "12", "supplier_org"),
    ("123456785", VENDOR, "consumer_org"),
])
def test_both_orgs_registered_and_different(store: MemoryStore, clock: FixedClock, consumer: str, supplier: str,
                                            field: str) -> None:
    scheme = new_scheme(store, clock)
    with pytest.raises(Invalid) as caught:
        give(store, clock, scheme.scheme_id, consumer, supplier)
    assert caught.value.field == field


def test_only_active_schemes_can_be_delegated(store: MemoryStore, clock: FixedClock) -> None:
    scheme = new_scheme(store, clock)
    with store.begin() as uow:
        deactivate_scheme(uow, scheme.scheme_id, PROVIDER, PROVIDER_ACTOR, clock.now())
    for scheme_id in (scheme.scheme_id, "no-such-scheme"):
        with pytest.raises(NotFound):
            give(store, clock, scheme_id)


def test_revoke_keeps_history_and_stops_the_delegation(store: MemoryStore, clock: FixedClock) -> None:
    scheme = new_scheme(store, clock)
    made, _ = give(store, clock, scheme.scheme_id)
    seq = store.last_change_seq()
    clock.advance(60)
    with store.begin() as uow:
        done = revoke_delegation(uow, made.delegation_id, CONSUMER, CONSUMER_ACTOR, clock.now())
    assert done.revoked == clock.now() and done.revoked_by == "admin-consumer" and not done.active
    assert [(c.kind, c.key) for c in store.changes_since(seq)] == [("delegation", PAIR)]
    assert not has(store)
    with store.read() as uow:
        assert uow.get_delegation(made.delegation_id) == done
        assert uow.list_delegations(consumer_orgno=CONSUMER) == []
        assert uow.list_delegations(consumer_orgno=CONSUMER, include_revoked=True) == [done]
        assert uow.list_audit(org=VENDOR, entity_kind="delegation")[0].action == "delegation.revoke"


def test_revoke_is_idempotent_and_a_new_delegation_can_follow(store: MemoryStore, clock: FixedClock) -> None:
    scheme = new_scheme(store, clock)
    made, _ = give(store, clock, scheme.scheme_id)
    with store.begin() as uow:
        first = revoke_delegation(uow, made.delegation_id, CONSUMER, CONSUMER_ACTOR, clock.now())
    clock.advance(5)
    with store.begin() as uow:
        assert revoke_delegation(uow, made.delegation_id, CONSUMER, CONSUMER_ACTOR, clock.now()) == first
    renewed, created = give(store, clock, scheme.scheme_id)
    assert created and renewed.delegation_id != made.delegation_id and has(store)


@pytest.mark.parametrize("who", [VENDOR, OTHER, PROVIDER])
def test_only_the_consumer_revokes(store: MemoryStore, clock: FixedClock, who: str) -> None:
    """The supplier, the provider and bystanders get NotFound (never told it exists)."""
    made, _ = give(store, clock, new_scheme(store, clock).scheme_id)
    with pytest.raises(NotFound), store.begin() as uow:
        revoke_delegation(uow, made.delegation_id, who, Actor(who, "x"), clock.now())
    assert has(store)


def test_operator_revokes_any(store: MemoryStore, clock: FixedClock) -> None:
    made, _ = give(store, clock, new_scheme(store, clock).scheme_id)
    with store.begin() as uow:
        assert revoke_delegation(uow, made.delegation_id, None, Actor.operator(), clock.now()).revoked_by \
            == "operator:cli"
    with pytest.raises(NotFound), store.begin() as uow:
        revoke_delegation(uow, "no-such-delegation", None, Actor.operator(), clock.now())


def test_deactivating_the_scheme_stops_its_delegations(store: MemoryStore, clock: FixedClock) -> None:
    scheme = new_scheme(store, clock)
    give(store, clock, scheme.scheme_id)
    with store.begin() as uow:
        deactivate_scheme(uow, scheme.scheme_id, PROVIDER, PROVIDER_ACTOR, clock.now())
    assert not has(store)


def test_delegations_between_filters_scope_state_and_pair(store: MemoryStore, clock: FixedClock) -> None:
    scheme = new_scheme(store, clock)
    made, _ = give(store, clock, scheme.scheme_id)
    give(store, clock, scheme.scheme_id, CONSUMER, OTHER)
    with store.read() as uow:
        assert delegations_between(uow, CONSUMER, VENDOR, DELEGABLE) == [(made, scheme)]
        assert delegations_between(uow, CONSUMER, VENDOR, "brreg:test/read") == []
        assert delegations_between(uow, VENDOR, CONSUMER, DELEGABLE) == []
