"""Engines for SQLite (WAL, several processes) and PostgreSQL (psycopg 3, in `.pg`: a SQLite store never loads
it), from one URL."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from portvakt.domain.errors import StoreUnavailable

BUSY_TIMEOUT_SECONDS = 2.0  # default wait for a busy database (settings: limits.store_busy_seconds)
FILE_MODE = 0o600  # the database file and, as SQLite copies the main file's mode, its -wal and -shm
DIR_MODE = 0o700
PG_LOCK_TIMEOUT = "15s"  # an engine made without ConnectionLimits (migrations, tools): as before
READ_ONLY = "portvakt_read_only"  # execution option: a deferred, query-only SQLite transaction
#: The client's own bound is the statement timeout plus this: the server's cancel normally comes first and leaves the
#: connection usable; the client's bound ends what the server can't (a hung server, a black-holed link).
DEADLINE_MARGIN = 0.5


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """Bounds on every wait of a PostgreSQL connection, and the size of an engine's pool (docs/security.md, Store
    outage). `statement_timeout` and `pool_timeout` None: the busy timeout the engine is made with."""

    connect_timeout: float = 2.0
    statement_timeout: float | None = None
    tcp_user_timeout: float = 5.0
    keepalives_idle: int = 5
    keepalives_interval: int = 2
    keepalives_count: int = 3
    pool_size: int = 5
    max_overflow: int = 10
    pool_timeout: float | None = None

    def statement_seconds(self, busy_timeout: float) -> float:
        """The statement timeout in seconds: its own, else the busy timeout."""
        return self.statement_timeout if self.statement_timeout is not None else busy_timeout

    def deadline(self, busy_timeout: float) -> float:
        """How long the client waits for any one answer of the server before it gives the connection up."""
        return self.statement_seconds(busy_timeout) + DEADLINE_MARGIN


def pg_connect_params(limits: ConnectionLimits, busy_timeout: float, given: dict[str, str]) -> dict[str, str]:
    """libpq parameters that bound a PostgreSQL connection: the connect timeout, TCP keepalives and
    tcp_user_timeout (a black-holed link is noticed), and the statement and lock timeouts (`-c` options; the
    lock timeout is the busy timeout). `given` are the URL's own parameters: they win, and its `options` come after
    ours (PostgreSQL takes the last of a repeated -c)."""
    ours = {
        "connect_timeout": str(max(1, math.ceil(limits.connect_timeout))),  # libpq: whole seconds, at least 2
        "keepalives": "1",
        "keepalives_idle": str(limits.keepalives_idle),
        "keepalives_interval": str(limits.keepalives_interval),
        "keepalives_count": str(limits.keepalives_count),
        "tcp_user_timeout": str(_ms(limits.tcp_user_timeout)),
    }
    options = (f"-c statement_timeout={_ms(limits.statement_seconds(busy_timeout))} "
               f"-c lock_timeout={_ms(busy_timeout)}")
    if given.get("options"):
        options = f"{options} {given['options']}"
    return {**ours, **given, "options": options}


def _ms(seconds: float) -> int:
    """Whole milliseconds, at least one (0 would mean "no timeout" to PostgreSQL)."""
    return max(1, math.ceil(seconds * 1000))


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


def make_engine(url: str | URL, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS,
                limits: ConnectionLimits | None = None) -> Engine:
    """An engine for the URL, with the SQLite pragmas and transaction mode portvakt relies on; no wait for a
    pooled connection or a busy SQLite database lasts longer than `busy_timeout` seconds. On PostgreSQL with
    `limits` (a serving process), every connect, statement, lock wait and answer is bounded too (pg_connect_params,
    BoundedConnection); without them (migrations, tools) only the lock wait, as before."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "postgresql":
        if limits is None:
            # A unit of work waits at most this long for the store lock (a nested begin() fails, not hangs).
            lock_timeout = {} if "options" in parsed.query else {"options": f"-c lock_timeout={PG_LOCK_TIMEOUT}"}
            return sa.create_engine(parsed, pool_pre_ping=True, pool_timeout=busy_timeout,
                                    connect_args=lock_timeout)
        from .pg import bounded_engine

        return bounded_engine(parsed, busy_timeout, limits)
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
    if not path.exists():
        # Create it only when missing. Opening and closing a database file that this process already has open
        # in SQLite would drop all of the process's POSIX locks on it (fcntl semantics), so another process
        # could take the file for unused and delete the WAL under its readers ("database disk image is
        # malformed"; https://www.sqlite.org/howtocorrupt.html §2.2).
        with suppress(FileExistsError):
            os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
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
