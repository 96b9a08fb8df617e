"""bootstrap_altinn: the `altinn` prefix, its PRIVATE maskinporten scopes and the delegation source."""

from __future__ import annotations

import pytest

from portvakt.domain.bootstrap import ALTINN_SCOPES, bootstrap_altinn, ensure_delegation_source
from portvakt.domain.clock import FixedClock
from portvakt.domain.delegations import DELEGATIONS_ADMIN, DELEGATIONS_LOOKUP, DELEGATIONS_WRITE, SCHEMES_WRITE
from portvakt.domain.errors import Invalid
from portvakt.domain.models import Visibility
from portvakt.domain.policy import PORTAL
from portvakt.domain.systemregister import (
    AUTHORIZE,
    REQUEST_READ,
    REQUEST_WRITE,
    SYSTEMREGISTER_ADMIN,
    SYSTEMREGISTER_WRITE,
    SYSTEMUSER_LOOKUP,
)
from portvakt.storage.memory import MemoryStore
from tests.conftest import OPERATOR

SYSTEM_USER_SCOPES = {SYSTEMREGISTER_WRITE, SYSTEMREGISTER_ADMIN, REQUEST_WRITE, REQUEST_READ, SYSTEMUSER_LOOKUP,
                      AUTHORIZE}


def test_creates_prefix_scopes_and_source_once(store: MemoryStore, clock: FixedClock) -> None:
    with store.begin() as uow:
        assert bootstrap_altinn(uow, OPERATOR, clock.now(), source_issuer="https://altinn.test/")
        assert not bootstrap_altinn(uow, OPERATOR, clock.now(), source_issuer="https://altinn.test/")
    assert set(ALTINN_SCOPES) == {SCHEMES_WRITE, DELEGATIONS_WRITE, DELEGATIONS_ADMIN, DELEGATIONS_LOOKUP, PORTAL,
                                  *SYSTEM_USER_SCOPES}
    with store.read() as uow:
        assert uow.get_prefix_owner("altinn") == OPERATOR
        for name in ALTINN_SCOPES:
            scope = uow.get_scope(name)
            assert scope is not None and scope.owner_orgno == OPERATOR
            assert scope.visibility is Visibility.PRIVATE and scope.allowed_integration_types == ("maskinporten",)
        source = uow.get_delegation_source("altinn")
    assert source is not None and source.issuer == "https://altinn.test/"


def test_source_is_updated_and_checked(store: MemoryStore, clock: FixedClock) -> None:
    with store.begin() as uow:
        assert ensure_delegation_source(uow, "altinn", "https://tt02.altinn.no/", clock.now())
        assert ensure_delegation_source(uow, "altinn", "https://www.altinn.no", clock.now())
        assert [s.issuer for s in uow.list_delegation_sources()] == ["https://www.altinn.no"]
        with pytest.raises(Invalid):
            ensure_delegation_source(uow, "altinn", "ftp://x", clock.now())
        with pytest.raises(Invalid):
            ensure_delegation_source(uow, " ", "https://x", clock.now())
