"""The SQL Store: SQLite by default, PostgreSQL in production (same behaviour as the memory store)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection

from portvakt.domain.models import Change

from .engine import BUSY_TIMEOUT_SECONDS, READ_ONLY, make_engine, unavailable_on_driver_error
from .migrate import upgrade
from .schema import changes
from .uow import SqlUnitOfWork

# Units of work run one at a time, as on the memory store and SQLite (BEGIN IMMEDIATE): no lost updates
# from read-modify-write, and change-feed sequence numbers become visible in order.
STORE_LOCK = 0x706F7274  # "port"


class SqlStore:
    """A transactional Store over SQLAlchemy; `migrate=True` brings the schema to head first. A database that
    stays busy or unreachable for `busy_timeout` seconds raises StoreUnavailable (docs/security.md, Store outage)."""

    def __init__(self, url: str | URL, *, migrate: bool = False, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> None:
        if migrate:
            upgrade(url)
        self.engine = make_engine(url, busy_timeout=busy_timeout)
        self._read_options: dict[str, Any] = (
            {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
            if self.engine.dialect.name == "postgresql" else {READ_ONLY: True})

    @contextmanager
    def begin(self) -> Iterator[SqlUnitOfWork]:
        """One transaction: commit when the block ends normally, roll back on an exception."""
        with unavailable_on_driver_error(), self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(STORE_LOCK)))
            yield SqlUnitOfWork(conn)

    @contextmanager
    def read(self) -> Iterator[SqlUnitOfWork]:
        """A read-only snapshot without the store lock: runs beside begin() and other reads; writes raise."""
        with self._read() as conn:
            yield SqlUnitOfWork(conn, read_only=True)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A connection whose transaction is read-only: deferred on SQLite, REPEATABLE READ, READ ONLY on
        PostgreSQL (one snapshot for the whole unit of work); it is rolled back when the block ends."""
        with unavailable_on_driver_error(), self.engine.connect() as conn:
            yield conn.execution_options(**self._read_options)

    def changes_since(self, seq: int) -> Sequence[Change]:
        """Change-feed entries with a sequence number above `seq`, oldest first."""
        query = sa.select(changes.c.seq, changes.c.kind, changes.c.key).where(changes.c.seq > seq)
        with self._read() as conn:
            return [Change(r.seq, r.kind, r.key) for r in conn.execute(query.order_by(changes.c.seq))]

    def last_change_seq(self) -> int:
        """The newest change-feed sequence number (0 when the feed is empty)."""
        with self._read() as conn:
            return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(changes.c.seq), 0))).scalar_one())

    def prune_changes(self, before: datetime) -> int:
        """Delete feed entries recorded before `before`, always keeping the newest (last_change_seq holds)."""
        newest = sa.select(sa.func.max(changes.c.seq)).scalar_subquery()
        stmt = sa.delete(changes).where(changes.c.at < before, changes.c.seq < newest)
        with unavailable_on_driver_error(), self.engine.begin() as conn:
            return conn.execute(stmt).rowcount

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
