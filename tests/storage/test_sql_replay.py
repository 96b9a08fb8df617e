"""The SQL replay cache beyond the contract: restarts, real processes, an injected clock, reconnects."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portvakt.domain.clock import FixedClock
from portvakt.storage.sql import SqlReplayCache, make_engine

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
    clock = FixedClock(T0)
    cache = SqlReplayCache(sql_url, clock=clock)
    assert cache.first_use(k("a"), T0 + timedelta(seconds=60)) is True
    assert cache.first_use(k("a"), T0 + timedelta(seconds=60)) is False
    clock.advance(60)
    assert cache.first_use(k("a"), T0 + timedelta(seconds=120)) is True
    cache.close()


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
