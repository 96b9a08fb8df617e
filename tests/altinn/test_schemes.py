"""Use-cases of delegation schemes (docs/protocol.md §4.1 step 2): each rule, the audit trail and the change feed."""

from __future__ import annotations

from typing import Any

import pytest

from portvakt.domain.audit import Actor
from portvakt.domain.clock import FixedClock
from portvakt.domain.delegations import create_scheme, deactivate_scheme, update_scheme
from portvakt.domain.errors import DomainError, Invalid, NotFound
from portvakt.storage.memory import MemoryStore
from tests.altinn.conftest import DELEGABLE, PROVIDER_ACTOR, new_scheme
from tests.conftest import CONSUMER, PROVIDER

TITLE = {"nb": "Tittel"}


def refused(store: MemoryStore, clock: FixedClock, error: type[DomainError], field: str, text: str = "",
            **kw: Any) -> DomainError:
    """create_scheme with these arguments raises `error` naming the field (and mentioning `text`)."""
    args: dict[str, object] = {"owner_orgno": PROVIDER, "scopes": (DELEGABLE,), "title": TITLE, "description": {}}
    args.update(kw)
    with pytest.raises(error) as caught, store.begin() as uow:
        create_scheme(uow, actor=PROVIDER_ACTOR, now=clock.now(), **args)  # type: ignore[arg-type]
    assert caught.value.field == field and text in caught.value.message, caught.value.message
    return caught.value


def test_create_scheme_records_audit_and_change(store: MemoryStore, clock: FixedClock) -> None:
    seq = store.last_change_seq()
    scheme = new_scheme(store, clock)
    assert scheme.owner_orgno == PROVIDER and scheme.scopes == (DELEGABLE,) and scheme.active
    assert scheme.title == {"nb": "Reelle rettighetshavere - På vegne av", "en": "Beneficial owners"}
    assert scheme.created == scheme.last_updated == clock.now() and len(scheme.scheme_id) == 36
    with store.read() as uow:
        assert uow.get_scheme(scheme.scheme_id) == scheme
        event = uow.list_audit(org=PROVIDER, entity_kind="scheme")[0]
    assert (event.action, event.entity_key, event.actor_client_id) == ("scheme.create", scheme.scheme_id,
                                                                        "admin-provider")
    assert [(c.kind, c.key) for c in store.changes_since(seq)] == [("scheme", scheme.scheme_id)]


def test_texts_are_stripped_ordered_and_duplicates_of_scopes_dropped(store: MemoryStore, clock: FixedClock) -> None:
    with store.begin() as uow:
        s = create_scheme(uow, PROVIDER, [DELEGABLE, DELEGABLE], {"en": " T ", "nb": " Tittel ", "nn": ""},
                          {}, PROVIDER_ACTOR, clock.now())
    assert s.scopes == (DELEGABLE,) and list(s.title.items()) == [("nb", "Tittel"), ("en", "T")]
    assert s.description == {}


@pytest.mark.parametrize("scope", ["brreg:test/read", "idporten:dcr.read", "brreg:nope", "nocolon"])
def test_scope_must_be_own_and_delegable(store: MemoryStore, clock: FixedClock, scope: str) -> None:
    """docs/protocol.md §4.1: the owner's own scopes that have a delegation_source; the error names the scope."""
    refused(store, clock, Invalid, "scopes", scope, scopes=(DELEGABLE, scope))


def test_scope_without_delegation_source_says_so(store: MemoryStore, clock: FixedClock) -> None:
    refused(store, clock, Invalid, "scopes", "delegation_source", scopes=("brreg:test/read",))


def test_deactivated_scope_is_refused(store: MemoryStore, clock: FixedClock) -> None:
    from portvakt.domain.scopes import deactivate_scope

    with store.begin() as uow:
        deactivate_scope(uow, DELEGABLE, Actor.operator(), clock.now())
    refused(store, clock, Invalid, "scopes", DELEGABLE)


@pytest.mark.parametrize("scopes", [(), tuple(f"brreg:x{i}" for i in range(51))])
def test_one_to_fifty_scopes(store: MemoryStore, clock: FixedClock, scopes: tuple[str, ...]) -> None:
    refused(store, clock, Invalid, "scopes", scopes=scopes)


@pytest.mark.parametrize(("field", "texts"), [
    ("title", {}), ("title", {"en": "Only English"}), ("title", {"nb": "  "}), ("title", {"de": "Titel"}),
    ("title", {"nb": "x" * 201}), ("title", {"nb": "a\x00b"}), ("description", {"nn": "Berre nynorsk"}),
    ("description", {"nb": "x" * 4001}),
])
def test_texts_need_nb(store: MemoryStore, clock: FixedClock, field: str, texts: dict[str, str]) -> None:
    """Titled (and, if described, described) in nb/nn/en with at least nb."""
    kw: dict[str, Any] = {field: texts}
    refused(store, clock, Invalid, field, **kw)


@pytest.mark.parametrize(("owner", "text"), [("123", "9-digit"), ("123456785", "not a registered")])
def test_owner_must_be_registered(store: MemoryStore, clock: FixedClock, owner: str, text: str) -> None:
    refused(store, clock, Invalid, "owner_org", text, owner_orgno=owner)


def test_update_replaces_scopes_and_texts(store: MemoryStore, clock: FixedClock) -> None:
    scheme = new_scheme(store, clock)
    clock.advance(5)
    with store.begin() as uow:
        after = update_scheme(uow, scheme.scheme_id, PROVIDER, [DELEGABLE], {"nb": "Ny", "nn": "Ny nn"}, {},
                              PROVIDER_ACTOR, clock.now())
    assert after.title == {"nb": "Ny", "nn": "Ny nn"} and after.description == {}
    assert after.created == scheme.created and after.last_updated == clock.now() and after.active


def test_update_rechecks_scopes_and_reactivates(store: MemoryStore, clock: FixedClock) -> None:
    scheme = new_scheme(store, clock)
    with pytest.raises(Invalid), store.begin() as uow:
        update_scheme(uow, scheme.scheme_id, PROVIDER, ["brreg:test/read"], TITLE, {}, PROVIDER_ACTOR, clock.now())
    with store.begin() as uow:
        deactivate_scheme(uow, scheme.scheme_id, PROVIDER, PROVIDER_ACTOR, clock.now())
        again = update_scheme(uow, scheme.scheme_id, PROVIDER, [DELEGABLE], TITLE, {}, PROVIDER_ACTOR,
                              clock.now(), active=True)
    assert again.active


def test_another_orgs_scheme_is_not_found(store: MemoryStore, clock: FixedClock) -> None:
    scheme = new_scheme(store, clock)
    with pytest.raises(NotFound), store.begin() as uow:
        update_scheme(uow, scheme.scheme_id, CONSUMER, [DELEGABLE], TITLE, {}, PROVIDER_ACTOR, clock.now())
    with pytest.raises(NotFound), store.begin() as uow:
        deactivate_scheme(uow, scheme.scheme_id, CONSUMER, PROVIDER_ACTOR, clock.now())
    with pytest.raises(NotFound), store.begin() as uow:
        deactivate_scheme(uow, "no-such-scheme", None, Actor.operator(), clock.now())


def test_deactivate_is_idempotent_and_audited_once(store: MemoryStore, clock: FixedClock) -> None:
    scheme = new_scheme(store, clock)
    for _ in range(2):
        with store.begin() as uow:
            done = deactivate_scheme(uow, scheme.scheme_id, PROVIDER, PROVIDER_ACTOR, clock.now())
        assert not done.active
    with store.read() as uow:
        actions = [e.action for e in uow.list_audit(org=PROVIDER, entity_kind="scheme")]
    assert actions == ["scheme.deactivate", "scheme.create"]


def test_operator_may_deactivate_any_scheme(store: MemoryStore, clock: FixedClock) -> None:
    scheme = new_scheme(store, clock)
    with store.begin() as uow:
        assert not deactivate_scheme(uow, scheme.scheme_id, None, Actor.operator(), clock.now()).active
