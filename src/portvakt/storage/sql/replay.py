"""The replay cache on the database: one `INSERT ... ON CONFLICT` per grant on a dedicated raw connection, every
wait of it bounded (docs/security.md, Store outage)."""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.engine import URL, Engine

from portvakt.domain.blocking import may_block
from portvakt.domain.errors import StoreUnavailable
from portvakt.domain.ports import ClaimOutcome, Clock, ReplayClaim

from .engine import (
    BUSY_TIMEOUT_SECONDS,
    DEADLINE_MARGIN,
    ConnectionLimits,
    normalise_url,
    pg_connect_params,
    secure_sqlite_file,
)

if TYPE_CHECKING:
    from .pg import BoundedConnection

# One statement decides: a new key inserts; a key whose stored entry has expired is taken over; else no row.
# `expires` is whole epoch seconds: an entry has expired once it is <= now.
_INSERT = ("INSERT INTO used_grants (key, expires) VALUES ({p}, {p}) ON CONFLICT (key) DO UPDATE "
           "SET expires = excluded.expires WHERE used_grants.expires <= {now}")
# Many grants in one statement: the rows it inserted or took over come back; every other key is a replay.
_RETURNING = " RETURNING key"
_MAX_BATCH = 256
# On SQLite, purge walks the primary key in slices (keys are uniform hashes) so that the write lock is held
# for one slice at a time and first_use never waits for a whole purge; PostgreSQL deletes in one statement.
_PURGE_ALL = "DELETE FROM used_grants WHERE expires <= {p}"
_PURGE_SLICE = "DELETE FROM used_grants WHERE key >= {p} AND key < {p} AND expires <= {p}"
_PURGE_LAST = "DELETE FROM used_grants WHERE key >= {p} AND expires <= {p}"
# PostgreSQL purges in batches, each one short statement under the statement timeout: a purge that fell behind
# catches up a batch at a time, and first_use gets its turn between them.
_PURGE_BATCH = "DELETE FROM used_grants WHERE key IN (SELECT key FROM used_grants WHERE expires <= {p} LIMIT {n})"
PG_PURGE_BATCH = 5000
T = TypeVar("T")
_SLACK = 0.01  # a wait for the lock shorter than this leaves the busy timeout as it is (no extra PRAGMA)


def expiry_seconds(value: datetime) -> int:
    """Epoch seconds of an expiry, rounded up (a key is never forgotten early); naive datetimes are refused."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the replay cache; use aware UTC")
    exact = value.timestamp()
    seconds = int(exact)
    return seconds if seconds == exact else seconds + 1


def now_seconds(value: datetime) -> int:
    """Epoch seconds of a moment, rounded down (an entry never counts as expired early)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the replay cache; use aware UTC")
    return int(value.timestamp())


class _Sqlite:
    """A raw sqlite3 connection in autocommit mode (each insert is its own WAL transaction)."""

    placeholder = "?"
    now_sql = "CAST(strftime('%s', 'now') AS INTEGER)"  # whole seconds, rounded down
    purge_slices = 16
    purge_batch: int | None = None  # each slice's DELETE takes all of its expired keys at once

    def __init__(self, path: str, busy_timeout: float) -> None:
        self._path = path
        self._busy_ms = self._set_ms = max(1, int(busy_timeout * 1000))
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        secure_sqlite_file(self._path)
        conn = sqlite3.connect(self._path, timeout=self._busy_ms / 1000, isolation_level=None,
                               check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        self._set_ms = self._busy_ms
        return conn

    def _cursor(self, sql: str, params: tuple[Any, ...], left: float | None) -> sqlite3.Cursor:
        """Run one statement (sqlite3 caches it prepared); wait for a busy database only `left` seconds when given
        (what remains of the caller's budget)."""
        try:
            conn = self._conn
            if conn is None:
                conn = self._conn = self._connect()
            want = self._busy_ms if left is None else max(1, min(self._busy_ms, int(left * 1000)))
            if want != self._set_ms:
                conn.execute(f"PRAGMA busy_timeout = {want}")
                self._set_ms = want
            return conn.execute(sql, params)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"the replay store is unavailable: {exc}") from exc

    def execute(self, sql: str, params: tuple[Any, ...], left: float | None = None) -> int:
        """Run one statement and return its rowcount."""
        return self._cursor(sql, params, left).rowcount

    def returning(self, sql: str, params: tuple[Any, ...], left: float | None = None) -> list[bytes]:
        """Run one statement and return the first column of its rows."""
        cursor = self._cursor(sql, params, left)
        try:
            return _first_column(cursor)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"the replay store is unavailable: {exc}") from exc

    @staticmethod
    def claim_sql(insert: str, count: int) -> tuple[str, bool]:
        """The statement that inserts `count` rows and returns the keys it took; True: its parameters are the rows'
        values one after the other (False: two arrays)."""
        rows = ", ".join(["(?, ?)"] * count)
        return insert.replace("VALUES (?, ?)", "VALUES " + rows, 1) + _RETURNING, True

    def close(self) -> None:
        """Close the connection (the next statement reopens it)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def forget(self) -> None:
        """After a fork: drop the inherited connection without closing it under the parent's feet."""
        self._conn = None


class _Postgres:
    """A raw psycopg connection in autocommit mode with server-side prepared statements, bounded as the engine's
    (engine.pg_connect_params, pg.BoundedConnection); reconnects once when the connection dropped. psycopg is
    imported here, not with the module: a SQLite store loads none of it."""

    placeholder = "%s"
    now_sql = "EXTRACT(EPOCH FROM now())"  # numeric: compared exactly with the integer column
    purge_slices = 1  # MVCC: a long DELETE blocks no insert
    purge_batch: int | None = PG_PURGE_BATCH

    def __init__(self, url: URL, busy_timeout: float, limits: ConnectionLimits) -> None:
        from psycopg.conninfo import make_conninfo

        query = {k: v if isinstance(v, str) else v[-1] for k, v in url.query.items()}
        self._conninfo = make_conninfo(host=url.host, port=url.port, user=url.username, password=url.password,
                                       dbname=url.database, **pg_connect_params(limits, busy_timeout, query))
        self._deadline = limits.deadline(busy_timeout)
        self._conn: BoundedConnection | None = None

    def _execute(self, sql: str, params: tuple[Any, ...], deadline: float, read: Callable[[Any], T]) -> T:
        conn = self._conn
        if conn is None or conn.closed:
            from .pg import BoundedConnection

            conn = self._conn = BoundedConnection.connect(self._conninfo, autocommit=True, prepare_threshold=0)
        conn.deadline = deadline
        return read(conn.execute(sql, params, prepare=True))

    def _run(self, sql: str, params: tuple[Any, ...], left: float | None, read: Callable[[Any], T]) -> T:
        """Run one statement, waiting for its answer at most the deadline, or `left` (what remains of the caller's
        budget) and the margin; if the connection dropped, reconnect and retry once (fails closed). A server that
        did not answer in time is not asked again: the caller has waited its share."""
        import psycopg

        deadline = self._deadline if left is None else min(self._deadline, max(left, 0.0) + DEADLINE_MARGIN)
        try:
            try:
                return self._execute(sql, params, deadline, read)
            except psycopg.errors.ConnectionTimeout:
                self.close()
                raise
            except (psycopg.OperationalError, psycopg.InterfaceError):
                self.close()
                return self._execute(sql, params, deadline, read)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise StoreUnavailable(f"the replay store is unavailable: {type(exc).__name__}") from exc

    def execute(self, sql: str, params: tuple[Any, ...], left: float | None = None) -> int:
        """Run one statement and return its rowcount."""
        return self._run(sql, params, left, _rowcount)

    def returning(self, sql: str, params: tuple[Any, ...], left: float | None = None) -> list[bytes]:
        """Run one statement and return the first column of its rows."""
        return self._run(sql, params, left, _first_column)

    @staticmethod
    def claim_sql(insert: str, count: int) -> tuple[str, bool]:
        """The statement that inserts rows from two arrays (keys, expiries) and returns the keys it took: one
        prepared statement for every batch size; False: its parameters are the two arrays."""
        rows = "SELECT k, e FROM unnest(%s::bytea[], %s::bigint[]) AS t(k, e)"
        return insert.replace("VALUES (%s, %s)", rows, 1) + _RETURNING, False

    def close(self) -> None:
        """Close the connection (the next statement reopens it)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def forget(self) -> None:
        """After a fork: drop the inherited connection without closing it under the parent's feet."""
        self._conn = None


def _rowcount(cursor: Any) -> int:
    return int(cursor.rowcount)


def _first_column(cursor: Any) -> list[bytes]:
    return [bytes(row[0]) for row in cursor.fetchall()]


def _backend(url: URL, busy_timeout: float, limits: ConnectionLimits) -> _Sqlite | _Postgres:
    if url.get_backend_name() == "postgresql":
        return _Postgres(url, busy_timeout, limits)
    if not url.database or url.database == ":memory:":
        raise ValueError("the SQLite replay cache needs a database file shared by all workers")
    return _Sqlite(url.database, busy_timeout)


def purge_plan(placeholder: str, slices: int) -> list[tuple[str, tuple[bytes, ...]]]:
    """The DELETE statements of one purge, each with its key bounds: `slices` contiguous key ranges that
    cover every byte string (the first starts at b"", the last is open-ended), or one whole-table DELETE."""
    if slices <= 1:
        return [(_PURGE_ALL.format(p=placeholder), ())]
    lows = [b""] + [bytes([i * 256 // slices]) for i in range(1, slices)]
    bounded = _PURGE_SLICE.format(p=placeholder)
    plan: list[tuple[str, tuple[bytes, ...]]] = [(bounded, pair) for pair in itertools.pairwise(lows)]
    return [*plan, (_PURGE_LAST.format(p=placeholder), (lows[-1],))]


class SqlReplayCache:
    """Single-use grants in the `used_grants` table, shared by every process on the database.

    Expiries are kept in whole epoch seconds, rounded up (the token service passes whole seconds anyway).
    Whether a stored entry has expired is judged by `clock` when given (tests with a fixed clock),
    else by the database's own wall clock. On PostgreSQL the connection is bounded by `limits` (default
    ConnectionLimits()): its connect, statement and lock timeouts, and its client-side deadline.
    """

    def __init__(self, engine_or_url: Engine | URL | str, *, clock: Clock | None = None,
                 busy_timeout: float = BUSY_TIMEOUT_SECONDS, limits: ConnectionLimits | None = None) -> None:
        url = normalise_url(engine_or_url.url if isinstance(engine_or_url, Engine) else engine_or_url)
        self._backend = _backend(url, busy_timeout, limits or ConnectionLimits())
        self._wait = busy_timeout
        p = self._backend.placeholder
        self._insert = _INSERT.format(p=p, now=p if clock is not None else self._backend.now_sql)
        batch = self._backend.purge_batch
        self._purges = ([(_PURGE_BATCH.format(p=p, n=batch), ())] if batch
                        else purge_plan(p, self._backend.purge_slices))
        self._clock = clock
        self._lock = threading.Lock()
        self._last: tuple[datetime | None, int] = (None, 0)
        _caches.add(self)

    def _expiry(self, expires: datetime) -> int:
        """expiry_seconds, memoised once: grants signed in the same second usually share their `exp`."""
        last = self._last
        if last[0] == expires:
            return last[1]
        seconds = expiry_seconds(expires)
        self._last = (expires, seconds)
        return seconds

    def first_use(self, key: bytes, expires: datetime, issued_at: datetime | None = None) -> bool:
        """Record the key; True when it was not seen before (or had expired), False on a replay. `issued_at` is not
        needed: the database keeps what it committed (decision S1)."""
        return self._claim_one(key, expires, None)

    def _claim_one(self, key: bytes, expires: datetime, within: float | None) -> bool:
        if self._clock is None:
            params: tuple[Any, ...] = (key, self._expiry(expires))
        else:
            params = (key, self._expiry(expires), now_seconds(self._clock.now()))
        return self._locked(partial(self._backend.execute, self._insert, params), within) == 1

    def first_use_many(self, claims: Sequence[ReplayClaim], within: float | None = None) -> list[ClaimOutcome]:
        """first_use for every claim, in one INSERT per 256 distinct keys that returns the keys it took (one
        round trip and one commit for the lot); a key claimed twice in the batch is a first use once."""
        first: dict[bytes, int] = {}
        for i, claim in enumerate(claims):
            first.setdefault(claim.key, i)
        keys = list(first)
        if len(keys) == 1:  # the common case at low load: the one-row statement, already prepared
            claim = claims[0]
            fresh = self._claim_one(claim.key, claim.expires, within)
            return [fresh and i == 0 for i in range(len(claims))]
        taken: set[bytes] = set()
        for start in range(0, len(keys), _MAX_BATCH):
            chunk = keys[start:start + _MAX_BATCH]
            sql, flat = self._backend.claim_sql(self._insert, len(chunk))
            expiries = [self._expiry(claims[first[k]].expires) for k in chunk]
            params: tuple[Any, ...] = (tuple(itertools.chain.from_iterable(zip(chunk, expiries, strict=True)))
                                       if flat else (chunk, expiries))
            if self._clock is not None:
                params = (*params, now_seconds(self._clock.now()))
            taken.update(self._locked(partial(self._backend.returning, sql, params), within))
        return [first[claim.key] == i and claim.key in taken for i, claim in enumerate(claims)]

    def _run(self, sql: str, params: tuple[Any, ...]) -> int:
        """One statement under the connection's lock, within the busy timeout."""
        return self._locked(lambda left: self._backend.execute(sql, params, left))

    def _locked(self, call: Callable[[float | None], T], within: float | None = None) -> T:
        """`call(left)` under the connection's lock, all of it within the busy timeout (or `within`, when shorter): a
        caller queued behind a statement that waits on a locked database gets only the rest of its budget
        (docs/security.md, Store outage)."""
        may_block()
        budget = self._wait if within is None else min(self._wait, within)
        if budget <= 0:
            raise StoreUnavailable("the replay store is busy")
        start = time.monotonic()
        if not self._lock.acquire(timeout=budget):
            raise StoreUnavailable("the replay store is busy")
        try:
            waited = time.monotonic() - start
            return call(budget - waited if waited > _SLACK or budget < self._wait else None)
        finally:
            self._lock.release()

    def purge(self, now: datetime) -> int:
        """Forget keys that expired at or before `now` (whole seconds); returns how many."""
        cutoff = now_seconds(now)
        removed = 0
        batch = self._backend.purge_batch
        for sql, bounds in self._purges:  # the lock is released between slices: first_use gets its turn
            while True:
                done = self._run(sql, (*bounds, cutoff))
                removed += done
                if batch is None or done < batch:
                    break
        return removed

    def close(self) -> None:
        """Close the dedicated connection."""
        with self._lock:
            self._backend.close()

    def _after_fork(self) -> None:
        """In a forked child: a fresh lock, and never the parent's connection."""
        self._lock = threading.Lock()
        self._backend.forget()


_caches: weakref.WeakSet[SqlReplayCache] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for cache in list(_caches):
        cache._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
