"""The SQL Store: SQLite by default, PostgreSQL in production (same behaviour as the memory store)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection

from portvakt.domain.blocking import may_block
from portvakt.domain.models import Change

from .engine import BUSY_TIMEOUT_SECONDS, READ_ONLY, ConnectionLimits, make_engine, unavailable_on_driver_error
from .migrate import upgrade
from .notify import ChangeListener, notify_on_commit
from .schema import changes
from .uow import SqlUnitOfWork

if TYPE_CHECKING:
    import psycopg

# Units of work run one at a time, as on the memory store and SQLite (BEGIN IMMEDIATE): no lost updates
# from read-modify-write, and change-feed sequence numbers become visible in order.
STORE_LOCK = 0x706F7274  # "port"
#: libpq settings of the change listener's connection (decision S12): a dead server or network is noticed within
#: about 25 s even when nothing is sent; the URL's own values win.
LISTENER_CONNECTION = {"application_name": "portvakt-listener", "connect_timeout": 5, "keepalives": 1,
                       "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
                       "tcp_user_timeout": 25_000}


class SqlStore:
    """A transactional Store over SQLAlchemy; `migrate=True` brings the schema to head first. A database that
    stays busy or unreachable for `busy_timeout` seconds raises StoreUnavailable (docs/security.md, Store outage)."""

    def __init__(self, url: str | URL, *, migrate: bool = False, busy_timeout: float = BUSY_TIMEOUT_SECONDS,
                 limits: ConnectionLimits | None = None) -> None:
        if migrate:
            upgrade(url)
        self.engine = make_engine(url, busy_timeout=busy_timeout, limits=limits)
        self._read_options: dict[str, Any] = (
            {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
            if self.engine.dialect.name == "postgresql" else {READ_ONLY: True})

    @contextmanager
    def begin(self) -> Iterator[SqlUnitOfWork]:
        """One transaction: commit when the block ends normally, roll back on an exception."""
        may_block()
        with unavailable_on_driver_error(), self.engine.begin() as conn:
            postgres = conn.dialect.name == "postgresql"
            if postgres:
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(STORE_LOCK)))
            uow = SqlUnitOfWork(conn)
            yield uow
            if postgres and uow.changed:
                notify_on_commit(conn)

    @contextmanager
    def read(self) -> Iterator[SqlUnitOfWork]:
        """A read-only snapshot without the store lock: runs beside begin() and other reads; writes raise."""
        with self._read() as conn:
            yield SqlUnitOfWork(conn, read_only=True)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A connection whose transaction is read-only: deferred on SQLite, REPEATABLE READ, READ ONLY on
        PostgreSQL (one snapshot for the whole unit of work); it is rolled back when the block ends."""
        may_block()
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

    def change_listener(self, **options: Any) -> ChangeListener | None:
        """On PostgreSQL, a listener for the changes committed through any node, on a connection of its own
        (decision S12; `options` go to ChangeListener); None on SQLite, where the poll alone reads the feed."""
        if self.engine.dialect.name != "postgresql":
            return None
        _args, params = self.engine.dialect.create_connect_args(self.engine.url)
        params = {**LISTENER_CONNECTION, **params, "autocommit": True}

        def connect() -> psycopg.Connection[Any]:
            """A new autocommit connection to the store's database."""
            import psycopg

            return psycopg.connect(**params)

        return ChangeListener(connect, **options)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
