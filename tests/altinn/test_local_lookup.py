"""LocalDelegationLookup (docs/protocol.md §4.2 step 4): the same database, no cache, fail closed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from portvakt.altinn import LocalDelegationLookup
from portvakt.domain.clock import FixedClock
from portvakt.oauth.delegation import DelegationUnavailable
from portvakt.storage.memory import MemoryStore
from tests.altinn.conftest import DELEGABLE, new_scheme
from tests.altinn.test_delegations import give
from tests.conftest import CONSUMER, OTHER, VENDOR


def test_delegate_then_revoke_takes_effect_at_once(store: MemoryStore, clock: FixedClock) -> None:
    from portvakt.domain.audit import Actor
    from portvakt.domain.delegations import revoke_delegation

    lookup = LocalDelegationLookup(store)
    assert not lookup.has_delegation(CONSUMER, VENDOR, DELEGABLE)
    made, _ = give(store, clock, new_scheme(store, clock).scheme_id)
    assert lookup.has_delegation(CONSUMER, VENDOR, DELEGABLE)
    assert not lookup.has_delegation(CONSUMER, OTHER, DELEGABLE)
    assert not lookup.has_delegation(VENDOR, CONSUMER, DELEGABLE)
    assert not lookup.has_delegation(CONSUMER, VENDOR, "brreg:test/read")
    with store.begin() as uow:
        revoke_delegation(uow, made.delegation_id, CONSUMER, Actor(CONSUMER, "c"), clock.now())
    assert not lookup.has_delegation(CONSUMER, VENDOR, DELEGABLE)


class BrokenStore:
    """A store whose database is down."""

    def read(self) -> AbstractContextManager[Any]:
        @contextmanager
        def failing() -> Iterator[Any]:
            raise ConnectionError("database at db.internal:5432 refused password=hunter2")
            yield  # pragma: no cover

        return failing()


def test_a_store_failure_fails_closed(caplog: pytest.LogCaptureFixture) -> None:
    lookup = LocalDelegationLookup(BrokenStore())  # type: ignore[arg-type]
    with pytest.raises(DelegationUnavailable) as caught:
        lookup.has_delegation(CONSUMER, VENDOR, DELEGABLE)
    assert "hunter2" not in str(caught.value) and "hunter2" not in caplog.text
