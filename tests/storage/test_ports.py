"""The unit of work is the sum of the per-concern repositories, and both stores compose exactly that
(decisions S6, S7)."""

from __future__ import annotations

import pytest

from portvakt.domain.ports import (
    AltinnKeyRepository,
    AuditLog,
    ClientRepository,
    DelegationRepository,
    OrganisationRepository,
    PeopleRepository,
    ScopeRepository,
    SigningKeyRepository,
    SystemRegisterRepository,
    TokenReads,
    UnitOfWork,
)
from portvakt.domain.ports import Store as StorePort

CONCERNS = [OrganisationRepository, ClientRepository, ScopeRepository, DelegationRepository, SystemRegisterRepository,
            PeopleRepository, SigningKeyRepository, AltinnKeyRepository, AuditLog]


def _methods(port: type) -> set[str]:
    return {name for name in dir(port) if not name.startswith("_") and callable(getattr(port, name))}


def test_every_method_of_the_unit_of_work_belongs_to_exactly_one_concern() -> None:
    owners = [name for concern in CONCERNS for name in _methods(concern)]
    assert sorted(owners) == sorted(set(owners))
    assert set(owners) == _methods(UnitOfWork)


def test_the_token_path_reads_only_what_it_needs() -> None:
    assert _methods(TokenReads) == {"get_client", "get_scope", "get_access", "has_delegation", "find_system_user",
                                    "list_signing_keys"}
    assert _methods(TokenReads) < _methods(UnitOfWork)


@pytest.mark.parametrize("opening", ["begin", "read"])
def test_a_unit_of_work_offers_every_method_of_the_port(store: StorePort, opening: str) -> None:
    with getattr(store, opening)() as uow:
        assert {name for name in _methods(UnitOfWork) if callable(getattr(uow, name, None))} == _methods(UnitOfWork)


def test_each_concern_is_one_repository_object_of_the_unit_of_work(store: StorePort) -> None:
    with store.read() as uow:
        owners = [{id(getattr(uow, name).__self__) for name in _methods(concern)} for concern in CONCERNS]
    assert all(len(owner) == 1 for owner in owners)
    assert len(set.union(*owners)) == len(CONCERNS)
