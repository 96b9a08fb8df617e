"""Measure µs per SqlReplayCache.first_use: `python -m tests.storage.measure_replay URL [N]`.

The URL's database is migrated first. Prints mean, p50, p90 and p99 for new keys and for replays.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from portvakt.storage.sql import SqlReplayCache, upgrade


def _report(label: str, samples: list[float], total: float) -> None:
    samples.sort()

    def pick(q: float) -> float:
        return samples[min(len(samples) - 1, int(len(samples) * q))] * 1e6

    print(f"{label:12s} mean {total / len(samples) * 1e6:7.1f} µs  p50 {pick(0.5):6.1f}  "
          f"p90 {pick(0.9):6.1f}  p99 {pick(0.99):7.1f}  (n={len(samples)})")


def _timed(label: str, calls: list[Callable[[], object]]) -> None:
    samples: list[float] = []
    start = time.perf_counter()
    for call in calls:
        t = time.perf_counter()
        call()
        samples.append(time.perf_counter() - t)
    _report(label, samples, time.perf_counter() - start)


def sqlite_floor(path: str, n: int) -> None:
    """The same INSERT on a bare sqlite3 connection: what SQLite itself costs on this machine."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    sql = ("INSERT INTO used_grants (key, expires) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
           "SET expires = excluded.expires WHERE used_grants.expires <= ?")
    base = int(datetime(2999, 1, 1, tzinfo=UTC).timestamp())
    params = [(os.urandom(32), base + i, 946684800) for i in range(n)]  # expires as epoch seconds
    _timed("raw sqlite3", [functools.partial(conn.execute, sql, p) for p in params])
    conn.execute("DELETE FROM used_grants")
    conn.close()


def _expect(cache: SqlReplayCache, key: bytes, expires: datetime, want: bool) -> None:
    assert cache.first_use(key, expires) is want


def measure(url: str, n: int) -> None:
    """Time n first uses of fresh keys, then n replays of the same keys."""
    upgrade(url)
    cache = SqlReplayCache(url)
    base = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    grants = [(os.urandom(32), base + timedelta(seconds=i)) for i in range(n)]  # every exp distinct
    cache.first_use(os.urandom(32), base)  # connect, prepare
    for label, want in (("new", True), ("replay", False)):
        _timed(label, [functools.partial(_expect, cache, key, exp, want) for key, exp in grants])
    cache.purge(datetime.now(UTC) + timedelta(days=1))
    cache.close()
    if url.startswith("sqlite"):
        sqlite_floor(url.split(":///", 1)[1], n)


if __name__ == "__main__":
    measure(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20000)
