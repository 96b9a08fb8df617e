"""Contract: the system register, system-user requests, system users and agents' clients (docs/protocol.md §6),
and the token path's lookup find_system_user (§6.5), on every store."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import pytest

from portvakt.domain.errors import Conflict, NotFound
from portvakt.domain.models import (
    AgentClient,
    RegisteredSystem,
    RequestStatus,
    SystemRight,
    SystemUser,
    SystemUserRequest,
    SystemUserType,
)
from portvakt.domain.ports import Store, UnitOfWork

from .builders import ORG_A, ORG_B, ORG_C, T0, at
from .conftest import Backend, RollbackError, fail_inside

ORG_D = "920000002"
SYS = f"{ORG_A}_smartcloud"
RIGHT = SystemRight(resource=(("urn:altinn:resource", "app_ttd_demo"),), action="read")


def registered_system(system_id: str = SYS, client_ids: tuple[str, ...] = (), **overrides: Any) -> RegisteredSystem:
    """A system of the vendor its id names (the text before the first `_`)."""
    fields: dict[str, Any] = {
        "system_id": system_id, "internal_id": f"uuid-{system_id}", "vendor_orgno": system_id.split("_", 1)[0],
        "name": {"nb": f"System {system_id}", "en": f"System {system_id}"}, "description": {"nb": "ærlig"},
        "created": T0, "last_updated": at(1), "client_ids": client_ids,
    }
    fields.update(overrides)
    return RegisteredSystem(**fields)


def system_user_request(request_id: str, system_id: str = SYS, party: str = ORG_B, external_ref: str = ORG_B,
                        created: datetime = T0, **overrides: Any) -> SystemUserRequest:
    """A new standard request of `system_id`'s vendor to `party`."""
    fields: dict[str, Any] = {
        "request_id": request_id, "user_type": SystemUserType.STANDARD, "system_id": system_id,
        "vendor_orgno": system_id.split("_", 1)[0], "party_orgno": party, "external_ref": external_ref,
        "integration_title": f"Integration {request_id}", "status": RequestStatus.NEW, "created": created,
        "last_updated": created,
    }
    fields.update(overrides)
    return SystemUserRequest(**fields)


def system_user(system_user_id: str, system_id: str = SYS, owner: str = ORG_B, external_ref: str | None = None,
                **overrides: Any) -> SystemUser:
    """A standard system user of `owner` for `system_id` (external_ref defaults to the owner's orgno)."""
    fields: dict[str, Any] = {
        "system_user_id": system_user_id, "user_type": SystemUserType.STANDARD, "system_id": system_id,
        "vendor_orgno": system_id.split("_", 1)[0], "owner_orgno": owner,
        "external_ref": owner if external_ref is None else external_ref,
        "integration_title": f"Integration {system_user_id}", "created": T0, "last_updated": at(1),
    }
    fields.update(overrides)
    return SystemUser(**fields)


def agent_client(system_user_id: str, client_orgno: str, added_by: str | None = "ida") -> AgentClient:
    """A client added to an agent system user."""
    return AgentClient(system_user_id=system_user_id, client_orgno=client_orgno, added=at(2), added_by=added_by)


def _put_users(uow: UnitOfWork, *users: SystemUser) -> list[SystemUser]:
    return [uow.put_system_user(u) for u in users]


# The system register

def test_system_round_trips_every_field(store: Store) -> None:
    full = registered_system(
        client_ids=("c-2", "C-1"), rights=(RIGHT, SystemRight(resource=(("urn:altinn:resource", "x"),
                                                                         ("urn:altinn:org", "ttd")))),
        access_packages=("urn:altinn:accesspackage:skattnaering",), allowed_redirect_urls=("https://v.example/cb",),
        is_visible=False, description={"nb": "Beskrivelse", "nn": "Skildring", "en": "Description"})
    with store.begin() as uow:
        assert uow.get_system(SYS) is None
        uow.put_system(full)
        assert uow.get_system(SYS) == full
    with store.read() as uow:
        found = uow.get_system(SYS)
    assert found == full
    assert found is not None and found.client_ids == ("c-2", "C-1")  # the order given
    assert found.rights[1].action is None and found.rights[1].resource_ids == ("x",)


def test_put_system_replaces_it_and_its_client_ids(store: Store) -> None:
    with store.begin() as uow:
        uow.put_system(registered_system(client_ids=("c1", "c2")))
    changed = registered_system(client_ids=("c3",), name={"en": "New"}, rights=(RIGHT,), last_updated=at(9))
    with store.begin() as uow:
        uow.put_system(changed)
    with store.read() as uow:
        assert uow.get_system(SYS) == changed
        assert uow.systems_with_client_id("c1") == []
        assert uow.systems_with_client_id("c3") == [changed]


def test_list_systems_sorted_filtered_by_vendor_and_without_deleted(store: Store) -> None:
    with store.begin() as uow:
        for made in (registered_system(f"{ORG_A}_b"), registered_system(f"{ORG_A}_A"),
                     registered_system(f"{ORG_B}_a"), registered_system(f"{ORG_A}_gone", deleted=True)):
            uow.put_system(made)
    with store.read() as uow:
        assert [s.system_id for s in uow.list_systems()] == [f"{ORG_B}_a", f"{ORG_A}_A", f"{ORG_A}_b"]
        assert [s.system_id for s in uow.list_systems(vendor_orgno=ORG_A)] == [f"{ORG_A}_A", f"{ORG_A}_b"]
        assert [s.system_id for s in uow.list_systems(vendor_orgno=ORG_A, include_deleted=True)] == [
            f"{ORG_A}_A", f"{ORG_A}_b", f"{ORG_A}_gone"]


def test_a_client_id_belongs_to_one_system_not_deleted_compared_without_case(store: Store) -> None:
    with store.begin() as uow:
        uow.put_system(registered_system(f"{ORG_A}_one", client_ids=("Client-1", "c2")))
    other = registered_system(f"{ORG_B}_two", client_ids=("x", "client-1"))
    with pytest.raises(Conflict, match=f"client id Client-1 is already used by system {ORG_A}_one"), \
            store.begin() as uow:
        uow.put_system(other)
    with store.read() as uow:
        assert uow.get_system(f"{ORG_B}_two") is None
        assert uow.systems_with_client_id("x") == []
    with store.begin() as uow:  # the holder itself may be written again with its ids
        uow.put_system(registered_system(f"{ORG_A}_one", client_ids=("c2", "Client-1"), last_updated=at(5)))
    with store.read() as uow:
        assert [s.system_id for s in uow.systems_with_client_id("CLIENT-1")] == [f"{ORG_A}_one"]


def test_a_system_may_not_list_one_client_id_twice(store: Store) -> None:
    with pytest.raises(Conflict, match="client id C1 is listed twice"), store.begin() as uow:
        uow.put_system(registered_system(client_ids=("c1", "C1")))
    with store.read() as uow:
        assert uow.get_system(SYS) is None


def test_deleting_a_system_frees_its_client_ids_and_keeps_it(store: Store) -> None:
    first = registered_system(f"{ORG_A}_one", client_ids=("c1",))
    with store.begin() as uow:
        uow.put_system(first)
    with store.begin() as uow:
        uow.put_system(dataclasses.replace(first, deleted=True))
    with store.read() as uow:
        assert uow.systems_with_client_id("c1") == []
        kept = uow.get_system(f"{ORG_A}_one")
        assert kept is not None and kept.deleted and kept.client_ids == ("c1",)
    second = registered_system(f"{ORG_B}_two", client_ids=("C1",))
    with store.begin() as uow:
        uow.put_system(second)
    with store.read() as uow:
        assert uow.systems_with_client_id("c1") == [second]
    with pytest.raises(Conflict, match=f"used by system {ORG_B}_two"), store.begin() as uow:
        uow.put_system(first)  # undeleting needs its ids back


# Requests

def test_request_round_trips_every_field(store: Store) -> None:
    full = system_user_request(
        "r1", user_type=SystemUserType.AGENT, status=RequestStatus.ACCEPTED, rights=(RIGHT,),
        access_packages=("urn:altinn:accesspackage:ansvarlig-revisor",), redirect_url="https://v.example/done",
        escalated=True, decided_by="ida", system_user_id="u1", last_updated=at(3), external_ref="ref-ø")
    with store.begin() as uow:
        uow.put_system(registered_system())
        assert uow.get_request("r1") is None
        uow.put_request(full)
        assert uow.get_request("r1") == full
    with store.read() as uow:
        assert uow.get_request("r1") == full
    replaced = dataclasses.replace(full, status=RequestStatus.REJECTED, deleted=True, redirect_url=None)
    with store.begin() as uow:
        uow.put_request(replaced)
    with store.read() as uow:
        assert uow.get_request("r1") == replaced


def test_a_request_needs_a_registered_system(store: Store) -> None:
    with pytest.raises(NotFound, match=f"no system {SYS}"), store.begin() as uow:
        uow.put_request(system_user_request("r1"))


def test_find_request_by_its_key_not_deleted(store: Store) -> None:
    other_sys = f"{ORG_A}_other"
    with store.begin() as uow:
        uow.put_system(registered_system())
        uow.put_system(registered_system(other_sys))
        uow.put_request(system_user_request("gone", external_ref="ref", deleted=True))
        uow.put_request(system_user_request("r1", external_ref="ref", created=at(5)))
        uow.put_request(system_user_request("r-agent", external_ref="ref", user_type=SystemUserType.AGENT))
        uow.put_request(system_user_request("r-party", party=ORG_C, external_ref="ref"))
        uow.put_request(system_user_request("r-sys", system_id=other_sys, external_ref="ref"))
    with store.read() as uow:
        assert uow.find_request(SYS, ORG_B, "ref", SystemUserType.STANDARD) == uow.get_request("r1")
        assert uow.find_request(SYS, ORG_B, "ref", SystemUserType.AGENT) == uow.get_request("r-agent")
        assert uow.find_request(SYS, ORG_C, "ref", SystemUserType.STANDARD) == uow.get_request("r-party")
        assert uow.find_request(other_sys, ORG_B, "ref", SystemUserType.STANDARD) == uow.get_request("r-sys")
        assert uow.find_request(SYS, ORG_B, "REF", SystemUserType.STANDARD) is None
        assert uow.find_request(SYS, ORG_D, "ref", SystemUserType.STANDARD) is None


def test_list_requests_pages_by_created_then_id(store: Store) -> None:
    with store.begin() as uow:
        uow.put_system(registered_system())
        uow.put_system(registered_system(f"{ORG_A}_other"))
        for i, when in enumerate((at(3), at(1), at(1), at(2), at(1))):
            uow.put_request(system_user_request(f"r{i}", external_ref=f"ref{i}", created=when))
        uow.put_request(system_user_request("z-gone", external_ref="g", created=at(1), deleted=True))
        uow.put_request(system_user_request("a-agent", user_type=SystemUserType.AGENT, created=at(1)))
        uow.put_request(system_user_request("a-other", system_id=f"{ORG_A}_other", created=at(1)))
    with store.read() as uow:
        every = uow.list_requests(SYS, SystemUserType.STANDARD)
        assert [r.request_id for r in every] == ["r1", "r2", "r4", "r3", "r0"]
        pages, after = [], None
        while page := uow.list_requests(SYS, SystemUserType.STANDARD, after=after, limit=2):
            pages.append([r.request_id for r in page])
            after = (page[-1].created, page[-1].request_id)
        assert pages == [["r1", "r2"], ["r4", "r3"], ["r0"]]
        assert [r.request_id for r in uow.list_requests(SYS, SystemUserType.AGENT)] == ["a-agent"]


# System users

def test_a_new_system_user_gets_the_next_seq_and_a_replace_keeps_it(store: Store) -> None:
    with store.begin() as uow:
        uow.put_system(registered_system())
        first, second = _put_users(uow, system_user("u1"), system_user("u2", owner=ORG_C))
        assert 0 < first.seq < second.seq
        assert uow.get_system_user("u1") == first
        assert first == dataclasses.replace(system_user("u1"), seq=first.seq)
    changed = system_user("u1", integration_title="Ny", deleted=True, last_updated=at(7))  # seq 0 given
    with store.begin() as uow:
        kept = uow.put_system_user(changed)
        third = uow.put_system_user(system_user("u3"))
        assert kept.seq == first.seq
        assert uow.put_system_user(dataclasses.replace(kept, seq=999)).seq == first.seq
    assert third.seq > second.seq
    with store.read() as uow:
        assert uow.get_system_user("u1") == dataclasses.replace(changed, seq=first.seq)
        assert uow.get_system_user("nope") is None


def test_system_user_round_trips_every_field(store: Store) -> None:
    full = system_user("u1", user_type=SystemUserType.AGENT, external_ref="ref-æ", rights=(RIGHT,),
                       access_packages=("urn:altinn:accesspackage:regnskapsforer-lonn",
                                        "urn:altinn:accesspackage:revisormedarbeider"),
                       created_by="ida", request_id="r1")
    with store.begin() as uow:
        uow.put_system(registered_system())
        stored = uow.put_system_user(full)
    with store.read() as uow:
        assert uow.get_system_user("u1") == stored == dataclasses.replace(full, seq=stored.seq)


def test_a_system_user_needs_a_registered_system(store: Store) -> None:
    with pytest.raises(NotFound, match=f"no system {SYS}"), store.begin() as uow:
        uow.put_system_user(system_user("u1"))
    with store.read() as uow:
        assert uow.get_system_user("u1") is None


def test_list_system_users_by_seq_filtered_and_paged(store: Store) -> None:
    other_sys = f"{ORG_A}_other"
    with store.begin() as uow:
        uow.put_system(registered_system())
        uow.put_system(registered_system(other_sys))
        made = _put_users(uow, system_user("u-z"), system_user("u-a", owner=ORG_C),
                          system_user("u-gone", deleted=True), system_user("u-m", system_id=other_sys),
                          system_user("u-b"))
    seqs = {u.system_user_id: u.seq for u in made}
    with store.read() as uow:
        assert [u.system_user_id for u in uow.list_system_users()] == ["u-z", "u-a", "u-m", "u-b"]
        assert [u.system_user_id for u in uow.list_system_users(include_deleted=True)] == [
            "u-z", "u-a", "u-gone", "u-m", "u-b"]
        assert [u.system_user_id for u in uow.list_system_users(system_id=SYS)] == ["u-z", "u-a", "u-b"]
        assert [u.system_user_id for u in uow.list_system_users(owner_orgno=ORG_B)] == ["u-z", "u-m", "u-b"]
        assert [u.system_user_id for u in uow.list_system_users(system_id=SYS, owner_orgno=ORG_B)] == ["u-z", "u-b"]
        pages, after = [], 0
        while page := uow.list_system_users(system_id=SYS, after_seq=after, limit=2):
            pages.append([u.system_user_id for u in page])
            after = page[-1].seq
        assert pages == [["u-z", "u-a"], ["u-b"]]
        assert [u.system_user_id for u in uow.list_system_users(after_seq=seqs["u-m"])] == ["u-b"]


# The token path's lookup

def _lookup_world(uow: UnitOfWork) -> None:
    uow.put_system(registered_system(client_ids=("client-1", "client-2")))
    uow.put_system(registered_system(f"{ORG_C}_foreign", client_ids=("client-3",)))
    uow.put_system(registered_system(f"{ORG_A}_gone", client_ids=("client-9",), deleted=True))
    _put_users(uow, system_user("u1", external_ref="ref"), system_user("u-own"),
               system_user("u-foreign", system_id=f"{ORG_C}_foreign"),
               system_user("u-deleted", external_ref="gone", deleted=True),
               system_user("u-of-gone", system_id=f"{ORG_A}_gone", external_ref="in-gone"))


@pytest.mark.parametrize(("args", "found"), [
    (("client-1", ORG_A, ORG_B, "ref"), "u1"),
    (("client-2", ORG_A, ORG_B, "ref"), "u1"),  # any client id of the system
    (("client-1", ORG_A, ORG_B, ORG_B), "u-own"),
    (("client-3", ORG_C, ORG_B, ORG_B), "u-foreign"),
    (("CLIENT-1", ORG_A, ORG_B, "ref"), None),  # the client id compared exactly
    (("client-3", ORG_A, ORG_B, "ref"), None),  # a client id of another system
    (("client-1", ORG_C, ORG_B, "ref"), None),  # another vendor
    (("client-1", ORG_A, ORG_C, "ref"), None),  # another owner
    (("client-1", ORG_A, ORG_B, "REF"), None),  # external_ref compared exactly
    (("client-1", ORG_A, ORG_B, "other"), None),
    (("client-1", ORG_A, ORG_B, "gone"), None),  # the user is deleted
    (("client-9", ORG_A, ORG_B, "in-gone"), None),  # its system is deleted
])
def test_find_system_user_filters_on_everything(store: Store, args: tuple[str, str, str, str],
                                                found: str | None) -> None:
    with store.begin() as uow:
        _lookup_world(uow)
    with store.read() as uow:
        user = uow.find_system_user(*args)
    assert (user.system_user_id if user else None) == found
    if user is not None:
        assert user.seq > 0


def test_find_system_user_answers_the_first_by_seq(store: Store) -> None:
    with store.begin() as uow:
        uow.put_system(registered_system(client_ids=("client-1",)))
        uow.put_system(registered_system(f"{ORG_A}_two", client_ids=("client-2", "client-1b")))
        _put_users(uow, system_user("u-z"), system_user("u-a"))
    with store.read() as uow:
        first = uow.find_system_user("client-1", ORG_A, ORG_B, ORG_B)
    with store.begin() as uow:
        uow.put_system_user(system_user("u-z", deleted=True))
    with store.read() as uow:
        then = uow.find_system_user("client-1", ORG_A, ORG_B, ORG_B)
    assert first is not None and first.system_user_id == "u-z"
    assert then is not None and then.system_user_id == "u-a"


def test_another_process_finds_what_was_committed(backend: Backend) -> None:
    with backend.store.begin() as uow:
        _lookup_world(uow)
    other, _ = backend.another()
    with other.read() as uow:
        user = uow.find_system_user("client-1", ORG_A, ORG_B, "ref")
    assert user is not None and user.system_user_id == "u1"


# Agents' clients

def test_agent_clients_add_list_has_and_remove(store: Store) -> None:
    with store.begin() as uow:
        uow.put_system(registered_system())
        uow.put_system_user(system_user("agent", user_type=SystemUserType.AGENT))
        uow.put_system_user(system_user("other", user_type=SystemUserType.AGENT))
        uow.put_agent_client(agent_client("agent", ORG_D))
        uow.put_agent_client(agent_client("agent", ORG_C, added_by=None))
        uow.put_agent_client(agent_client("other", ORG_A))
    with store.read() as uow:
        assert uow.list_agent_clients("agent") == [agent_client("agent", ORG_C, added_by=None),
                                                   agent_client("agent", ORG_D)]
        assert uow.has_agent_client("agent", ORG_C) and uow.has_agent_client("other", ORG_A)
        assert not uow.has_agent_client("agent", ORG_A) and not uow.has_agent_client("nobody", ORG_C)
    with store.begin() as uow:
        uow.put_agent_client(agent_client("agent", ORG_C, added_by="per"))  # again: replaced, not doubled
        assert uow.delete_agent_client("agent", ORG_D) is True
        assert uow.delete_agent_client("agent", ORG_D) is False
        assert uow.delete_agent_client("nobody", ORG_C) is False
    with store.read() as uow:
        assert uow.list_agent_clients("agent") == [agent_client("agent", ORG_C, added_by="per")]
        assert not uow.has_agent_client("agent", ORG_D)
        assert uow.list_agent_clients("nobody") == []


def test_an_agent_client_needs_a_system_user(store: Store) -> None:
    with pytest.raises(NotFound, match="no system user nobody"), store.begin() as uow:
        uow.put_agent_client(agent_client("nobody", ORG_C))


# Transactions

def test_a_rolled_back_unit_of_work_leaves_nothing(store: Store) -> None:
    with store.begin() as uow:
        uow.put_system(registered_system(client_ids=("client-1",)))
        kept = uow.put_system_user(system_user("agent", user_type=SystemUserType.AGENT))
        uow.put_agent_client(agent_client("agent", ORG_C))

    def work(uow: UnitOfWork) -> None:
        uow.put_system(registered_system(client_ids=("client-2",), deleted=True))
        uow.put_system(registered_system(f"{ORG_B}_new", client_ids=("client-1",)))
        uow.put_request(system_user_request("r1"))
        uow.put_system_user(system_user("u-new", system_id=f"{ORG_B}_new"))
        uow.put_system_user(dataclasses.replace(kept, deleted=True))
        assert uow.delete_agent_client("agent", ORG_C)
        uow.put_agent_client(agent_client("agent", ORG_D))
        assert uow.find_system_user("client-1", ORG_B, ORG_B, ORG_B) is not None  # its own writes are seen

    with pytest.raises(RollbackError):
        fail_inside(store, work)
    with store.read() as uow:
        assert uow.list_systems(include_deleted=True) == [registered_system(client_ids=("client-1",))]
        assert uow.get_request("r1") is None
        assert uow.list_system_users(include_deleted=True) == [kept]
        assert uow.list_agent_clients("agent") == [agent_client("agent", ORG_C)]
        assert uow.find_system_user("client-1", ORG_A, ORG_B, ORG_B) == kept
    with store.begin() as uow:  # the next seq is still above every committed one
        assert uow.put_system_user(system_user("u-after")).seq > kept.seq
