"""The in-memory reference store: copy-on-begin, swap-on-commit writes under one lock; lock-free reads."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from portvakt.domain.models import Change
from portvakt.storage.composed import ComposedUnitOfWork

from .altinn_keys import MemoryAltinnKeys
from .audit import MemoryAuditLog
from .clients import MemoryClients
from .delegations import MemoryDelegations
from .orgs import MemoryOrganisations
from .people import MemoryPeople
from .scopes import MemoryScopes
from .signing_keys import MemorySigningKeys
from .state import MemoryState, MemoryTransaction
from .systemusers import MemorySystemRegister


class MemoryUnitOfWork(ComposedUnitOfWork):
    """The memory repositories over one transaction: a private copy of the state, or (read_only) the committed one."""

    def __init__(self, state: MemoryState, next_seq: int, *, read_only: bool = False) -> None:
        tx = MemoryTransaction(state, next_seq, read_only=read_only)
        super().__init__(orgs=MemoryOrganisations(tx), clients=MemoryClients(tx), scopes=MemoryScopes(tx),
                         delegations=MemoryDelegations(tx), system_register=MemorySystemRegister(tx),
                         people=MemoryPeople(tx), signing_keys=MemorySigningKeys(tx),
                         altinn_keys=MemoryAltinnKeys(tx), audit=MemoryAuditLog(tx))
        self.tx = tx


class MemoryStore:
    """The reference Store: what the SQL stores must behave like (tests/storage runs on all)."""

    def __init__(self) -> None:
        self._state = MemoryState()
        self._lock = threading.RLock()

    @contextmanager
    def begin(self) -> Iterator[MemoryUnitOfWork]:
        """Work on a copy; swap it in on success. A finished unit of work accepts no more writes."""
        with self._lock:
            uow = MemoryUnitOfWork(self._state.copy(), self.last_change_seq() + 1)
            try:
                yield uow
                self._state = uow.tx.state
            finally:
                uow.tx.read_only = True

    @contextmanager
    def read(self) -> Iterator[MemoryUnitOfWork]:
        """The committed state as it is now: never written in place (commits swap it), so no lock or copy."""
        yield MemoryUnitOfWork(self._state, 0, read_only=True)

    def changes_since(self, seq: int) -> Sequence[Change]:
        """Change-feed entries with a sequence number above `seq`, oldest first (decision S2)."""
        return [c for c in self._state.changes if c.seq > seq]

    def last_change_seq(self) -> int:
        """The newest change-feed sequence number (0 when the feed is empty)."""
        changes = self._state.changes
        return changes[-1].seq if changes else 0

    def prune_changes(self, before: datetime) -> int:
        """Nothing to prune: the feed lives as long as the process."""
        return 0

    def close(self) -> None:
        """Nothing to close."""
        return None
