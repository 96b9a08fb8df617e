"""One SQL transaction implementing the UnitOfWork port (SQLite and PostgreSQL), composed of the per-concern
repositories in storage/sql/repositories/ (decisions S6, S7)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from portvakt.storage.composed import ComposedUnitOfWork

from .repositories import (
    SqlAuditLog,
    SqlClients,
    SqlDelegations,
    SqlOrganisations,
    SqlPeople,
    SqlScopes,
    SqlSigningKeys,
    SqlTransaction,
)
from .repositories.altinn_keys import SqlAltinnKeys
from .repositories.systemusers import SqlSystemRegister


class SqlUnitOfWork(ComposedUnitOfWork):
    """The domain's repositories over one connection inside one transaction (read_only: writes raise first)."""

    def __init__(self, conn: Connection, *, read_only: bool = False) -> None:
        tx = SqlTransaction(conn, read_only=read_only)
        self._audit = SqlAuditLog(tx)
        super().__init__(orgs=SqlOrganisations(tx), clients=SqlClients(tx), scopes=SqlScopes(tx),
                         delegations=SqlDelegations(tx), system_register=SqlSystemRegister(tx),
                         people=SqlPeople(tx), signing_keys=SqlSigningKeys(tx), altinn_keys=SqlAltinnKeys(tx),
                         audit=self._audit)
        self.tx = tx

    @property
    def changed(self) -> bool:
        """True once this unit of work has written a change-feed row (the store then announces it, decision S12)."""
        return self._audit.changed
