"""The replay cache on the database: one `INSERT ... ON CONFLICT` per grant on a dedicated raw connection."""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import URL, Engine

from portvakt.domain.ports import Clock

from .engine import SQLITE_BUSY_TIMEOUT_MS, normalise_url

# One statement decides: a new key inserts; a key whose stored entry has expired is taken over; else no row.
_INSERT = ("INSERT INTO used_grants (key, expires) VALUES ({p}, {p}) ON CONFLICT (key) DO UPDATE "
           "SET expires = excluded.expires WHERE used_grants.expires <= {now}")
_PURGE = "DELETE FROM used_grants WHERE expires <= {p}"


def _utc(value: datetime) -> datetime:
    """The same instant in UTC (fast when it already is); naive datetimes are refused."""
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the replay cache; use aware UTC")
    return value.astimezone(UTC)


class _Sqlite:
    """A raw sqlite3 connection in autocommit mode (each insert is its own WAL transaction)."""

    placeholder = "?"
    now_sql = "strftime('%Y-%m-%d %H:%M:%f', 'now')"  # millisecond text: compares as "not yet expired"

    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._last: tuple[datetime | None, str] = (None, "")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def execute(self, sql: str, params: tuple[Any, ...]) -> int:
        """Run one statement (sqlite3 caches it prepared) and return its rowcount."""
        if self._conn is None:
            self._conn = self._connect()
        return self._conn.execute(sql, params).rowcount

    def timestamp(self, value: datetime) -> str:
        """The text form SQLAlchemy uses for DateTime on SQLite (naive UTC, microseconds), memoised once:
        grants signed in the same second usually share their `exp`."""
        last = self._last
        if last[0] == value:
            return last[1]
        text = _utc(value).isoformat(" ", "microseconds")[:26]
        self._last = (value, text)
        return text

    def close(self) -> None:
        """Close the connection (the next statement reopens it)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def forget(self) -> None:
        """After a fork: drop the inherited connection without closing it under the parent's feet."""
        self._conn = None


class _Postgres:
    """A raw psycopg connection in autocommit mode with server-side prepared statements; reconnects once."""

    placeholder = "%s"
    now_sql = "now()"

    def __init__(self, url: URL) -> None:
        query = {k: v if isinstance(v, str) else v[-1] for k, v in url.query.items()}
        query.setdefault("connect_timeout", "5")
        self._conninfo = make_conninfo(host=url.host, port=url.port, user=url.username,
                                       password=url.password, dbname=url.database, **query)
        self._conn: psycopg.Connection[Any] | None = None

    def _execute(self, sql: str, params: tuple[Any, ...]) -> int:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._conninfo, autocommit=True, prepare_threshold=0)
        return self._conn.execute(sql, params, prepare=True).rowcount

    def execute(self, sql: str, params: tuple[Any, ...]) -> int:
        """Run one statement; if the connection dropped, reconnect and retry once (fails closed)."""
        try:
            return self._execute(sql, params)
        except (psycopg.OperationalError, psycopg.InterfaceError):
            self.close()
            return self._execute(sql, params)

    def timestamp(self, value: datetime) -> datetime:
        """psycopg adapts aware datetimes to timestamptz itself."""
        return _utc(value)

    def close(self) -> None:
        """Close the connection (the next statement reopens it)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def forget(self) -> None:
        """After a fork: drop the inherited connection without closing it under the parent's feet."""
        self._conn = None


def _backend(url: URL) -> _Sqlite | _Postgres:
    if url.get_backend_name() == "postgresql":
        return _Postgres(url)
    if not url.database or url.database == ":memory:":
        raise ValueError("the SQLite replay cache needs a database file shared by all workers")
    return _Sqlite(url.database)


class SqlReplayCache:
    """Single-use grants in the `used_grants` table, shared by every process on the database.

    Whether a stored entry has expired is judged by `clock` when given (tests with a fixed clock),
    else by the database's own wall clock, which keeps the hot path to one formatted timestamp.
    """

    def __init__(self, engine_or_url: Engine | URL | str, *, clock: Clock | None = None) -> None:
        url = normalise_url(engine_or_url.url if isinstance(engine_or_url, Engine) else engine_or_url)
        self._backend = _backend(url)
        p = self._backend.placeholder
        self._insert = _INSERT.format(p=p, now=p if clock is not None else self._backend.now_sql)
        self._purge = _PURGE.format(p=p)
        self._clock = clock
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def _run(self, sql: str, params: tuple[Any, ...]) -> int:
        with self._lock:
            if self._pid != os.getpid():  # forked: never share the parent's connection
                self._backend.forget()
                self._pid = os.getpid()
            return self._backend.execute(sql, params)

    def first_use(self, key: bytes, expires: datetime) -> bool:
        """Record the key; True when it was not seen before (or had expired), False on a replay."""
        ts = self._backend.timestamp
        if self._clock is None:
            return self._run(self._insert, (key, ts(expires))) == 1
        return self._run(self._insert, (key, ts(expires), ts(self._clock.now()))) == 1

    def purge(self, now: datetime) -> int:
        """Forget keys that expired at or before `now`; returns how many."""
        return self._run(self._purge, (self._backend.timestamp(now),))

    def close(self) -> None:
        """Close the dedicated connection."""
        with self._lock:
            self._backend.close()

