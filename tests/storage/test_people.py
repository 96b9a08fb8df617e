"""Contract: people (portal accounts) with their roles per organisation, and the person behind an audit event."""

from __future__ import annotations

import dataclasses

import pytest

from portvakt.domain.models import PortalRole
from portvakt.domain.ports import Store

from .builders import ORG_A, ORG_B, ORG_C, at, event, person, role
from .conftest import RollbackError, fail_inside

IR, AM, API = PortalRole.INTEGRATION_RESPONSIBLE, PortalRole.ACCESS_MANAGER, PortalRole.API_ADMIN


def test_person_round_trips_every_field_and_role_order(store: Store) -> None:
    full = person("ida@vendor.test", roles=(role(ORG_B, AM), role(ORG_A, API), role(ORG_A, IR)),
                  name="Ida Ærlig-Østby", mobile="+4791234567", active=False)
    with store.begin() as uow:
        assert uow.get_person("ida@vendor.test") is None
        uow.put_person(full)
        assert uow.get_person("ida@vendor.test") == full
    with store.read() as uow:
        found = uow.get_person("ida@vendor.test")
        assert uow.get_person("IDA@vendor.test") is None
    assert found == full
    assert found is not None and isinstance(found.roles, tuple)
    assert [r.role for r in found.roles] == [AM, API, IR]
    assert all(isinstance(r.role, PortalRole) for r in found.roles)


def test_put_person_replaces_fields_and_roles(store: Store) -> None:
    with store.begin() as uow:
        uow.put_person(person("ida", roles=(role(ORG_A), role(ORG_B, AM))))
    changed = person("ida", roles=(role(ORG_C, API),), name="Ida", mobile="+4690000000", password_hash="new",
                     updated=at(60), active=False)
    with store.begin() as uow:
        uow.put_person(changed)
    with store.read() as uow:
        assert uow.get_person("ida") == changed
        assert uow.list_people(ORG_A) == []
        assert uow.list_people(ORG_C) == [changed]
    with store.begin() as uow:
        uow.put_person(dataclasses.replace(changed, roles=()))
    with store.read() as uow:
        assert uow.list_people(ORG_C) == []
        assert uow.list_people() == [dataclasses.replace(changed, roles=())]


def test_list_people_sorted_by_username_and_filtered_by_org(store: Store) -> None:
    made = [person("ola", roles=(role(ORG_A),)), person("Ada", roles=(role(ORG_B, AM), role(ORG_A, API))),
            person("kari", roles=(role(ORG_B),), active=False), person("nobody")]
    with store.begin() as uow:
        for p in made:
            uow.put_person(p)
    with store.read() as uow:
        assert [p.username for p in uow.list_people()] == ["Ada", "kari", "nobody", "ola"]
        assert [p.username for p in uow.list_people(ORG_A)] == ["Ada", "ola"]
        assert [p.username for p in uow.list_people(ORG_B)] == ["Ada", "kari"]
        assert uow.list_people(ORG_C) == []
        assert uow.list_people(ORG_A)[0] == made[1]  # with all its roles, not just those for ORG_A


def test_people_roll_back_with_the_unit_of_work(store: Store) -> None:
    with store.begin() as uow:
        uow.put_person(person("ida", roles=(role(ORG_A),)))
    with pytest.raises(RollbackError):
        fail_inside(store, lambda uow: (uow.put_person(person("ida", roles=())), uow.put_person(person("ola"))))
    with store.read() as uow:
        assert uow.get_person("ida") == person("ida", roles=(role(ORG_A),))
        assert uow.get_person("ola") is None


def test_audit_event_keeps_the_acting_person(store: Store) -> None:
    with store.begin() as uow:
        uow.append_audit(dataclasses.replace(event("c1", (ORG_A,)), actor_person="ida@vendor.test"))
        uow.append_audit(event("c2", (ORG_A,), at(1)))
    with store.read() as uow:
        found = uow.list_audit(org=ORG_A)
    assert [(e.entity_key, e.actor_person) for e in found] == [("c2", None), ("c1", "ida@vendor.test")]
