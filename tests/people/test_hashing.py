"""argon2id hashes (RFC 9106) and logging in: only a hash is stored, unknown users cost a verification too,
and a hash made with old parameters is replaced at the next login."""

from __future__ import annotations

from dataclasses import replace

import pytest

from portvakt.altinn.passwords import Argon2PasswordHasher
from portvakt.domain import people
from portvakt.domain.clock import FixedClock
from portvakt.domain.models import Person
from portvakt.storage.memory import MemoryStore
from tests.conftest import VENDOR
from tests.people.conftest import OP, PASSWORD, fast_hasher


class CountingHasher(Argon2PasswordHasher):
    """Counts verifications (to prove an unknown user costs one too)."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified: list[str] = []

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        return super().verify(password_hash, password)


def test_hash_is_salted_argon2id_and_verifies(hasher: Argon2PasswordHasher) -> None:
    first, second = hasher.hash(PASSWORD), hasher.hash(PASSWORD)
    assert first.startswith("$argon2id$v=19$m=1024,t=1,p=1$") and first != second
    assert PASSWORD not in first
    assert hasher.verify(first, PASSWORD) and hasher.verify(second, PASSWORD)
    assert not hasher.verify(first, PASSWORD + " ")
    assert not hasher.verify("not a hash", PASSWORD) and not hasher.verify("", PASSWORD)


def test_default_parameters_are_rfc_9106s_second_choice() -> None:
    made = Argon2PasswordHasher().hash(PASSWORD)
    assert made.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_needs_rehash_when_the_parameters_differ(hasher: Argon2PasswordHasher) -> None:
    stronger = Argon2PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    made = hasher.hash(PASSWORD)
    assert not hasher.needs_rehash(made)
    assert stronger.needs_rehash(made) and stronger.verify(made, PASSWORD)
    assert hasher.needs_rehash("garbage")


def test_dummy_hash_is_made_once_with_the_hashers_parameters(hasher: Argon2PasswordHasher) -> None:
    dummy = hasher.dummy_hash()
    assert dummy is hasher.dummy_hash() and not hasher.needs_rehash(dummy)
    assert fast_hasher().dummy_hash() != dummy


def test_authenticate_returns_the_person_for_the_right_password_only(store: MemoryStore, clock: FixedClock,
                                                                     hasher: Argon2PasswordHasher, ida: Person) -> None:
    with store.begin() as uow:
        assert people.authenticate(uow, hasher, "IDA@vendor.test", PASSWORD, clock.now()) == ida
        assert people.authenticate(uow, hasher, "ida@vendor.test", PASSWORD.upper(), clock.now()) is None
        assert people.authenticate(uow, hasher, "ida@vendor.test", "", clock.now()) is None


@pytest.mark.parametrize("username", ["nobody", "not a username", "x" * 500])
def test_an_unknown_user_costs_one_verification_too(store: MemoryStore, clock: FixedClock, username: str) -> None:
    counting = CountingHasher()
    with store.begin() as uow:
        assert people.authenticate(uow, counting, username, PASSWORD, clock.now()) is None
        assert people.authenticate(uow, counting, username, "p" * 5000, clock.now()) is None
    assert counting.verified == [counting.dummy_hash()] * 2


def test_an_inactive_person_is_refused_after_a_full_verification(store: MemoryStore, clock: FixedClock,
                                                                 ida: Person) -> None:
    counting = CountingHasher()
    with store.begin() as uow:
        people.deactivate_person(uow, ida.username, OP, clock.now())
        assert people.authenticate(uow, counting, ida.username, PASSWORD, clock.now()) is None
    assert counting.verified == [ida.password_hash]


def test_login_rehashes_a_hash_with_old_parameters(store: MemoryStore, clock: FixedClock, ida: Person) -> None:
    stronger = Argon2PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    clock.advance(5)
    with store.begin() as uow:
        found = people.authenticate(uow, stronger, ida.username, PASSWORD, clock.now())
    assert found is not None and found.password_hash != ida.password_hash
    assert "m=2048,t=2,p=1" in found.password_hash and stronger.verify(found.password_hash, PASSWORD)
    assert replace(found, password_hash=ida.password_hash) == ida, "nothing else changes"
    with store.read() as uow:
        assert uow.get_person(ida.username) == found
        event = uow.list_audit(org=VENDOR, entity_kind="person")[0]
    assert event.action == "person.password.rehash" and event.actor_client_id == "operator:login"
    assert "password_hash" not in (event.after or {})
    with store.begin() as uow:
        again = people.authenticate(uow, stronger, ida.username, PASSWORD, clock.now())
    assert again == found, "a current hash is kept"


def test_a_rehash_does_not_undo_a_password_change(store: MemoryStore, clock: FixedClock,
                                                  hasher: Argon2PasswordHasher, ida: Person) -> None:
    with store.begin() as uow:
        changed = people.set_password(uow, hasher, ida.username, "changed meanwhile", OP, clock.now())
        kept = people.store_rehash(uow, ida, hasher.hash(PASSWORD), clock.now())
    assert kept == changed
    with store.read() as uow:
        stored = uow.get_person(ida.username)
    assert stored is not None and hasher.verify(stored.password_hash, "changed meanwhile")
