"""System users' use-cases (docs/protocol.md §6.2–§6.6): approve and reject, delete, agents' clients, the vendor's
lookup and the decision rule `permits`, each branch with its Altinn code, audit events and change feed."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from portvakt.domain.accesspackages import CATALOGUE
from portvakt.domain.altinn_errors import AltinnProblem, AltinnValidation
from portvakt.domain.audit import Actor
from portvakt.domain.clientroles import (
    ROLE_PACKAGES,
    client_fits,
    register_client_relationship,
    relationships,
    remove_client_relationship,
    role_of_package,
)
from portvakt.domain.clock import FixedClock
from portvakt.domain.errors import Forbidden, Invalid, NotFound
from portvakt.domain.models import (
    ClientRole,
    RegisteredSystem,
    RequestStatus,
    SystemRight,
    SystemUser,
    SystemUserRequest,
    SystemUserType,
)
from portvakt.domain.ports import Store
from portvakt.domain.systemusers import (
    add_agent_client,
    agent_of,
    approve_request,
    available_clients,
    clients_of,
    customer_system_user,
    customer_system_users,
    delete_system_user,
    permits,
    reject_request,
    remove_agent_client,
    vendor_lookup,
)
from portvakt.jose import PrivateKeyHandle
from portvakt.storage.memory import MemoryStore
from portvakt.storage.sql import SqlStore
from tests.altinn.systems import ANY, CLIENT_PACKAGE, OWN, READ, SYSTEM_ID
from tests.conftest import CONSUMER, OTHER, PROVIDER, VENDOR, seed

CLIENT_ID = "vendor-system-client"
IDA = Actor(CONSUMER, "portvakt-portal", "ida@consumer.test")
FIRM = Actor(PROVIDER, "portvakt-portal", "per@firm.test")
OPERATOR_ACTOR = Actor.operator()


def put_system(store: Store, now: datetime, *, system_id: str = SYSTEM_ID, deleted: bool = False,
               rights: tuple[SystemRight, ...] = (READ, ANY),
               packages: tuple[str, ...] = (OWN, CLIENT_PACKAGE)) -> RegisteredSystem:
    """The vendor's system with two rights and two packages, written straight into the store."""
    system = RegisteredSystem(system_id=system_id, internal_id=f"internal-{system_id}", vendor_orgno=VENDOR,
                              name={"nb": "Regnskap Pluss", "en": "Accounting Plus"},
                              description={"nb": "Fører regnskap"}, created=now, last_updated=now, rights=rights,
                              access_packages=packages, client_ids=(CLIENT_ID,),
                              allowed_redirect_urls=("https://vendor.test/back",), deleted=deleted)
    with store.begin() as uow:
        uow.put_system(system)
    return system


def put_request(store: Store, now: datetime, *, agent: bool = False, party: str = CONSUMER, external_ref: str = "",
                system_id: str = SYSTEM_ID, request_id: str | None = None,
                **over: Any) -> SystemUserRequest:
    """A New request of the vendor (standard: both rights and the own package; agent: the client package)."""
    rid = request_id or ("a" if agent else "s") + f"0000000-0000-4000-8000-{len(party):012d}"
    kind = SystemUserType.AGENT if agent else SystemUserType.STANDARD
    request = SystemUserRequest(
        request_id=rid, user_type=kind, system_id=system_id, vendor_orgno=VENDOR, party_orgno=party,
        external_ref=external_ref or party, integration_title="Regnskap Pluss", status=RequestStatus.NEW,
        created=now, last_updated=now, rights=() if agent else (READ, ANY),
        access_packages=(CLIENT_PACKAGE,) if agent else (OWN,), redirect_url="https://vendor.test/back")
    request = replace(request, **over)
    with store.begin() as uow:
        uow.put_request(request)
    return request


def approve(store: Store, clock: FixedClock, request: SystemUserRequest, party: str | None = None,
            actor: Actor = IDA, kind: SystemUserType | None = None) -> SystemUser:
    with store.begin() as uow:
        return approve_request(uow, request.request_id, party or request.party_orgno, kind or request.user_type,
                               actor, clock.now())


def agent_user(store: Store, clock: FixedClock) -> SystemUser:
    """An approved agent system user of the firm (PROVIDER plays the accounting firm)."""
    put_system(store, clock.now())
    return approve(store, clock, put_request(store, clock.now(), agent=True, party=PROVIDER), actor=FIRM)


def relate(store: Store, clock: FixedClock, client: str = CONSUMER, facilitator: str = PROVIDER,
           role: ClientRole = ClientRole.REGNSKAPSFORER) -> None:
    """The client has registered the facilitator (the firm) in the role: the operator mirrors Enhetsregisteret."""
    with store.begin() as uow:
        register_client_relationship(uow, client, facilitator, role, OPERATOR_ACTOR, clock.now())


@pytest.fixture
def system(store: MemoryStore, clock: FixedClock) -> RegisteredSystem:
    return put_system(store, clock.now())


def problem_of(exc: pytest.ExceptionInfo[AltinnProblem]) -> tuple[str, int]:
    return exc.value.code, exc.value.status


# Approve and reject (docs/protocol.md §6.3).

def test_approve_makes_the_system_user_in_the_same_transaction(store: MemoryStore, clock: FixedClock,
                                                                system: RegisteredSystem) -> None:
    request = put_request(store, clock.now(), external_ref="ref-1")
    seq = store.last_change_seq()
    clock.advance(5)
    user = approve(store, clock, request)
    assert (user.owner_orgno, user.vendor_orgno, user.system_id, user.user_type) == (
        CONSUMER, VENDOR, SYSTEM_ID, SystemUserType.STANDARD)
    assert (user.external_ref, user.integration_title, user.created_by, user.request_id) == (
        "ref-1", "Regnskap Pluss", "ida@consumer.test", request.request_id)
    assert user.rights == (READ, ANY) and user.access_packages == (OWN,)
    assert user.created == clock.now() and user.seq > 0 and not user.deleted
    with store.read() as uow:
        stored = uow.get_request(request.request_id)
        assert stored is not None and stored.status is RequestStatus.ACCEPTED
        assert (stored.system_user_id, stored.decided_by) == (user.system_user_id, "ida@consumer.test")
        assert uow.get_system_user(user.system_user_id) == user
        events = uow.list_audit(org=CONSUMER)
    assert [(c.kind, c.key) for c in store.changes_since(seq)] == [
        ("systemuserrequest", request.request_id), ("systemuser", CONSUMER)]
    actions = {(e.action, e.entity_kind, e.entity_key, e.actor_person) for e in events}
    assert ("systemuserrequest.approve", "systemuserrequest", request.request_id, "ida@consumer.test") in actions
    assert ("systemuser.create", "systemuser", CONSUMER, "ida@consumer.test") in actions


def test_reject_makes_no_system_user(store: MemoryStore, clock: FixedClock, system: RegisteredSystem) -> None:
    request = put_request(store, clock.now())
    seq = store.last_change_seq()
    with store.begin() as uow:
        rejected = reject_request(uow, request.request_id, CONSUMER, SystemUserType.STANDARD, IDA, clock.now())
    assert rejected.status is RequestStatus.REJECTED and rejected.decided_by == "ida@consumer.test"
    assert [(c.kind, c.key) for c in store.changes_since(seq)] == [("systemuserrequest", request.request_id)]
    with store.read() as uow:
        assert uow.list_system_users() == []
        assert uow.list_audit(org=VENDOR)[0].action == "systemuserrequest.reject"


@pytest.mark.parametrize("decide", ["approve", "reject"])
def test_unknown_or_deleted_request_is_auth_00010(store: MemoryStore, clock: FixedClock, system: RegisteredSystem,
                                                  decide: str) -> None:
    gone = put_request(store, clock.now(), deleted=True)
    act = approve_request if decide == "approve" else reject_request
    for request_id in ("no-such-request", gone.request_id):
        with pytest.raises(AltinnProblem) as exc, store.begin() as uow:
            act(uow, request_id, CONSUMER, SystemUserType.STANDARD, IDA, clock.now())
        assert problem_of(exc) == ("AUTH-00010", 404)


@pytest.mark.parametrize(("agent", "path"), [(True, SystemUserType.STANDARD), (False, SystemUserType.AGENT)])
def test_the_other_kind_of_request_is_auth_00025(store: MemoryStore, clock: FixedClock, system: RegisteredSystem,
                                                 agent: bool, path: SystemUserType) -> None:
    request = put_request(store, clock.now(), agent=agent)
    with pytest.raises(AltinnProblem) as exc:
        approve(store, clock, request, kind=path)
    assert problem_of(exc) == ("AUTH-00025", 400)
    with pytest.raises(AltinnProblem) as exc, store.begin() as uow:
        reject_request(uow, request.request_id, CONSUMER, path, IDA, clock.now())
    assert problem_of(exc) == ("AUTH-00025", 400)


@pytest.mark.parametrize(("agent", "code"), [(False, "AUTH-00041"), (True, "AUTH-00042")])
def test_another_party_is_refused(store: MemoryStore, clock: FixedClock, system: RegisteredSystem, agent: bool,
                                  code: str) -> None:
    request = put_request(store, clock.now(), agent=agent)
    with pytest.raises(AltinnProblem) as exc:
        approve(store, clock, request, party=OTHER)
    assert problem_of(exc) == (code, 403)
    with store.read() as uow:
        assert uow.list_system_users() == []


def test_a_decided_request_is_auth_00013(store: MemoryStore, clock: FixedClock, system: RegisteredSystem) -> None:
    request = put_request(store, clock.now())
    approve(store, clock, request)
    with pytest.raises(AltinnProblem) as exc:
        approve(store, clock, request)
    assert problem_of(exc) == ("AUTH-00013", 409) and exc.value.detail == "the request is Accepted"
    with pytest.raises(AltinnProblem) as exc, store.begin() as uow:
        reject_request(uow, request.request_id, CONSUMER, SystemUserType.STANDARD, IDA, clock.now())
    assert problem_of(exc) == ("AUTH-00013", 409)
    with store.read() as uow:
        assert len(uow.list_system_users()) == 1


def test_a_timed_out_request_cannot_be_decided(store: MemoryStore, clock: FixedClock,
                                               system: RegisteredSystem) -> None:
    request = put_request(store, clock.now() - timedelta(days=181))
    with pytest.raises(AltinnProblem) as exc:
        approve(store, clock, request)
    assert problem_of(exc) == ("AUTH-00013", 409) and "timed out" in (exc.value.detail or "")


def test_a_system_deleted_meanwhile_refuses_approval_not_rejection(store: MemoryStore, clock: FixedClock,
                                                                   system: RegisteredSystem) -> None:
    request = put_request(store, clock.now())
    with store.begin() as uow:
        uow.put_system(replace(system, deleted=True))
    with pytest.raises(AltinnProblem) as exc:
        approve(store, clock, request)
    assert problem_of(exc) == ("AUTH-00011", 404)
    with store.begin() as uow:
        assert reject_request(uow, request.request_id, CONSUMER, SystemUserType.STANDARD, IDA,
                              clock.now()).status is RequestStatus.REJECTED


@pytest.mark.parametrize(("rights", "packages", "code"), [
    ((ANY,), (OWN,), "AUTH-00001"), ((READ, ANY), (), "AUTH-00063")])
def test_what_the_system_no_longer_offers_is_refused(store: MemoryStore, clock: FixedClock, system: RegisteredSystem,
                                                      rights: tuple[SystemRight, ...], packages: tuple[str, ...],
                                                      code: str) -> None:
    request = put_request(store, clock.now())
    with store.begin() as uow:
        uow.put_system(replace(system, rights=rights, access_packages=packages))
    with pytest.raises(AltinnProblem) as exc:
        approve(store, clock, request)
    assert problem_of(exc) == (code, 400)


def test_rights_are_compared_as_sets_of_attributes(store: MemoryStore, clock: FixedClock) -> None:
    two = SystemRight(resource=(("urn:altinn:resource", "a"), ("urn:altinn:org", "ttd")))
    put_system(store, clock.now(), rights=(two,))
    request = put_request(store, clock.now(), rights=(SystemRight(resource=tuple(reversed(two.resource))),))
    assert approve(store, clock, request).rights == request.rights


def test_one_active_system_user_per_key(store: MemoryStore, clock: FixedClock, system: RegisteredSystem) -> None:
    approve(store, clock, put_request(store, clock.now()))
    agent_twin = put_request(store, clock.now(), agent=True, request_id="twin")
    with pytest.raises(AltinnProblem) as exc:
        approve(store, clock, agent_twin)
    assert problem_of(exc) == ("AUTH-00004", 400)


def _race(store: Store, clock: FixedClock, request: SystemUserRequest, n: int = 8) -> list[object]:
    """n threads approve the same request at once; what each got."""
    results: list[object] = []
    lock = threading.Lock()
    start = threading.Barrier(n)

    def one() -> None:
        start.wait()
        try:
            outcome: object = approve(store, clock, request)
        except AltinnProblem as exc:
            outcome = exc.code
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results


def _racing_approvals_make_one_system_user(store: Store, clock: FixedClock) -> None:
    put_system(store, clock.now())
    request = put_request(store, clock.now())
    results = _race(store, clock, request)
    made = [r for r in results if isinstance(r, SystemUser)]
    assert len(made) == 1 and sorted(r for r in results if isinstance(r, str)) == ["AUTH-00013"] * 7
    with store.read() as uow:
        users = uow.list_system_users(include_deleted=True)
        stored = uow.get_request(request.request_id)
    assert [u.system_user_id for u in users] == [made[0].system_user_id]
    assert stored is not None and stored.system_user_id == made[0].system_user_id


def test_racing_approvals_make_one_system_user_on_memory(store: MemoryStore, clock: FixedClock) -> None:
    _racing_approvals_make_one_system_user(store, clock)


def test_racing_approvals_make_one_system_user_on_sqlite(sqlite_store: SqlStore, clock: FixedClock) -> None:
    _racing_approvals_make_one_system_user(sqlite_store, clock)


@pytest.mark.postgres
def test_racing_approvals_make_one_system_user_on_postgres(fresh_pg_url: str, clock: FixedClock,
                                                           rsa_keys: list[PrivateKeyHandle]) -> None:
    store = SqlStore(fresh_pg_url, migrate=True)
    try:
        seed(store, rsa_keys[0], clock.now())  # type: ignore[arg-type]
        _racing_approvals_make_one_system_user(store, clock)
    finally:
        store.engine.dispose()


# The customer's system users (docs/protocol.md §6.2).

def test_the_customer_sees_only_its_own_live_system_users(store: MemoryStore, clock: FixedClock,
                                                          system: RegisteredSystem) -> None:
    mine = approve(store, clock, put_request(store, clock.now()))
    other = approve(store, clock, put_request(store, clock.now(), party=OTHER, request_id="other"),
                    actor=Actor(OTHER, "portvakt-portal", "ola@other.test"))
    with store.read() as uow:
        assert [u.system_user_id for u in customer_system_users(uow, CONSUMER)] == [mine.system_user_id]
        assert customer_system_user(uow, CONSUMER, mine.system_user_id) == mine
        for owner, user_id in ((CONSUMER, other.system_user_id), (CONSUMER, "nope")):
            with pytest.raises(AltinnProblem) as exc:
                customer_system_user(uow, owner, user_id)
            assert problem_of(exc) == ("AUTH-00015", 404)


def test_delete_is_soft_marks_the_request_and_ends_the_lookup(store: MemoryStore, clock: FixedClock,
                                                             system: RegisteredSystem) -> None:
    request = put_request(store, clock.now())
    user = approve(store, clock, request)
    with store.read() as uow:
        assert vendor_lookup(uow, CLIENT_ID, VENDOR, CONSUMER, "") == user
    seq = store.last_change_seq()
    with store.begin() as uow:
        assert delete_system_user(uow, OTHER, user.system_user_id, IDA, clock.now()) is None
        done = delete_system_user(uow, CONSUMER, user.system_user_id, IDA, clock.now())
    assert done is not None and done.deleted
    assert [(c.kind, c.key) for c in store.changes_since(seq)] == [
        ("systemuser", CONSUMER), ("systemuserrequest", request.request_id)]
    with store.read() as uow:
        assert vendor_lookup(uow, CLIENT_ID, VENDOR, CONSUMER, "") is None
        assert customer_system_users(uow, CONSUMER) == []
        stored = uow.get_request(request.request_id)
        assert stored is not None and stored.deleted
        kept = uow.get_system_user(user.system_user_id)
        assert kept is not None and kept.deleted and kept.seq == user.seq
    with store.begin() as uow:
        assert delete_system_user(uow, CONSUMER, user.system_user_id, IDA, clock.now()) is None


def test_an_agent_with_clients_cannot_be_deleted(store: MemoryStore, clock: FixedClock) -> None:
    agent = agent_user(store, clock)
    relate(store, clock)
    with store.begin() as uow:
        add_agent_client(uow, agent, CONSUMER, FIRM, clock.now())
    with pytest.raises(AltinnProblem) as exc, store.begin() as uow:
        delete_system_user(uow, PROVIDER, agent.system_user_id, FIRM, clock.now())
    assert problem_of(exc) == ("AUTH-00035", 400)
    with store.begin() as uow:
        remove_agent_client(uow, agent, CONSUMER, FIRM, clock.now())
        assert delete_system_user(uow, PROVIDER, agent.system_user_id, FIRM, clock.now()) is not None


# Agents' clients (docs/protocol.md §6.4).

def test_clients_are_added_once_listed_and_removed(store: MemoryStore, clock: FixedClock) -> None:
    agent = agent_user(store, clock)
    relate(store, clock)
    relate(store, clock, client=OTHER)
    seq = store.last_change_seq()
    with store.begin() as uow:
        added = add_agent_client(uow, agent, CONSUMER, FIRM, clock.now())
    assert (added.client_orgno, added.added_by, added.added) == (CONSUMER, "per@firm.test", clock.now())
    with store.begin() as uow:
        assert add_agent_client(uow, agent, CONSUMER, FIRM, clock.now()) == added
    assert [(c.kind, c.key) for c in store.changes_since(seq)] == [("agentclient", agent.system_user_id)]
    with store.read() as uow:
        assert [o.orgno for o in clients_of(uow, agent).clients] == [CONSUMER]
        offered = [o.orgno for o in available_clients(uow, agent).clients]
        assert offered == [OTHER]  # only organisations with a fitting client relationship to the firm
        event = uow.list_audit(org=CONSUMER, entity_kind="agentclient")[0]
        assert (event.action, event.entity_key) == ("agentclient.add", agent.system_user_id)
    with store.begin() as uow:
        assert remove_agent_client(uow, agent, CONSUMER, FIRM, clock.now()) == added
    with store.read() as uow:
        assert clients_of(uow, agent).clients == ()
        assert uow.list_audit(org=CONSUMER, entity_kind="agentclient")[0].action == "agentclient.remove"


def test_agent_of_refuses_missing_unknown_foreign_and_standard(store: MemoryStore, clock: FixedClock) -> None:
    agent = agent_user(store, clock)
    standard = approve(store, clock, put_request(store, clock.now()))
    with store.read() as uow:
        assert agent_of(uow, f" {agent.system_user_id} ", PROVIDER) == agent
        for missing in (None, "", "nope", "x" * 500):
            with pytest.raises(AltinnValidation) as bad:
                agent_of(uow, missing, PROVIDER)
            assert bad.value.codes == ("AUTH.VLD-00014",)
        with pytest.raises(Forbidden):
            agent_of(uow, agent.system_user_id, CONSUMER)
        with pytest.raises(AltinnValidation) as bad:
            agent_of(uow, standard.system_user_id, CONSUMER)
        assert bad.value.codes == ("AUTH.VLD-00015",)


@pytest.mark.parametrize(("client", "code"), [
    (None, "AUTH.VLD-00016"), ("", "AUTH.VLD-00016"), ("123456785", "AUTH-00079"), ("12", "AUTH-00079"),
    (PROVIDER, "AUTH-00028")])
def test_a_client_must_be_another_registered_organisation(store: MemoryStore, clock: FixedClock, client: str | None,
                                                          code: str) -> None:
    agent = agent_user(store, clock)
    with pytest.raises((AltinnProblem, AltinnValidation)) as exc, store.begin() as uow:
        add_agent_client(uow, agent, client, FIRM, clock.now())
    err = exc.value
    got = err.codes if isinstance(err, AltinnValidation) else (err.code,) if isinstance(err, AltinnProblem) else ()
    assert got == (code,)


def test_removing_a_non_client_is_auth_00038(store: MemoryStore, clock: FixedClock) -> None:
    agent = agent_user(store, clock)
    with pytest.raises(AltinnProblem) as exc, store.begin() as uow:
        remove_agent_client(uow, agent, OTHER, FIRM, clock.now())
    assert problem_of(exc) == ("AUTH-00038", 400)
    with pytest.raises(AltinnValidation) as bad, store.begin() as uow:
        remove_agent_client(uow, agent, None, FIRM, clock.now())
    assert bad.value.codes == ("AUTH.VLD-00016",)


# The decision rule (docs/protocol.md §6.6).

def _permits(store: Store, user: SystemUser, resource: str | None, action: str | None, party: str,
             package: str | None = None) -> bool:
    with store.read() as uow:
        return permits(uow, user.system_user_id, resource, action, party, package)


def test_permits_a_standard_user_its_rights_for_its_owner(store: MemoryStore, clock: FixedClock,
                                                          system: RegisteredSystem) -> None:
    user = approve(store, clock, put_request(store, clock.now()))
    assert _permits(store, user, "ske-krav-og-betalinger", "read", CONSUMER)
    assert not _permits(store, user, "ske-krav-og-betalinger", "write", CONSUMER)
    assert not _permits(store, user, "ske-krav-og-betalinger", None, CONSUMER)
    assert _permits(store, user, "app_ttd_demo", "write", CONSUMER) and _permits(store, user, "app_ttd_demo", None,
                                                                                  CONSUMER)
    assert not _permits(store, user, "another_resource", "read", CONSUMER)
    assert not _permits(store, user, "app_ttd_demo", "read", OTHER)
    assert _permits(store, user, None, "read", CONSUMER, OWN)
    assert _permits(store, user, "another_resource", "read", CONSUMER, OWN)
    assert not _permits(store, user, None, "read", CONSUMER, CLIENT_PACKAGE)
    assert not _permits(store, user, None, "read", OTHER, OWN)
    with store.read() as uow:
        assert not permits(uow, "no-such-user", "app_ttd_demo", "read", CONSUMER)
        assert not permits(uow, "x" * 1000, "app_ttd_demo", "read", CONSUMER)


def test_permits_nothing_once_the_user_or_its_system_is_deleted(store: MemoryStore, clock: FixedClock,
                                                                system: RegisteredSystem) -> None:
    user = approve(store, clock, put_request(store, clock.now()))
    with store.begin() as uow:
        uow.put_system(replace(system, deleted=True))
    assert not _permits(store, user, "app_ttd_demo", "read", CONSUMER)
    with store.begin() as uow:
        uow.put_system(system)
    assert _permits(store, user, "app_ttd_demo", "read", CONSUMER)
    with store.begin() as uow:
        delete_system_user(uow, CONSUMER, user.system_user_id, IDA, clock.now())
    assert not _permits(store, user, "app_ttd_demo", "read", CONSUMER)


def test_permits_an_agent_only_for_its_current_clients(store: MemoryStore, clock: FixedClock) -> None:
    agent = agent_user(store, clock)
    relate(store, clock)
    assert not _permits(store, agent, None, "read", CONSUMER, CLIENT_PACKAGE)
    assert not _permits(store, agent, None, "read", PROVIDER, CLIENT_PACKAGE)
    with store.begin() as uow:
        add_agent_client(uow, agent, CONSUMER, FIRM, clock.now())
    assert _permits(store, agent, None, "read", CONSUMER, CLIENT_PACKAGE)
    assert not _permits(store, agent, None, "read", CONSUMER, OWN)
    assert not _permits(store, agent, None, "read", OTHER, CLIENT_PACKAGE)
    assert not _permits(store, agent, None, "read", PROVIDER, CLIENT_PACKAGE)
    with store.begin() as uow:
        remove_agent_client(uow, agent, CONSUMER, FIRM, clock.now())
    assert not _permits(store, agent, None, "read", CONSUMER, CLIENT_PACKAGE)


def test_the_lookup_defaults_the_external_ref_to_the_owner(store: MemoryStore, clock: FixedClock,
                                                           system: RegisteredSystem) -> None:
    own = approve(store, clock, put_request(store, clock.now()))
    named = approve(store, clock, put_request(store, clock.now(), external_ref="ref-2", request_id="named"))
    with store.read() as uow:
        assert vendor_lookup(uow, CLIENT_ID, VENDOR, CONSUMER, "") == own
        assert vendor_lookup(uow, CLIENT_ID, VENDOR, CONSUMER, CONSUMER) == own
        assert vendor_lookup(uow, CLIENT_ID, VENDOR, CONSUMER, "ref-2") == named
        assert vendor_lookup(uow, CLIENT_ID, OTHER, CONSUMER, "") is None
        assert vendor_lookup(uow, "another-client", VENDOR, CONSUMER, "") is None


# Client relationships (docs/protocol.md §6.4): only an organisation that registered the firm in a fitting role.

AUDITOR_PACKAGE = "urn:altinn:accesspackage:ansvarlig-revisor"
LONN_PACKAGE = "urn:altinn:accesspackage:regnskapsforer-lonn"


def agent_with(store: Store, clock: FixedClock, *packages: str) -> SystemUser:
    """An approved agent system user of the firm holding exactly these client packages."""
    put_system(store, clock.now(), packages=(OWN, CLIENT_PACKAGE, AUDITOR_PACKAGE, LONN_PACKAGE))
    name = "-".join(p.rsplit(":", 1)[1] for p in packages)
    request = put_request(store, clock.now(), agent=True, party=PROVIDER, access_packages=packages,
                          request_id=f"a-{name}", external_ref=name)
    return approve(store, clock, request, actor=FIRM)


def test_every_client_package_of_the_catalogue_has_a_role() -> None:
    """A package for clients that no role allows could never be used: the catalogue and the roles must agree."""
    for package in CATALOGUE:
        role = role_of_package(package.urn)
        assert (role is not None) == package.for_clients, package.urn
        assert role is None or package.urn in ROLE_PACKAGES[role]
    assert role_of_package(CLIENT_PACKAGE) is ClientRole.REGNSKAPSFORER
    assert role_of_package("urn:altinn:accesspackage:revisormedarbeider") is ClientRole.REVISOR
    assert role_of_package("urn:altinn:accesspackage:forretningsforer-eiendom") is ClientRole.FORRETNINGSFORER
    assert role_of_package("regnskapsforer-lonn") is None and role_of_package(OWN) is None


def test_a_client_without_a_fitting_relationship_is_auth_00080(store: MemoryStore, clock: FixedClock) -> None:
    agent = agent_user(store, clock)
    relate(store, clock, role=ClientRole.REVISOR)  # the firm is the consumer's auditor, not its accountant
    relate(store, clock, client=PROVIDER, facilitator=CONSUMER)  # the other way round does not count
    relate(store, clock, client=OTHER, facilitator=VENDOR)  # nor a relationship to another firm
    for client in (CONSUMER, OTHER):
        with pytest.raises(AltinnProblem) as exc, store.begin() as uow:
            add_agent_client(uow, agent, client, FIRM, clock.now())
        assert problem_of(exc) == ("AUTH-00080", 400)
        assert client not in exc.value.title and "relationship" in exc.value.title
    with store.read() as uow:
        assert available_clients(uow, agent).clients == () and uow.list_agent_clients(agent.system_user_id) == []
        assert uow.list_audit(org=CONSUMER, entity_kind="agentclient") == []
    relate(store, clock)  # now also its accountant
    with store.begin() as uow:
        assert add_agent_client(uow, agent, CONSUMER, FIRM, clock.now()).client_orgno == CONSUMER


def test_the_role_must_allow_every_package_of_the_agent(store: MemoryStore, clock: FixedClock) -> None:
    accountant = agent_with(store, clock, CLIENT_PACKAGE, LONN_PACKAGE)
    both = agent_with(store, clock, CLIENT_PACKAGE, AUDITOR_PACKAGE)
    relate(store, clock)
    relate(store, clock, role=ClientRole.REVISOR)
    relate(store, clock, client=OTHER, role=ClientRole.REVISOR)
    with store.read() as uow:
        assert [o.orgno for o in available_clients(uow, accountant).clients] == [CONSUMER]
        assert available_clients(uow, both).clients == ()  # no single role allows both packages
    with pytest.raises(AltinnProblem) as exc, store.begin() as uow:
        add_agent_client(uow, both, CONSUMER, FIRM, clock.now())
    assert problem_of(exc) == ("AUTH-00080", 400)
    with store.read() as uow:
        empty = replace(accountant, access_packages=())  # never made by a request: fits nothing all the same
        assert not client_fits(uow, empty, CONSUMER) and client_fits(uow, accountant, CONSUMER)


def test_removing_the_relationship_ends_the_client_at_once(store: MemoryStore, clock: FixedClock) -> None:
    agent = agent_user(store, clock)
    auditor = agent_with(store, clock, AUDITOR_PACKAGE)
    relate(store, clock)
    relate(store, clock, role=ClientRole.REVISOR)
    with store.begin() as uow:
        add_agent_client(uow, agent, CONSUMER, FIRM, clock.now())
        add_agent_client(uow, auditor, CONSUMER, FIRM, clock.now())
    assert _permits(store, agent, None, "read", CONSUMER, CLIENT_PACKAGE)
    seq = store.last_change_seq()
    with store.begin() as uow:
        gone = remove_client_relationship(uow, CONSUMER, PROVIDER, "regnskapsforer", OPERATOR_ACTOR, clock.now())
    assert (gone.client_orgno, gone.facilitator_orgno, gone.role) == (CONSUMER, PROVIDER, ClientRole.REGNSKAPSFORER)
    assert not _permits(store, agent, None, "read", CONSUMER, CLIENT_PACKAGE)
    assert _permits(store, auditor, None, "read", CONSUMER, AUDITOR_PACKAGE)  # its role still stands
    assert [(c.kind, c.key) for c in store.changes_since(seq)] == [
        ("clientrelationship", CONSUMER), ("agentclient", agent.system_user_id)]
    with store.read() as uow:
        assert uow.list_agent_clients(agent.system_user_id) == []  # it left the agent it no longer fits
        assert [c.client_orgno for c in uow.list_agent_clients(auditor.system_user_id)] == [CONSUMER]
        events = [(e.action, e.actor_client_id) for e in uow.list_audit(org=CONSUMER)[:2]]
    assert sorted(events) == [("agentclient.remove", "operator:cli"), ("clientrelationship.remove", "operator:cli")]


def test_permits_checks_the_relationship_on_every_question(store: MemoryStore, clock: FixedClock) -> None:
    """The decision point itself asks for the relationship: a client row left behind permits nothing."""
    agent = agent_user(store, clock)
    relate(store, clock)
    with store.begin() as uow:
        add_agent_client(uow, agent, CONSUMER, FIRM, clock.now())
    with store.begin() as uow:
        assert uow.delete_client_relationship(CONSUMER, PROVIDER, ClientRole.REGNSKAPSFORER)
    with store.read() as uow:
        assert uow.has_agent_client(agent.system_user_id, CONSUMER)
    assert not _permits(store, agent, None, "read", CONSUMER, CLIENT_PACKAGE)
    relate(store, clock, role=ClientRole.FORRETNINGSFORER)
    assert not _permits(store, agent, None, "read", CONSUMER, CLIENT_PACKAGE)
    relate(store, clock)
    assert _permits(store, agent, None, "read", CONSUMER, CLIENT_PACKAGE)


def test_register_is_idempotent_audited_and_refuses_bad_input(store: MemoryStore, clock: FixedClock) -> None:
    seq = store.last_change_seq()
    with store.begin() as uow:
        made = register_client_relationship(uow, CONSUMER, PROVIDER, " Revisor ", OPERATOR_ACTOR, clock.now())
    assert (made.role, made.created, made.created_by) == (ClientRole.REVISOR, clock.now(), "operator:cli")
    with store.begin() as uow:
        later = clock.now() + timedelta(days=1)
        assert register_client_relationship(uow, CONSUMER, PROVIDER, ClientRole.REVISOR, FIRM, later) == made
    assert [(c.kind, c.key) for c in store.changes_since(seq)] == [("clientrelationship", CONSUMER)]
    with store.read() as uow:
        (event,) = uow.list_audit(org=PROVIDER, entity_kind="clientrelationship")
        assert (event.action, event.entity_key, event.org_scope) == (
            "clientrelationship.add", CONSUMER, tuple(sorted((CONSUMER, PROVIDER))))
        assert relationships(uow, facilitator=PROVIDER) == [made] and relationships(uow, client=OTHER) == []
    bad: list[tuple[str, str, str, type[Exception], str]] = [
        ("12345678", PROVIDER, "revisor", Invalid, "client must be a 9-digit"),
        (CONSUMER, "abc", "revisor", Invalid, "facilitator must be a 9-digit"),
        (CONSUMER, CONSUMER, "revisor", Invalid, "its own facilitator"),
        ("123456785", PROVIDER, "revisor", NotFound, "no organisation 123456785"),
        (CONSUMER, PROVIDER, "daglig-leder", Invalid, "role must be one of regnskapsforer, revisor, forretningsforer"),
    ]
    for client, facilitator, role, error, text in bad:
        with pytest.raises(error, match=text), store.begin() as uow:
            register_client_relationship(uow, client, facilitator, role, OPERATOR_ACTOR, clock.now())
    with pytest.raises(NotFound, match="no client relationship"), store.begin() as uow:
        remove_client_relationship(uow, CONSUMER, PROVIDER, "regnskapsforer", OPERATOR_ACTOR, clock.now())
    with pytest.raises(Invalid), store.read() as uow:
        relationships(uow, client="nope")
