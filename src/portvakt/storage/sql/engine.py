"""Engines for SQLite (WAL, several processes) and PostgreSQL (psycopg 3), from one URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from portvakt.domain.errors import StoreUnavailable

BUSY_TIMEOUT_SECONDS = 2.0  # default wait for a busy database (settings: limits.store_busy_seconds)
FILE_MODE = 0o600  # the database file and, as SQLite copies the main file's mode, its -wal and -shm
DIR_MODE = 0o700
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


def make_engine(url: str | URL, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> Engine:
    """An engine for the URL, with the SQLite pragmas and transaction mode portvakt relies on; no wait for a
    pooled connection or a busy SQLite database lasts longer than `busy_timeout` seconds."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "postgresql":
        # A unit of work waits at most this long for the store lock (a nested begin() fails, not hangs).
        lock_timeout = {} if "options" in parsed.query else {"options": f"-c lock_timeout={PG_LOCK_TIMEOUT}"}
        return sa.create_engine(parsed, pool_pre_ping=True, pool_timeout=busy_timeout, connect_args=lock_timeout)
    pool = {} if _in_memory(parsed.database) else {"pool_timeout": busy_timeout}
    secure_sqlite_file(parsed.database)
    engine = sa.create_engine(parsed, connect_args={"timeout": busy_timeout}, **pool)
    sa.event.listen(engine, "connect", partial(_sqlite_on_connect, busy_ms=int(busy_timeout * 1000)))
    sa.event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def secure_sqlite_file(database: str | None) -> None:
    """Create the SQLite file owner-only before SQLite does, and tighten one made earlier: it holds password
    hashes and mobile numbers (docs/security.md, Data at rest)."""
    if _in_memory(database):
        return
    path = Path(str(database))
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=DIR_MODE)
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT, FILE_MODE))
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with suppress(FileNotFoundError):
            st = each.stat()
            if st.st_mode & 0o077 and st.st_uid == os.getuid():
                each.chmod(FILE_MODE)


def _in_memory(database: str | None) -> bool:
    """An in-memory or URI-named SQLite database: no file of ours to create or guard."""
    return not database or database == ":memory:" or database.startswith("file:")


@contextmanager
def unavailable_on_driver_error() -> Iterator[None]:
    """A locked, busy or unreachable database becomes StoreUnavailable, the one error the edges answer 503 to
    (docs/security.md, Store outage)."""
    try:
        yield
    except (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError) as exc:
        raise StoreUnavailable(f"the database is unavailable: {type(exc).__name__}") from exc
    except sa.exc.DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        raise StoreUnavailable("the database connection was lost") from exc


def _sqlite_on_connect(dbapi_connection: Any, _record: Any, *, busy_ms: int) -> None:
    """WAL for concurrent readers across processes; we emit BEGIN ourselves (see _sqlite_on_begin)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
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
