"""Engines for SQLite (WAL, several processes) and PostgreSQL (psycopg 3), from one URL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

SQLITE_BUSY_TIMEOUT_MS = 5000
PG_LOCK_TIMEOUT = "15s"
READ_ONLY = "portvakt_read_only"  # execution option: a deferred, query-only SQLite transaction


def normalise_url(url: str | URL) -> URL:
    """Pick the drivers portvakt uses: pysqlite for `sqlite:`, psycopg 3 for `postgres(ql):`."""
    parsed = sa.make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgres":
        backend = "postgresql"
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite")
    raise ValueError(f"unsupported database backend {backend!r}; use sqlite:/// or postgresql://")


def make_engine(url: str | URL) -> Engine:
    """An engine for the URL, with the SQLite pragmas and transaction mode portvakt relies on."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "postgresql":
        # A unit of work waits at most this long for the store lock (a nested begin() fails, not hangs).
        lock_timeout = {} if "options" in parsed.query else {"options": f"-c lock_timeout={PG_LOCK_TIMEOUT}"}
        return sa.create_engine(parsed, pool_pre_ping=True, connect_args=lock_timeout)
    engine = sa.create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    sa.event.listen(engine, "connect", _sqlite_on_connect)
    sa.event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """WAL for concurrent readers across processes; we emit BEGIN ourselves (see _sqlite_on_begin)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    """Writers take the write lock up front (a read-then-write never fails with SQLITE_BUSY); read-only
    transactions are deferred (shared) and refused any write by the database too (PRAGMA query_only)."""
    read_only = bool(conn.get_execution_options().get(READ_ONLY, False))
    info = conn.connection.info  # lives as long as the DBAPI connection: set the pragma only on a change
    if info.get(READ_ONLY, False) != read_only:
        conn.exec_driver_sql(f"PRAGMA query_only = {int(read_only)}")
        info[READ_ONLY] = read_only
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
