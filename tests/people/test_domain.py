"""The rules of people: usernames, mobile numbers, names, roles per registered organisation, audit."""

from __future__ import annotations

import json

import pytest

from portvakt.altinn.passwords import Argon2PasswordHasher
from portvakt.domain import people
from portvakt.domain.clock import FixedClock
from portvakt.domain.errors import Conflict, Invalid, NotFound
from portvakt.domain.models import Person, PersonRole, PortalRole
from portvakt.storage.memory import MemoryStore
from tests.conftest import CONSUMER, OTHER, PROVIDER, VENDOR
from tests.people.conftest import OP, PASSWORD

IR, AM, API = PortalRole.INTEGRATION_RESPONSIBLE, PortalRole.ACCESS_MANAGER, PortalRole.API_ADMIN


@pytest.mark.parametrize(("given", "stored"), [("Ida@Vendor.test", "ida@vendor.test"), (" ola ", "ola"),
                                               ("a.b_c-d@e", "a.b_c-d@e"), ("x" * 100, "x" * 100)])
def test_usernames_are_lower_cased(given: str, stored: str) -> None:
    assert people.normalise_username(given) == stored


@pytest.mark.parametrize("bad", ["ab", "x" * 101, "ida vendor", "ida+tag@x", ".ida", "-ida", "ø@x.no", "ida\x00x",
                                 ""])
def test_bad_usernames_are_invalid(bad: str) -> None:
    with pytest.raises(Invalid) as caught:
        people.normalise_username(bad)
    assert caught.value.field == "username"


@pytest.mark.parametrize(("given", "stored"), [("+47 912 34 567", "+4791234567"), ("91234567", "+4791234567"),
                                               ("0047 91234567", "+4791234567"), ("+46-70-123 45 67", "+46701234567"),
                                               ("+123456789012345", "+123456789012345")])
def test_mobile_numbers_are_normalised_to_e164(given: str, stored: str) -> None:
    assert people.normalise_mobile(given) == stored


@pytest.mark.parametrize("bad", ["1234567", "+47 1234567", "+47 123456789", "+1234567", "+1234567890123456",
                                 "+0123456789", "tlf 91234567", ""])
def test_bad_mobile_numbers_are_invalid(bad: str) -> None:
    with pytest.raises(Invalid) as caught:
        people.normalise_mobile(bad)
    assert caught.value.field == "mobile"


def test_names_are_trimmed_and_checked() -> None:
    assert people.check_name("  Ida   Ærlig ") == "Ida Ærlig"
    for bad in ("", "   ", "x" * 201, "Ida\nÆrlig", "Ida\x00"):
        with pytest.raises(Invalid):
            people.check_name(bad)


def test_password_policy() -> None:
    people.check_password("x" * people.MIN_PASSWORD)
    for bad in ("x" * (people.MIN_PASSWORD - 1), " " * 20, "x" * (people.MAX_PASSWORD + 1)):
        with pytest.raises(Invalid) as caught:
            people.check_password(bad)
        assert caught.value.field == "password" and bad not in caught.value.message


def test_roles_are_parsed_from_orgno_colon_role() -> None:
    assert people.parse_role(f"{VENDOR}:integration_responsible") == PersonRole(VENDOR, IR)
    assert people.parse_role(f" {CONSUMER}:access-manager ") == PersonRole(CONSUMER, AM)
    for bad in (f"{VENDOR}", f"{VENDOR}:admin", "api_admin", f"{VENDOR}:API_ADMIN"):
        with pytest.raises(Invalid, match="ORGNO:ROLE"):
            people.parse_role(bad)


def test_add_person_normalises_sorts_roles_and_keeps_only_a_hash(ida: Person) -> None:
    assert (ida.username, ida.name, ida.mobile) == ("ida@vendor.test", "Ida Ærlig", "+4791234567")
    assert ida.roles == (PersonRole(CONSUMER, AM), PersonRole(VENDOR, IR))
    assert ida.active and ida.created == ida.updated
    assert ida.password_hash.startswith("$argon2id$") and PASSWORD not in ida.password_hash


def test_roles_need_a_registered_organisation(store: MemoryStore, hasher: Argon2PasswordHasher,
                                              clock: FixedClock) -> None:
    for orgno, text in (("123456789", "9-digit organisation number"), ("889640782", "not a registered")):
        with store.begin() as uow, pytest.raises(Invalid, match=text):
            people.add_person(uow, hasher, username="ola", name="Ola", mobile="+4790000000", password=PASSWORD,
                              roles=[PersonRole(orgno, API)], actor=OP, now=clock.now())


def test_a_username_is_taken_once(store: MemoryStore, hasher: Argon2PasswordHasher, clock: FixedClock,
                                  ida: Person) -> None:
    with store.begin() as uow, pytest.raises(Conflict, match="taken"):
        people.add_person(uow, hasher, username="IDA@vendor.test", name="Ida", mobile="+4790000000",
                          password=PASSWORD, roles=(), actor=OP, now=clock.now())


def test_a_short_password_is_refused_before_hashing(store: MemoryStore, clock: FixedClock) -> None:
    class Refuses:
        def hash(self, password: str) -> str:
            raise AssertionError("hashed a password the policy refuses")

    with store.begin() as uow, pytest.raises(Invalid, match="password"):
        people.add_person(uow, Refuses(), username="ola", name="Ola", mobile="+4790000000",  # type: ignore[arg-type]
                          password="short", roles=(), actor=OP, now=clock.now())


def test_grant_revoke_and_set_roles_are_idempotent_and_audited(store: MemoryStore, clock: FixedClock,
                                                               ida: Person) -> None:
    clock.advance(60)
    admin = PersonRole(PROVIDER, API)
    with store.begin() as uow:
        granted = people.grant_role(uow, "ida@vendor.test", admin, OP, clock.now())
        assert people.grant_role(uow, "ida@vendor.test", admin, OP, clock.now()) == granted
        revoked = people.revoke_role(uow, "ida@vendor.test", PersonRole(VENDOR, IR), OP, clock.now())
        assert people.revoke_role(uow, "ida@vendor.test", PersonRole(VENDOR, IR), OP, clock.now()) == revoked
    assert granted.roles == (PersonRole(CONSUMER, AM), PersonRole(VENDOR, IR), admin)
    assert revoked.roles == (PersonRole(CONSUMER, AM), admin) and revoked.updated == clock.now()
    with store.read() as uow:
        assert [e.action for e in uow.list_audit(org=PROVIDER, entity_kind="person")] == ["person.roles"] * 2
        assert [e.action for e in uow.list_audit(org=VENDOR, entity_kind="person")] == [
            "person.roles", "person.roles", "person.create"], "the org whose role was revoked sees the revocation"
        assert uow.list_audit(org=OTHER, entity_kind="person") == []


def test_deactivate_is_idempotent_and_keeps_the_account(store: MemoryStore, clock: FixedClock, ida: Person) -> None:
    with store.begin() as uow:
        gone = people.deactivate_person(uow, "ida@vendor.test", OP, clock.now())
        assert people.deactivate_person(uow, "ida@vendor.test", OP, clock.now()) is gone
    assert not gone.active and gone.roles == ida.roles
    with store.read() as uow:
        assert uow.get_person("ida@vendor.test") == gone
        with pytest.raises(NotFound):
            people.require_person(uow, "nobody")


def test_set_password_replaces_the_hash(store: MemoryStore, hasher: Argon2PasswordHasher, clock: FixedClock,
                                        ida: Person) -> None:
    with store.begin() as uow:
        changed = people.set_password(uow, hasher, "ida@vendor.test", "a new long passphrase", OP, clock.now())
    assert changed.password_hash != ida.password_hash
    assert hasher.verify(changed.password_hash, "a new long passphrase")
    assert not hasher.verify(changed.password_hash, PASSWORD)


def test_no_audit_event_holds_the_hash_or_the_password(store: MemoryStore, hasher: Argon2PasswordHasher,
                                                      clock: FixedClock, ida: Person) -> None:
    with store.begin() as uow:
        people.set_password(uow, hasher, ida.username, "another long passphrase", OP, clock.now())
        people.deactivate_person(uow, ida.username, OP, clock.now())
    with store.read() as uow:
        events = uow.list_audit(org=VENDOR, entity_kind="person")
    assert [e.action for e in events] == ["person.deactivate", "person.password", "person.create"]
    dumped = json.dumps([[e.before, e.after] for e in events])
    assert "password_hash" not in dumped and "$argon2" not in dumped
    assert PASSWORD not in dumped and "another long passphrase" not in dumped
    created = events[-1].after
    assert created is not None and created["roles"][0] == {"orgno": CONSUMER, "role": "access_manager"}
