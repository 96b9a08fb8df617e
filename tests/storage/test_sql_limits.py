"""docs/security.md, Store outage, on PostgreSQL: with ConnectionLimits every connect, statement, lock wait and answer
of the store's engine and of the replay store's connection is bounded, a server or link that stops answering
included (a black-holed proxy: no TCP error ever comes); without them (migrations, tools) the engine is as before."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import psycopg
import pytest
import sqlalchemy as sa

from portvakt.domain.errors import StoreUnavailable
from portvakt.storage.sql import SqlReplayCache, SqlStore, make_engine
from portvakt.storage.sql import replay as sql_replay
from portvakt.storage.sql.engine import ConnectionLimits
from portvakt.storage.sql.pg import BoundedConnection
from tests.faults_stores.tcp_proxy import BlackholeProxy

from .builders import T0
from .test_replay import k, soon

pytestmark = pytest.mark.postgres
S0 = T0.replace(microsecond=0)
MARGIN = 0.8  # thread hand-off and a shared machine


@pytest.fixture
def pg(make_sql_url: Callable[[str], str]) -> str:
    """A migrated, empty PostgreSQL database of this test's own."""
    return make_sql_url("postgres")


@pytest.fixture
def through(pg: str) -> Iterator[tuple[str, BlackholeProxy]]:
    """The database's URL through a proxy that can be black-holed, and the proxy."""
    url = sa.make_url(pg)
    proxy = BlackholeProxy(url.host or "127.0.0.1", url.port or 5432)
    yield url.set(port=proxy.port).render_as_string(hide_password=False), proxy
    proxy.close()


def _show(conn: sa.Connection, name: str) -> str:
    return str(conn.exec_driver_sql(f"SHOW {name}").scalar_one())


def test_an_engine_with_limits_bounds_statements_locks_and_the_link(pg: str) -> None:
    limits = ConnectionLimits(connect_timeout=3, statement_timeout=4, tcp_user_timeout=6, keepalives_idle=7,
                              pool_size=3, max_overflow=2, pool_timeout=1.25)
    engine = make_engine(pg, busy_timeout=1.5, limits=limits)
    try:
        with engine.connect() as conn:
            assert (_show(conn, "statement_timeout"), _show(conn, "lock_timeout")) == ("4s", "1500ms")
            raw = conn.connection.driver_connection
            assert isinstance(raw, BoundedConnection) and raw.deadline == 4.5
            client = raw.info.get_parameters()
            assert (client["connect_timeout"], client["tcp_user_timeout"], client["keepalives_idle"]) == (
                "3", "6000", "7")
        assert (engine.pool.size(), engine.pool.timeout()) == (3, 1.25)
    finally:
        engine.dispose()


def test_without_limits_an_engine_is_as_before(pg: str) -> None:
    engine = make_engine(pg)
    try:
        with engine.connect() as conn:
            assert (_show(conn, "statement_timeout"), _show(conn, "lock_timeout")) == ("0", "15s")
            assert not isinstance(conn.connection.driver_connection, BoundedConnection)
    finally:
        engine.dispose()


def test_the_urls_own_options_come_last_and_win(pg: str) -> None:
    url = sa.make_url(pg).update_query_dict({"options": "-c statement_timeout=9000"})
    engine = make_engine(url, busy_timeout=2, limits=ConnectionLimits())
    try:
        with engine.connect() as conn:
            assert (_show(conn, "statement_timeout"), _show(conn, "lock_timeout")) == ("9s", "2s")
    finally:
        engine.dispose()


@pytest.mark.timing  # a latency bound: run alone (docs/testing.md)
def test_a_bounded_connection_gives_up_on_a_server_that_does_not_answer(pg: str) -> None:
    url = sa.make_url(pg)
    conn = BoundedConnection.connect(host=url.host, port=url.port, user=url.username, dbname=url.database,
                                     autocommit=True)
    conn.deadline = 0.5
    start = time.monotonic()
    with pytest.raises(psycopg.errors.ConnectionTimeout, match=r"did not answer within 0\.5 s"):
        conn.execute("SELECT pg_sleep(5)")
    assert time.monotonic() - start < 0.5 + MARGIN
    assert conn.closed  # the pool takes it for a lost connection


@pytest.mark.timing  # a latency bound: run alone (docs/testing.md)
def test_a_lock_wait_ends_at_the_busy_timeout(pg: str) -> None:
    store = SqlStore(pg, busy_timeout=0.5, limits=ConnectionLimits())
    other = SqlStore(pg, busy_timeout=0.5, limits=ConnectionLimits())
    try:
        with store.begin():  # holds the store lock
            start = time.monotonic()
            with pytest.raises(StoreUnavailable), other.begin():
                pass
            assert time.monotonic() - start < 0.5 + MARGIN
    finally:
        store.close()
        other.close()


@pytest.mark.timing  # a latency bound: run alone (docs/testing.md)
def test_the_store_fails_fast_on_a_black_holed_link_and_recovers(through: tuple[str, BlackholeProxy]) -> None:
    url, proxy = through
    store = SqlStore(url, busy_timeout=1, limits=ConnectionLimits())
    try:
        assert store.last_change_seq() >= 0
        proxy.blackhole()
        try:
            # The pooled connection's ping meets its deadline (1.5 s) and the pool opens another, which meets the
            # connect timeout (2 s); then only a new connection's connect timeout.
            for bound in (1.5 + 2, 2):
                start = time.monotonic()
                with pytest.raises(StoreUnavailable):
                    store.last_change_seq()
                assert time.monotonic() - start < bound + MARGIN
        finally:
            proxy.restore()
        assert store.last_change_seq() >= 0
    finally:
        store.close()


@pytest.mark.timing  # a latency bound: run alone (docs/testing.md)
def test_the_replay_store_fails_fast_on_a_black_holed_link_and_recovers(through: tuple[str, BlackholeProxy]) -> None:
    url, proxy = through
    cache = SqlReplayCache(url, busy_timeout=1)
    try:
        assert cache.first_use(k("before"), soon()) is True
        assert cache._backend._conn is not None
        assert cache._backend._conn.execute("SHOW statement_timeout").fetchone() == ("1s",)
        proxy.blackhole()
        try:
            for name in ("during-1", "during-2"):  # the deadline (1.5 s), then the connect timeout (2 s): no retry
                start = time.monotonic()
                with pytest.raises(StoreUnavailable, match="ConnectionTimeout"):
                    cache.first_use(k(name), soon())
                assert time.monotonic() - start < 2 + MARGIN
        finally:
            proxy.restore()
        assert cache.first_use(k("before"), soon()) is False
        assert cache.first_use(k("after"), soon()) is True
    finally:
        cache.close()


def test_postgres_purges_in_batches_until_nothing_expired_is_left(pg: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql_replay._Postgres, "purge_batch", 3)
    cache = SqlReplayCache(pg)
    try:
        for i in range(10):
            assert cache.first_use(k(f"old-{i}"), S0 - timedelta(seconds=5)) is True
        assert cache.first_use(k("live"), soon()) is True
        assert cache.purge(S0) == 10
        assert cache.purge(S0) == 0
        assert cache.first_use(k("live"), soon()) is False
    finally:
        cache.close()
