"""Measure SqlReplayCache.purge: `python -m tests.storage.measure_purge URL [ROWS [SLICES [index]]]`.

The URL's database is migrated and loaded with ROWS used grants (default 400,000) whose expiries spread
over the last minute and the next 130 s, as at ~2,100 tokens/s with a purge every minute. Prints the purge
time and how many rows it deleted: alone, beside a thread calling first_use (and the slowest such call), and
with nothing to delete (the bare scan). SLICES and `index` (an index on expires) are there to compare.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from portvakt.storage.sql import SqlReplayCache, make_engine, replay, upgrade
from portvakt.storage.sql.schema import used_grants


def load(url: str, rows: int, now: int) -> None:
    """Fill used_grants with random keys expiring evenly over [now - 60, now + 130)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.delete(used_grants))
        batch = 20_000
        for start in range(0, rows, batch):
            values = [{"key": os.urandom(32), "expires": now - 60 + (i * 190) // rows}
                      for i in range(start, min(rows, start + batch))]
            conn.execute(sa.insert(used_grants), values)
    engine.dispose()


def timed_purge(url: str, now: datetime, *, concurrent: bool) -> tuple[float, int, float]:
    """(purge ms, rows deleted, slowest first_use of another thread meanwhile in ms, when `concurrent`)."""
    cache, other = SqlReplayCache(url), SqlReplayCache(url)
    other.first_use(os.urandom(32), now + timedelta(minutes=5))  # connect before timing
    done, slowest = threading.Event(), [0.0]

    def hammer() -> None:
        while not done.is_set():
            started = time.perf_counter()
            other.first_use(os.urandom(32), now + timedelta(minutes=5))
            slowest[0] = max(slowest[0], time.perf_counter() - started)

    thread = threading.Thread(target=hammer)
    if concurrent:
        thread.start()
    started = time.perf_counter()
    removed = cache.purge(now)
    elapsed = time.perf_counter() - started
    done.set()
    if concurrent:
        thread.join()
    cache.close()
    other.close()
    return elapsed * 1000, removed, slowest[0] * 1000


def measure(url: str, rows: int, slices: int | None = None, index: bool = False) -> None:
    """Purge `rows` grants alone, again beside a thread calling first_use, then with nothing to delete."""
    upgrade(url)
    backend = replay._Postgres if url.startswith("postgres") else replay._Sqlite
    if slices is not None:  # a knob for comparisons only
        backend.purge_slices = slices
    slices = backend.purge_slices
    if index:
        _with_engine(url, "CREATE INDEX IF NOT EXISTS ix_used_grants_expires ON used_grants (expires)")
    now = datetime.now(UTC).replace(microsecond=0)
    print(f"{rows} rows, {slices} slice(s), {'with' if index else 'no'} index on expires")
    for label, concurrent in (("purge", False), ("concurrent", True), ("bare scan", False)):
        if label != "bare scan":
            load(url, rows, int(now.timestamp()))
        ms, removed, slowest = timed_purge(url, now, concurrent=concurrent)
        print(f"  {label:10s} {ms:7.1f} ms  deleted {removed:7d}"
              + (f"  slowest concurrent first_use {slowest:6.1f} ms" if concurrent else ""))
    if index:
        _with_engine(url, "DROP INDEX ix_used_grants_expires")


def _with_engine(url: str, sql: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


if __name__ == "__main__":
    args = sys.argv[1:]
    measure(args[0], int(args[1]) if len(args) > 1 else 400_000, int(args[2]) if len(args) > 2 else None,
            len(args) > 3 and args[3] == "index")
