"""The transaction every SQL repository of one unit of work shares: its connection, mode and upsert."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection


class SqlTransaction:
    """One connection inside one transaction (decision S3); read_only: writes raise before they reach it."""

    def __init__(self, conn: Connection, *, read_only: bool = False) -> None:
        self.conn = conn
        self.read_only = read_only
        self._postgres = conn.dialect.name == "postgresql"

    def upsert(self, table: sa.Table, values: dict[str, Any]) -> None:
        """Insert the row or overwrite every non-key column of the existing one."""
        keys = [c.name for c in table.primary_key.columns]
        stmt = _insert(self._postgres)(table).values(values)
        update = {name: stmt.excluded[name] for name in values if name not in keys}
        self.conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=update))


def _insert(postgres: bool) -> Any:
    """The dialect's INSERT that has ON CONFLICT DO UPDATE; a dialect's module loads on its first upsert."""
    if postgres:
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


class SqlRepository:
    """A repository of one concern over the unit of work's shared transaction (decisions S6, S7)."""

    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx
        self._conn = tx.conn

    @property
    def read_only(self) -> bool:
        """True on a unit of work from Store.read(): every write raises ReadOnlyError."""
        return self._tx.read_only
