"""The SQL replay cache beyond the contract: restarts, real processes, an injected clock, reconnects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta, timezone

import pytest
import sqlalchemy as sa

from portvakt.domain.clock import FixedClock
from portvakt.storage.sql import SqlReplayCache, make_engine
from portvakt.storage.sql.replay import expiry_seconds, now_seconds, purge_plan

from .builders import T0
from .test_replay import k, soon

WORKER = """
import hashlib, json, sys
from datetime import UTC, datetime, timedelta
from portvakt.storage.sql import SqlReplayCache
url, names = sys.argv[1], json.loads(sys.argv[2])
cache = SqlReplayCache(url)
exp = datetime.now(UTC) + timedelta(minutes=5)
won = [n for n in names if cache.first_use(hashlib.sha256(n.encode()).digest(), exp)]
print(json.dumps(won))
"""
S0 = T0.replace(microsecond=0)  # the token service passes whole-second expiries


def test_survives_a_restart(sql_url: str) -> None:
    first = SqlReplayCache(sql_url)
    assert first.first_use(k("a"), soon()) is True
    first.close()
    again = SqlReplayCache(make_engine(sql_url))
    assert again.first_use(k("a"), soon()) is False
    again.close()


def test_processes_racing_on_one_database_accept_each_key_once(sql_url: str) -> None:
    names = [f"grant-{i}" for i in range(150)]
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, sql_url, json.dumps(names)],
                                stdout=subprocess.PIPE, text=True) for _ in range(4)]
    won: list[str] = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        won.extend(json.loads(out))
    assert sorted(won) == sorted(names)


def test_injected_clock_decides_expiry(sql_url: str) -> None:
    clock = FixedClock(S0)
    cache = SqlReplayCache(sql_url, clock=clock)
    assert cache.first_use(k("a"), S0 + timedelta(seconds=60)) is True
    assert cache.first_use(k("a"), S0 + timedelta(seconds=60)) is False
    clock.advance(59.999)
    assert cache.first_use(k("a"), S0 + timedelta(seconds=120)) is False
    clock.advance(0.001)
    assert cache.first_use(k("a"), S0 + timedelta(seconds=120)) is True
    cache.close()


def test_fractional_expiry_is_rounded_up_never_down(sql_url: str) -> None:
    """Expiries are kept in whole seconds: a key may be remembered up to a second longer, never shorter."""
    clock = FixedClock(S0)
    cache = SqlReplayCache(sql_url, clock=clock)
    assert cache.first_use(k("a"), S0 + timedelta(seconds=60.2)) is True
    clock.advance(60.5)
    assert cache.first_use(k("a"), S0 + timedelta(seconds=120)) is False
    assert cache.purge(S0 + timedelta(seconds=60.9)) == 0
    assert cache.purge(S0 + timedelta(seconds=61)) == 1
    clock.advance(0.5)
    assert cache.first_use(k("a"), S0 + timedelta(seconds=120)) is True
    cache.close()


def test_expiry_seconds_and_now_seconds_round_outwards() -> None:
    assert expiry_seconds(S0) == now_seconds(S0) == int(S0.timestamp())
    late = S0 + timedelta(microseconds=999_999)
    assert (expiry_seconds(late), now_seconds(late)) == (int(S0.timestamp()) + 1, int(S0.timestamp()))
    early = S0 + timedelta(microseconds=1)
    assert (expiry_seconds(early), now_seconds(early)) == (int(S0.timestamp()) + 1, int(S0.timestamp()))
    oslo = S0.astimezone(timezone(timedelta(hours=2)))
    assert expiry_seconds(oslo) == now_seconds(oslo) == int(S0.timestamp())


def test_naive_datetimes_are_refused(sql_url: str) -> None:
    cache = SqlReplayCache(sql_url)
    with pytest.raises(ValueError, match="naive"):
        cache.first_use(k("a"), T0.replace(tzinfo=None))
    cache.close()


def test_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="file"):
        SqlReplayCache("sqlite://")


@pytest.mark.postgres
def test_reconnects_after_the_server_drops_the_connection(make_sql_url: Callable[[str], str]) -> None:
    url = make_sql_url("postgres")
    cache = SqlReplayCache(url)
    assert cache.first_use(k("a"), soon()) is True
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    engine.dispose()
    assert cache.first_use(k("a"), soon()) is False
    assert cache.first_use(k("b"), soon()) is True
    cache.close()


def _child_checks(cache: SqlReplayCache) -> bool:
    """In a forked child: the parent's connection was dropped, and the child's own sees shared state."""
    fresh = cache._backend._conn is None  # the at-fork handler ran
    return fresh and cache.first_use(k("child"), soon()) and not cache.first_use(k("parent"), soon())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_never_uses_the_parents_connection(sql_url: str) -> None:
    cache = SqlReplayCache(sql_url)
    assert cache.first_use(k("parent"), soon()) is True
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.write(write, b"1" if _child_checks(cache) else b"0")
        finally:
            os._exit(0)
    os.close(write)
    reported = os.read(read, 1)
    os.close(read)
    os.waitpid(pid, 0)
    assert reported == b"1"
    assert cache.first_use(k("child"), soon()) is False  # and the parent's connection still works
    cache.close()


def test_purge_plan_slices_cover_every_key_in_order() -> None:
    plan = purge_plan("?", 16)
    lows = [bounds[0] for _, bounds in plan]
    assert len(plan) == 16
    assert lows[0] == b""
    assert [bounds[1] for _, bounds in plan[:-1]] == lows[1:]  # contiguous: each ends where the next starts
    assert lows == sorted(lows)
    assert len(plan[-1][1]) == 1  # the last range is open-ended
    assert purge_plan("%s", 1) == [("DELETE FROM used_grants WHERE expires <= %s", ())]


def test_sqlite_purge_slices_are_primary_key_range_scans(make_sql_url: Callable[[str], str]) -> None:
    url = make_sql_url("sqlite")
    engine = make_engine(url)
    with engine.connect() as conn:
        plans = [" / ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", (*bounds, 0)))
                 for sql, bounds in purge_plan("?", 16)]
    engine.dispose()
    assert all("PRIMARY KEY (key>? AND key<?)" in plan for plan in plans[:-1]), plans
    assert "PRIMARY KEY (key>?)" in plans[-1], plans[-1]
