"""The system register's use-cases (docs/protocol.md §6.1): the order of the checks, the collected validation
errors, the owner check, soft delete, and the audit events and change-feed entries the changelog reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from portvakt.domain import usecases as uc
from portvakt.domain.accesspackages import CATALOGUE, package
from portvakt.domain.altinn_errors import AltinnProblem, AltinnValidation
from portvakt.domain.audit import Actor
from portvakt.domain.changes import SYSTEM_KIND
from portvakt.domain.clock import FixedClock
from portvakt.domain.errors import Forbidden
from portvakt.domain.models import IntegrationType
from portvakt.domain.ports import Store, UnitOfWork
from portvakt.domain.systemregister import (
    SystemSpec,
    Writer,
    delete_system,
    is_allowed_redirect_url,
    owned_system,
    portal_system,
    register_system,
    replace_access_packages,
    replace_rights,
    system_changelog,
    update_system,
    vendor_orgno,
)
from tests.altinn.systems import ACTOR, ANY, OWN, READ, SYSTEM_ID
from tests.conftest import OP, OTHER, VENDOR

FOR_CLIENTS = "urn:altinn:accesspackage:ansvarlig-revisor"
ME = Writer(VENDOR)


def client_of(store: Store, clock: FixedClock, orgno: str = VENDOR) -> str:
    """A new maskinporten client of `orgno`."""
    with store.begin() as uow:
        return uc.new_client(uow, client_name="System", client_orgno=orgno,
                             integration_type=IntegrationType.MASKINPORTEN, scopes=[], actor=OP,
                             now=clock.now()).client_id


def spec(client_id: str, **over: Any) -> SystemSpec:
    """A valid system of the vendor."""
    base = SystemSpec(system_id=SYSTEM_ID, vendor_id=f"0192:{VENDOR}", name={"nb": "Regnskap", "en": "Accounting"},
                      description={"nb": "Beskrivelse"}, rights=(READ, ANY), access_packages=(OWN,),
                      client_ids=(client_id,), allowed_redirect_urls=("https://vendor.test/done",))
    return replace(base, **over)


def codes(exc: pytest.ExceptionInfo[AltinnValidation]) -> list[str]:
    return list(exc.value.codes)


def test_register_writes_the_system_its_audit_event_and_change(any_store: Store, clock: FixedClock) -> None:
    client_id = client_of(any_store, clock)
    with any_store.begin() as uow:
        made = register_system(uow, spec(client_id, name={"nb": " Regnskap ", "nn": ""}), ME, ACTOR, clock.now())
    with any_store.read() as uow:
        stored = uow.get_system(SYSTEM_ID)
        events = uow.list_audit(org=VENDOR, entity_kind=SYSTEM_KIND, entity_key=SYSTEM_ID)
    changes = [c for c in any_store.changes_since(0) if c.kind == SYSTEM_KIND]
    assert stored == made and made.name == {"nb": "Regnskap"} and made.vendor_orgno == VENDOR
    assert made.rights == (READ, ANY) and made.client_ids == (client_id,) and not made.deleted
    assert [(e.action, e.actor_client_id) for e in events] == [("create", f"admin-{VENDOR}")]
    assert [c.key for c in changes] == [SYSTEM_ID]


def test_the_vendor_check_is_first_and_alone(store: Store, clock: FixedClock) -> None:
    for vendor_id in ("9908:314330897", "0192:31433089", "314330897", "0192:314330898"):
        with store.begin() as uow, pytest.raises(AltinnValidation) as exc:
            register_system(uow, spec("nope", vendor_id=vendor_id, system_id="bad id"), ME, ACTOR, clock.now())
        assert codes(exc) == ["AUTH.VLD-00000"]
    assert vendor_orgno(" 0192:314330897 ") == VENDOR


def test_the_owner_check_comes_before_validation_errors(store: Store, clock: FixedClock) -> None:
    with store.begin() as uow, pytest.raises(Forbidden):
        register_system(uow, spec("nope", system_id="bad id"), Writer(OTHER), ACTOR, clock.now())


def test_an_unregistered_vendor_is_vld_00000(store: Store, clock: FixedClock) -> None:
    with store.begin() as uow, pytest.raises(AltinnValidation) as exc:
        register_system(uow, spec("nope", vendor_id="0192:920000002", system_id="920000002_x"),
                        Writer(OTHER, admin=True), ACTOR, clock.now())
    assert codes(exc) == ["AUTH.VLD-00000", "AUTH.VLD-00090"]


def test_errors_are_collected_once_each(store: Store, clock: FixedClock) -> None:
    bad = spec("nope", allowed_redirect_urls=("http://a.test/", "ftp://b"), rights=(ANY, ANY, ANY),
               access_packages=("urn:x", "urn:y", FOR_CLIENTS), client_ids=("a", "A"))
    with store.begin() as uow, pytest.raises(AltinnValidation) as exc:
        register_system(uow, bad, ME, ACTOR, clock.now())
    assert codes(exc) == ["AUTH.VLD-00005", "AUTH.VLD-00011", "AUTH.VLD-00090", "AUTH.VLD-00006",
                          "AUTH.VLD-00008", "AUTH.VLD-00018"]


def test_a_taken_id_and_a_taken_client_id(any_store: Store, clock: FixedClock) -> None:
    client_id = client_of(any_store, clock)
    with any_store.begin() as uow:
        register_system(uow, spec(client_id), ME, ACTOR, clock.now())
    with any_store.begin() as uow, pytest.raises(AltinnValidation) as exc:
        register_system(uow, spec(client_id), ME, ACTOR, clock.now())
    assert codes(exc) == ["AUTH.VLD-00002", "AUTH.VLD-00004"]
    assert "already exists" in exc.value.errors[0].title
    with any_store.begin() as uow:
        delete_system(uow, SYSTEM_ID, ME, ACTOR, clock.now())
        again = register_system(uow, spec(client_id, system_id=f"{VENDOR}_next"), ME, ACTOR, clock.now())
    assert again.client_ids == (client_id,)


def test_update_keeps_identity_and_checks_against_other_systems(store: Store, clock: FixedClock) -> None:
    client_id, second = client_of(store, clock), client_of(store, clock)
    with store.begin() as uow:
        made = register_system(uow, spec(client_id), ME, ACTOR, clock.now())
        register_system(uow, spec(second, system_id=f"{VENDOR}_two"), ME, ACTOR, clock.now())
    clock.advance(60)
    with store.begin() as uow:
        after = update_system(uow, SYSTEM_ID, spec(client_id, rights=(ANY,), is_visible=False), ME, ACTOR,
                              clock.now())
    assert (after.internal_id, after.created, after.rights, after.is_visible) == (made.internal_id, made.created,
                                                                                    (ANY,), False)
    assert after.last_updated == clock.now()
    with store.begin() as uow, pytest.raises(AltinnValidation) as exc:
        update_system(uow, SYSTEM_ID, spec(second, system_id=f"{VENDOR}_two"), ME, ACTOR, clock.now())
    assert codes(exc) == ["AUTH.VLD-00012", "AUTH.VLD-00004"]


def test_update_refusals_404_403_and_deleted(store: Store, clock: FixedClock) -> None:
    client_id = client_of(store, clock)
    with store.begin() as uow:
        register_system(uow, spec(client_id), ME, ACTOR, clock.now())
    with store.begin() as uow, pytest.raises(AltinnProblem) as missing:
        update_system(uow, f"{VENDOR}_nope", spec(client_id), ME, ACTOR, clock.now())
    assert (missing.value.code, missing.value.status) == ("AUTH-00011", 404)
    with store.begin() as uow, pytest.raises(Forbidden):
        replace_rights(uow, SYSTEM_ID, [], Writer(OTHER), ACTOR, clock.now())
    with store.begin() as uow, pytest.raises(AltinnProblem) as moved:
        update_system(uow, SYSTEM_ID, spec(client_id, vendor_id=f"0192:{OTHER}"), Writer(OTHER, admin=True), ACTOR,
                      clock.now())
    assert moved.value.code == "AUTH-00011"
    with store.begin() as uow:
        delete_system(uow, SYSTEM_ID, ME, ACTOR, clock.now())
    changes: tuple[Callable[[UnitOfWork], object], ...] = (
        lambda u: update_system(u, SYSTEM_ID, spec(client_id), ME, ACTOR, clock.now()),
        lambda u: replace_rights(u, SYSTEM_ID, [READ], ME, ACTOR, clock.now()),
        lambda u: replace_access_packages(u, SYSTEM_ID, [OWN], ME, ACTOR, clock.now()))
    for change in changes:
        with store.begin() as uow, pytest.raises(AltinnValidation) as exc:
            change(uow)
        assert codes(exc) == ["AUTH.VLD-00093"]


def test_the_changelog_is_the_audit_trail_in_order(any_store: Store, clock: FixedClock) -> None:
    client_id = client_of(any_store, clock)
    admin = Actor(OTHER, "registry-admin")
    with any_store.begin() as uow:
        register_system(uow, spec(client_id), ME, ACTOR, clock.now())
    steps: tuple[Callable[[UnitOfWork], object], ...] = (
        lambda u: update_system(u, SYSTEM_ID, spec(client_id), ME, ACTOR, clock.now()),
        lambda u: replace_rights(u, SYSTEM_ID, [READ], Writer(OTHER, admin=True), admin, clock.now()),
        lambda u: replace_access_packages(u, SYSTEM_ID, [], ME, ACTOR, clock.now()),
        lambda u: delete_system(u, SYSTEM_ID, ME, ACTOR, clock.now()),
        lambda u: delete_system(u, SYSTEM_ID, ME, ACTOR, clock.now()))
    for step in steps:
        clock.advance(1)
        with any_store.begin() as uow:
            step(uow)
    with any_store.read() as uow:
        log = system_changelog(uow, SYSTEM_ID, ME)
        theirs = uow.list_audit(org=OTHER, entity_kind=SYSTEM_KIND)
        assert owned_system(uow, SYSTEM_ID, ME).deleted
    assert [e.action for e in log] == ["create", "update", "rightsupdate", "accesspackageupdate", "delete"]
    assert log[2].actor_orgno == OTHER and log[2].after is not None and log[2].after["rights"][0]["action"] == "read"
    assert [e.action for e in theirs] == ["rightsupdate"]  # the admin's own trail has its act


def test_a_deleted_system_is_gone_for_the_portal(store: Store, clock: FixedClock) -> None:
    client_id = client_of(store, clock)
    with store.begin() as uow:
        register_system(uow, spec(client_id), ME, ACTOR, clock.now())
        assert portal_system(uow, SYSTEM_ID).system_id == SYSTEM_ID
        delete_system(uow, SYSTEM_ID, ME, ACTOR, clock.now())
        with pytest.raises(AltinnProblem):
            portal_system(uow, SYSTEM_ID)


@pytest.mark.parametrize(("url", "ok"), [
    ("https://vendor.test/done", True), ("https://vendor.test:8443/a?b=c", True), ("HTTPS://Vendor.test/", True),
    ("http://localhost:3000/cb", True), ("http://127.0.0.1/cb", True), ("http://[::1]/cb", True),
    ("http://vendor.test/", False), ("http://localhost.evil.test/", False), ("https:///path", False),
    ("https://u:p@vendor.test/", False), ("https://vendor.test/#frag", False), ("javascript:alert(1)", False),
    ("/relative", False), ("https://vendor.test:99999/", False), ("https://vendor.test/a b", False),
    ("https://" + "a" * 2000 + ".test/", False),
])
def test_allowed_redirect_urls(url: str, ok: bool) -> None:
    assert is_allowed_redirect_url(url) is ok


def test_the_catalogue() -> None:
    urns = {p.urn for p in CATALOGUE}
    assert len(urns) == len(CATALOGUE)
    for name in ("regnskapsforer-med-signeringsrettighet", "regnskapsforer-uten-signeringsrettighet",
                 "ansvarlig-revisor", "revisormedarbeider", "regnskapsforer-lonn"):
        found = package(f"urn:altinn:accesspackage:{name}")
        assert found is not None and found.for_clients and not found.assignable
    own = package(OWN)
    assert own is not None and own.assignable and not own.for_clients and own.names["nb"] == "Skatt næring"
    assert package("urn:altinn:accesspackage:SKATTNAERING") is None
