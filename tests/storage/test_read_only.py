"""Contract: Store.read() is a read-only snapshot that takes no write lock; every write on it raises."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from portvakt.domain.models import ClientRole
from portvakt.domain.ports import Store, UnitOfWork
from portvakt.storage.readonly import ReadOnlyError

from .builders import (
    ORG_A,
    ORG_B,
    ORG_C,
    access,
    at,
    client,
    delegation,
    event,
    org,
    person,
    scheme,
    scope,
    signing_key,
    source,
)
from .test_client_relationships import client_relationship
from .test_systemusers import agent_client, registered_system, system_user, system_user_request
from .test_transactions import _seed, _snapshot

WRITES: dict[str, Callable[[UnitOfWork], object]] = {
    "put_org": lambda uow: uow.put_org(org(ORG_C)),
    "put_client": lambda uow: uow.put_client(client("c9")),
    "put_scope": lambda uow: uow.put_scope(scope("brreg:z")),
    "put_access": lambda uow: uow.put_access(access("brreg:a", ORG_C)),
    "delete_access": lambda uow: uow.delete_access("brreg:a", ORG_B),
    "put_prefix": lambda uow: uow.put_prefix("skatt", ORG_C),
    "put_delegation_source": lambda uow: uow.put_delegation_source(source("other")),
    "put_signing_key": lambda uow: uow.put_signing_key(signing_key("s9", at(9))),
    "delete_signing_key": lambda uow: uow.delete_signing_key("s1"),
    "put_scheme": lambda uow: uow.put_scheme(scheme("scheme-1", active=False)),
    "put_delegation": lambda uow: uow.put_delegation(delegation("del-1", scheme_id="scheme-1", revoked=at(9))),
    "put_person": lambda uow: uow.put_person(person("ida", active=False)),
    "append_audit": lambda uow: uow.append_audit(event("c9", (ORG_A,))),
    "record_change": lambda uow: uow.record_change("client", "c9"),
    "put_system": lambda uow: uow.put_system(registered_system("991825827_x")),
    "put_request": lambda uow: uow.put_request(system_user_request("r9", "991825827_x")),
    "put_system_user": lambda uow: uow.put_system_user(system_user("u9", "991825827_x")),
    "put_agent_client": lambda uow: uow.put_agent_client(agent_client("u9", ORG_C)),
    "delete_agent_client": lambda uow: uow.delete_agent_client("u9", ORG_C),
    "put_client_relationship": lambda uow: uow.put_client_relationship(client_relationship(ORG_C, ORG_A)),
    "delete_client_relationship": lambda uow: uow.delete_client_relationship(ORG_B, ORG_A, ClientRole.REVISOR),
    "put_altinn_key": lambda uow: uow.put_altinn_key(signing_key("a9", at(9))),
    "delete_altinn_key": lambda uow: uow.delete_altinn_key("a9"),
}
#: Reads whose names do not start with get_/list_/has_.
OTHER_READS = {"find_request", "find_system_user", "systems_with_client_id"}
TIMEOUT = 10


def test_writes_table_covers_every_write_of_the_port() -> None:
    """Every UnitOfWork method is a read (get_/list_/has_) or one of WRITES: a new write cannot go untested."""
    methods = {name for name in dir(UnitOfWork) if not name.startswith("_") and callable(getattr(UnitOfWork, name))}
    assert methods - set(WRITES) == {m for m in methods if m.startswith(("get_", "list_", "has_"))} | OTHER_READS
    assert set(WRITES) <= methods


def test_read_sees_what_was_committed(store: Store) -> None:
    with store.begin() as uow:
        _seed(uow)
    with store.read() as uow:
        assert uow.get_org(ORG_A) == org(ORG_A, "before")
        assert [c.client_id for c in uow.list_clients()] == ["c1"]
        assert uow.get_access("brreg:a", ORG_B) == access("brreg:a", ORG_B)
        assert uow.list_prefixes() == [("brreg", ORG_A)]
        assert [s.name for s in uow.list_delegation_sources()] == ["altinn"]
        assert [s.scheme_id for s in uow.list_schemes(scope="brreg:a")] == ["scheme-1"]
        assert [d.delegation_id for d in uow.list_delegations()] == ["del-1"]
        assert uow.has_delegation(ORG_B, ORG_C, "brreg:a") is True
        assert [e.entity_key for e in uow.list_audit(org=ORG_A)] == ["c1"]


def test_every_write_raises_and_writes_nothing(store: Store) -> None:
    with store.begin() as uow:
        _seed(uow)
    before = _snapshot(store)
    with store.read() as uow:
        for name, write in WRITES.items():
            with pytest.raises(ReadOnlyError, match=name):
                write(uow)
            assert uow.get_org(ORG_A) == org(ORG_A, "before")  # the unit of work is still usable
    assert _snapshot(store) == before


def test_read_is_one_snapshot_even_across_a_commit(store: Store) -> None:
    with store.begin() as uow:
        uow.put_org(org(ORG_A, "before"))
    with store.read() as uow:
        assert uow.get_org(ORG_A) == org(ORG_A, "before")
        with store.begin() as writer:
            writer.put_org(org(ORG_A, "after"))
            writer.put_org(org(ORG_B))
        assert uow.get_org(ORG_A) == org(ORG_A, "before")
        assert uow.list_orgs() == [org(ORG_A, "before")]
    with store.read() as uow:
        assert uow.list_orgs() == [org(ORG_B), org(ORG_A, "after")]


def test_an_exception_leaves_read_and_the_store_usable(store: Store) -> None:

    def fail_while_reading() -> None:
        with store.read() as uow:
            uow.list_orgs()
            raise KeyError("boom")

    with pytest.raises(KeyError):
        fail_while_reading()
    with store.begin() as uow:
        uow.put_org(org(ORG_A))
    with store.read() as uow:
        assert uow.get_org(ORG_A) == org(ORG_A)


def test_read_completes_while_another_thread_holds_begin_open(store: Store) -> None:
    with store.begin() as uow:
        uow.put_org(org(ORG_A, "before"))
    inside, read_done = threading.Event(), threading.Event()
    outcome: dict[str, bool] = {}

    def writer() -> None:
        with store.begin() as uow:
            uow.put_org(org(ORG_A, "uncommitted"))
            inside.set()
            outcome["read_done_while_open"] = read_done.wait(TIMEOUT)

    thread = threading.Thread(target=writer)
    thread.start()
    assert inside.wait(TIMEOUT)
    with store.read() as uow:
        assert uow.get_org(ORG_A) == org(ORG_A, "before")
    read_done.set()
    thread.join(TIMEOUT)
    assert outcome == {"read_done_while_open": True}
    with store.read() as uow:
        assert uow.get_org(ORG_A) == org(ORG_A, "uncommitted")


def test_several_reads_and_a_begin_are_open_at_the_same_time(store: Store) -> None:
    """Three readers and a writer meet at a barrier inside their units of work; nobody waits for a lock."""
    with store.begin() as uow:
        uow.put_org(org(ORG_A))
    barrier = threading.Barrier(4, timeout=TIMEOUT)
    seen: list[object] = []
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            with store.read() as uow:
                first = uow.list_orgs()
                barrier.wait()
                seen.append((first, uow.list_orgs(), uow.get_org(ORG_B)))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    def writer() -> None:
        try:
            with store.begin() as uow:
                uow.put_org(org(ORG_B))
                barrier.wait()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)] + [threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(2 * TIMEOUT)
    assert errors == []
    assert seen == [([org(ORG_A)], [org(ORG_A)], None)] * 3
    with store.read() as uow:
        assert uow.get_org(ORG_B) == org(ORG_B)


def test_a_finished_unit_of_work_cannot_write_behind_a_read(store: Store) -> None:
    """Reads may share the committed state (memory): a unit of work kept past its block must not change it."""
    with store.begin() as kept:
        kept.put_org(org(ORG_A, "before"))
    with pytest.raises((ReadOnlyError, sa.exc.ResourceClosedError)):
        kept.put_org(org(ORG_A, "behind"))
    with store.read() as uow:
        assert uow.get_org(ORG_A) == org(ORG_A, "before")
