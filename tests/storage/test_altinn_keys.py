"""Contract: the Altinn side's own signing keys (docs/protocol.md §6.7), apart from the token service's."""

from __future__ import annotations

import dataclasses

import pytest

from portvakt.domain.models import SigningKeyState
from portvakt.domain.ports import Store, UnitOfWork

from .builders import at, signing_key
from .conftest import RollbackError, fail_inside


def test_altinn_keys_listed_by_creation_and_replaced(store: Store) -> None:
    newer, older = signing_key("a-2", at(20)), signing_key("a-1", at(10), SigningKeyState.RETIRED)
    with store.begin() as uow:
        assert uow.list_altinn_keys() == []
        uow.put_altinn_key(newer)
        uow.put_altinn_key(older)
    retired = dataclasses.replace(newer, state=SigningKeyState.RETIRED, retired=at(30), delete_after=at(40))
    with store.begin() as uow:
        uow.put_altinn_key(retired)
    with store.read() as uow:
        found = uow.list_altinn_keys()
    assert found == [older, retired]
    assert found[1].encrypted_private_key == newer.encrypted_private_key  # the encrypted bytes as given


def test_delete_altinn_key(store: Store) -> None:
    with store.begin() as uow:
        uow.put_altinn_key(signing_key("a-1", at(1)))
        uow.put_altinn_key(signing_key("a-2", at(2)))
    with store.begin() as uow:
        uow.delete_altinn_key("a-1")
        uow.delete_altinn_key("never")
    with store.read() as uow:
        assert [k.kid for k in uow.list_altinn_keys()] == ["a-2"]


def test_altinn_keys_and_the_token_services_keys_are_kept_apart(store: Store) -> None:
    with store.begin() as uow:
        uow.put_altinn_key(signing_key("same-kid", at(1)))
        uow.put_signing_key(signing_key("same-kid", at(2), SigningKeyState.NEXT))
        uow.put_signing_key(signing_key("token-only", at(3)))
    with store.begin() as uow:
        uow.delete_signing_key("same-kid")
    with store.read() as uow:
        assert uow.list_altinn_keys() == [signing_key("same-kid", at(1))]
        assert [k.kid for k in uow.list_signing_keys()] == ["token-only"]


def test_a_rolled_back_unit_of_work_leaves_the_altinn_keys_as_they_were(store: Store) -> None:
    with store.begin() as uow:
        uow.put_altinn_key(signing_key("a-1", at(1)))

    def work(uow: UnitOfWork) -> None:
        uow.delete_altinn_key("a-1")
        uow.put_altinn_key(signing_key("a-2", at(2)))
        assert [k.kid for k in uow.list_altinn_keys()] == ["a-2"]  # its own writes are seen

    with pytest.raises(RollbackError):
        fail_inside(store, work)
    with store.read() as uow:
        assert uow.list_altinn_keys() == [signing_key("a-1", at(1))]
