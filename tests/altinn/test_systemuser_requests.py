"""System-user requests' use-cases (docs/protocol.md §6.2): the order of the checks, the idempotent re-POST, the
redirect URL rule, paging, soft delete, timeouts, and the audit events and change-feed entries."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from portvakt.domain import usecases as uc
from portvakt.domain.altinn_errors import AltinnProblem, AltinnValidation
from portvakt.domain.audit import Actor
from portvakt.domain.changes import SYSTEM_USER_REQUEST_KIND
from portvakt.domain.clock import FixedClock
from portvakt.domain.models import IntegrationType, RequestStatus, SystemRight, SystemUser, SystemUserType
from portvakt.domain.ports import Store
from portvakt.domain.systemregister import SystemSpec, Writer, delete_system, register_system
from portvakt.domain.systemuser_requests import (
    RequestSpec,
    create_request,
    delete_request,
    external_ref_of,
    is_timed_out,
    redirect_matches,
    request_by_external_ref,
    requests_by_system,
    vendor_request,
)
from portvakt.storage.sql import SqlStore
from tests.altinn.systems import ACTOR, ANY, CLIENT_PACKAGE, OWN, READ, SYSTEM_ID
from tests.conftest import CONSUMER, OP, OTHER, PROVIDER, VENDOR

STANDARD, AGENT = SystemUserType.STANDARD, SystemUserType.AGENT


def with_systems(store: Store, clock: FixedClock) -> Store:
    """The vendor's two systems: the visible one (rights and an own package), the agent one (a package for
    clients, no redirect URLs)."""
    with store.begin() as uow:
        client = uc.new_client(uow, client_name="System", client_orgno=VENDOR,
                               integration_type=IntegrationType.MASKINPORTEN, scopes=[], actor=OP, now=clock.now())
        system = SystemSpec(system_id=SYSTEM_ID, vendor_id=f"0192:{VENDOR}", name={"nb": "Regnskap"},
                            description={"nb": "Beskrivelse"}, rights=(READ, ANY), access_packages=(OWN,),
                            client_ids=(client.client_id,),
                            allowed_redirect_urls=("https://vendor.test/done", "https://vendor.test:8443/x"))
        register_system(uow, system, Writer(VENDOR), ACTOR, clock.now())
        register_system(uow, replace(system, system_id=f"{VENDOR}_byra", access_packages=(CLIENT_PACKAGE, OWN),
                                     client_ids=(), allowed_redirect_urls=(), is_visible=False), Writer(VENDOR),
                        ACTOR, clock.now())
    return store


@pytest.fixture
def store(store: Store, clock: FixedClock) -> Store:
    """The seeded memory store, with the vendor's systems."""
    return with_systems(store, clock)


@pytest.fixture
def sqlite_store(sqlite_store: SqlStore, clock: FixedClock) -> Store:
    """The seeded SQLite store, with the vendor's systems."""
    return with_systems(sqlite_store, clock)


def ask(store: Store, clock: FixedClock, user_type: SystemUserType = STANDARD, vendor: str = VENDOR,
        **over: Any) -> Any:
    """create_request for the consumer: READ on the system (agent: the signing package on the agent system)."""
    if user_type == AGENT:
        spec = RequestSpec(system_id=f"{VENDOR}_byra", party_orgno=CONSUMER, access_packages=(CLIENT_PACKAGE,))
    else:
        spec = RequestSpec(system_id=SYSTEM_ID, party_orgno=CONSUMER, rights=(READ,))
    with store.begin() as uow:
        return create_request(uow, replace(spec, **over), user_type, vendor, ACTOR, clock.now())


def test_create_stores_a_new_request_with_its_audit_event(any_store: Store, clock: FixedClock) -> None:
    made = ask(any_store, clock, integration_title="  ", redirect_url="https://vendor.test/done")
    assert made.new
    request = made.request
    assert (request.status, request.external_ref, request.integration_title, request.vendor_orgno) == (
        RequestStatus.NEW, CONSUMER, "Regnskap", VENDOR)
    assert request.rights == (READ,) and request.access_packages == () and request.user_type == STANDARD
    with any_store.read() as uow:
        assert uow.get_request(request.request_id) == request
        events = uow.list_audit(org=CONSUMER, entity_kind=SYSTEM_USER_REQUEST_KIND)
    assert [(e.action, e.entity_key) for e in events] == [("systemuserrequest.create", request.request_id)]
    assert (SYSTEM_USER_REQUEST_KIND, request.request_id) in [(c.kind, c.key) for c in any_store.changes_since(0)]


def test_a_re_post_returns_the_request_whatever_its_status(any_store: Store, clock: FixedClock) -> None:
    first = ask(any_store, clock).request
    with any_store.begin() as uow:
        uow.put_request(replace(first, status=RequestStatus.REJECTED))
    again = ask(any_store, clock, rights=(ANY,), external_ref=f" {CONSUMER} ")
    assert not again.new and again.request.request_id == first.request_id
    assert again.request.status == RequestStatus.REJECTED
    assert ask(any_store, clock, AGENT).new  # the agent key is another key


def test_the_existing_request_is_checked_before_the_system(store: Store, clock: FixedClock) -> None:
    first = ask(store, clock).request
    with store.begin() as uow:
        delete_system(uow, SYSTEM_ID, Writer(VENDOR), ACTOR, clock.now())
    assert ask(store, clock).request == first
    with pytest.raises(AltinnProblem) as exc:
        ask(store, clock, external_ref="new")
    assert (exc.value.code, exc.value.status) == ("AUTH-00011", 404)


def put_user(store: Store, clock: FixedClock, *, vendor: str = VENDOR, external_ref: str = CONSUMER,
             deleted: bool = False) -> None:
    at = clock.now()
    with store.begin() as uow:
        uow.put_system_user(SystemUser(str(uuid.uuid4()), STANDARD, SYSTEM_ID, vendor, CONSUMER, external_ref, "t",
                                       at, at, deleted=deleted))


def test_an_active_system_user_is_checked_first(store: Store, clock: FixedClock) -> None:
    put_user(store, clock, deleted=True)
    put_user(store, clock, vendor=OTHER)
    assert ask(store, clock).new  # a deleted one, or one of another vendor, does not count
    put_user(store, clock)
    with pytest.raises(AltinnProblem) as exc:
        ask(store, clock)  # before the idempotent answer
    assert (exc.value.code, exc.value.status) == ("AUTH-00004", 400)


@pytest.mark.parametrize(("user_type", "over", "code"), [
    (STANDARD, {"party_orgno": PROVIDER + "0"}, "AUTH-00000"),
    (STANDARD, {"redirect_url": "https://vendor.test/done/"}, "AUTH-00021"),
    (STANDARD, {"rights": (READ, READ, ANY, SystemRight(resource=(("urn:altinn:resource", "x"),)))}, "AUTH-00001"),
    (STANDARD, {"rights": None, "access_packages": None}, "AUTH-00001"),
    (STANDARD, {"rights": (), "access_packages": None}, "AUTH-00059"),
    (STANDARD, {"access_packages": (CLIENT_PACKAGE,)}, "AUTH-00063"),
    (STANDARD, {"system_id": f"{VENDOR}_byra", "rights": None, "access_packages": (CLIENT_PACKAGE,)}, "AUTH-00064"),
    (STANDARD, {"system_id": f"{VENDOR}_byra", "rights": None, "redirect_url": "https://vendor.test/done"},
     "AUTH-00026"),
    (AGENT, {"access_packages": None}, "AUTH-00058"),
    (AGENT, {"access_packages": (OWN,)}, "AUTH-00065"),
    (AGENT, {"system_id": SYSTEM_ID, "access_packages": (CLIENT_PACKAGE,)}, "AUTH-00063"),
])
def test_refusals(store: Store, clock: FixedClock, user_type: SystemUserType, over: dict[str, Any],
                  code: str) -> None:
    with pytest.raises(AltinnProblem) as exc:
        ask(store, clock, user_type, **over)
    assert exc.value.code == code and exc.value.status == 400
    with store.read() as uow:
        assert uow.list_requests(SYSTEM_ID, user_type) == []


def test_duplicate_rights_and_packages_are_kept_once(store: Store, clock: FixedClock) -> None:
    made = ask(store, clock, rights=(READ, READ, ANY), access_packages=(OWN, OWN)).request
    assert made.rights == (READ, ANY) and made.access_packages == (OWN,)


def test_oversized_input_is_a_validation_error(store: Store, clock: FixedClock) -> None:
    with pytest.raises(AltinnValidation) as exc:
        ask(store, clock, external_ref="x" * 201, integration_title="t" * 201)
    assert exc.value.codes == ("AUTH.VLD-00092", "AUTH.VLD-00092")


@pytest.mark.parametrize(("url", "ok"), [
    ("https://vendor.test/done", True), ("https://vendor.test/done?a=1#f", True),
    ("https://vendor.test:443/done", True), ("https://VENDOR.TEST/done", True), ("https://vendor.test:8443/x", True),
    ("https://vendor.test/Done", False), ("https://vendor.test/done/", False), ("http://vendor.test/done", False),
    ("https://vendor.test:8443/done", False), ("https://vendor.test.evil/done", False), ("not a url", False),
])
def test_redirect_matches_scheme_host_port_and_path(url: str, ok: bool) -> None:
    assert redirect_matches(url, ("https://vendor.test/done", "https://vendor.test:8443/x")) is ok


def test_reads_are_the_vendors_own(any_store: Store, clock: FixedClock) -> None:
    standard = ask(any_store, clock, external_ref="r1").request
    agent = ask(any_store, clock, AGENT).request
    with any_store.read() as uow:
        assert vendor_request(uow, standard.request_id, VENDOR, STANDARD) == standard
        assert request_by_external_ref(uow, SYSTEM_ID, CONSUMER, "r1", VENDOR, STANDARD) == standard
        assert request_by_external_ref(uow, f"{VENDOR}_byra", CONSUMER, "", VENDOR, AGENT) == agent
        for request_id, vendor, kind, code in ((standard.request_id, OTHER, STANDARD, "AUTH-00010"),
                                               (standard.request_id, VENDOR, AGENT, "AUTH-00025"),
                                               (agent.request_id, VENDOR, STANDARD, "AUTH-00010")):
            with pytest.raises(AltinnProblem) as exc:
                vendor_request(uow, request_id, vendor, kind)
            assert exc.value.code == code
        with pytest.raises(AltinnProblem) as foreign:
            request_by_external_ref(uow, SYSTEM_ID, CONSUMER, "r1", OTHER, STANDARD)
        assert foreign.value.code == "AUTH-00011"


def test_paging_continues_after_the_last_request(any_store: Store, clock: FixedClock) -> None:
    made = []
    for n in range(5):
        clock.advance(1)
        made.append(ask(any_store, clock, external_ref=f"r{n}").request.request_id)
    ask(any_store, clock, AGENT)
    seen: list[str] = []
    after = None
    with any_store.read() as uow:
        for _ in range(3):
            page, after = requests_by_system(uow, SYSTEM_ID, VENDOR, STANDARD, after, limit=2)
            seen += [r.request_id for r in page]
            if after is None:
                break
        assert seen == made and after is None
        with pytest.raises(AltinnValidation):
            requests_by_system(uow, SYSTEM_ID, VENDOR, AGENT, made[0])
        with pytest.raises(AltinnProblem):
            requests_by_system(uow, SYSTEM_ID, OTHER, STANDARD)


def test_delete_is_soft_and_only_the_vendors(any_store: Store, clock: FixedClock) -> None:
    made = ask(any_store, clock).request
    with any_store.begin() as uow, pytest.raises(AltinnProblem) as exc:
        delete_request(uow, made.request_id, OTHER, Actor(OTHER, "x"), clock.now())
    assert exc.value.code == "AUTH-00010"
    with any_store.begin() as uow:
        gone = delete_request(uow, made.request_id, VENDOR, ACTOR, clock.now())
    with any_store.read() as uow:
        assert uow.get_request(made.request_id) == gone and gone.deleted
        assert uow.find_request(SYSTEM_ID, CONSUMER, CONSUMER, STANDARD) is None
        events = uow.list_audit(org=VENDOR, entity_kind=SYSTEM_USER_REQUEST_KIND, entity_key=made.request_id)
    assert [e.action for e in events] == ["systemuserrequest.delete", "systemuserrequest.create"]
    assert ask(any_store, clock).new


def test_timeouts_and_external_refs(store: Store, clock: FixedClock) -> None:
    made = ask(store, clock).request
    assert not is_timed_out(made, clock.now() + timedelta(days=180))
    assert is_timed_out(made, clock.now() + timedelta(days=180, seconds=1))
    assert external_ref_of(None, CONSUMER) == external_ref_of("  ", CONSUMER) == CONSUMER
    assert external_ref_of(" a ", CONSUMER) == "a"
