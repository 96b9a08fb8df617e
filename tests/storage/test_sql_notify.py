"""Decision S12: on PostgreSQL every committed change is announced with NOTIFY portvakt_changes (its seq as payload,
delivered on commit only), and a ChangeListener hears it on a connection of its own, reconnecting with backoff
and logging a lost connection once per interval rather than per attempt."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from portvakt.domain.changes import CLIENT_KIND
from portvakt.storage.sql import SqlStore
from portvakt.storage.sql.notify import CHANNEL, ChangeListener, payload_seq
from tests.storage.conftest import RollbackError, fail_inside

pg = pytest.mark.postgres


def psycopg_url(url: str) -> str:
    """A libpq URL for a SQLAlchemy one."""
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def pg_store(make_sql_url: Callable[[str], str]) -> Iterator[SqlStore]:
    """A migrated PostgreSQL store of this test's own."""
    store = SqlStore(make_sql_url("postgres"))
    yield store
    store.close()


@pytest.fixture
def listening(pg_store: SqlStore) -> Iterator[psycopg.Connection[Any]]:
    """A plain autocommit session that LISTENs on the channel, as any other node's would."""
    with psycopg.connect(psycopg_url(pg_store.engine.url.render_as_string(hide_password=False)),
                         autocommit=True) as conn:
        conn.execute(f"LISTEN {CHANNEL}")
        yield conn


def heard(conn: psycopg.Connection[Any], within: float = 0.5) -> list[str]:
    """The payloads that arrive within `within` seconds."""
    return [n.payload for n in conn.notifies(timeout=within) if n.channel == CHANNEL]


def until(done: Callable[[], bool], within: float = 5.0) -> bool:
    """Poll `done` every 10 ms until it holds or `within` seconds pass."""
    deadline = time.monotonic() + within
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pg
def test_a_committed_change_is_announced_with_its_seq(pg_store: SqlStore,
                                                      listening: psycopg.Connection[Any]) -> None:
    with pg_store.begin() as uow:
        uow.record_change(CLIENT_KIND, "c-1")
        uow.record_change(CLIENT_KIND, "c-2")
    assert heard(listening) == [str(pg_store.last_change_seq())]


@pg
def test_nothing_is_announced_for_a_rollback_or_a_unit_of_work_without_a_change(
        pg_store: SqlStore, listening: psycopg.Connection[Any]) -> None:
    with pytest.raises(RollbackError):
        fail_inside(pg_store, lambda uow: uow.record_change(CLIENT_KIND, "c-1"))
    with pg_store.begin() as uow:
        assert uow.get_client("nobody") is None
    assert heard(listening) == []
    assert pg_store.last_change_seq() == 0


@pg
def test_the_notification_arrives_only_once_the_transaction_commits(
        pg_store: SqlStore, listening: psycopg.Connection[Any]) -> None:
    with pg_store.begin() as uow:
        uow.record_change(CLIENT_KIND, "c-1")
        assert heard(listening, within=0.2) == []  # queued, not sent: the change is not visible yet
    assert heard(listening) == [str(pg_store.last_change_seq())]


def test_sqlite_has_no_listener_and_keeps_the_poll(make_sql_url: Callable[[str], str]) -> None:
    store = SqlStore(make_sql_url("sqlite"))
    try:
        assert store.change_listener() is None
        with store.begin() as uow:  # no NOTIFY on SQLite: the change is only in the feed
            uow.record_change(CLIENT_KIND, "c-1")
        assert [c.key for c in store.changes_since(0)] == ["c-1"]
    finally:
        store.close()


def test_a_payload_names_a_seq_or_nothing() -> None:
    assert payload_seq("42") == 42
    assert payload_seq("") is None
    assert payload_seq("not a seq") is None
    assert payload_seq("٤٢") is None  # digits, but not ASCII ones


class Heard:
    """What a listener's callback was told, with a way to wait for it."""

    def __init__(self) -> None:
        self.seqs: list[int | None] = []
        self._changed = threading.Condition()

    def __call__(self, seq: int | None) -> None:
        with self._changed:
            self.seqs.append(seq)
            self._changed.notify_all()

    def wait_for(self, count: int, within: float = 5.0) -> list[int | None]:
        """The first `count` calls, waiting up to `within` seconds for them."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.seqs) >= count, timeout=within)
            return self.seqs[:count]


@pg
def test_the_listener_hears_commits_and_comes_back_after_its_connection_is_killed(pg_store: SqlStore) -> None:
    listener = pg_store.change_listener(backoff=0.05)
    assert listener is not None
    told = Heard()
    listener.start(told)
    try:
        assert told.wait_for(1) == [None]  # connected: read the feed for what came before
        first = listener.backend_pid
        assert first is not None
        started = time.monotonic()
        with pg_store.begin() as uow:
            uow.record_change(CLIENT_KIND, "c-1")
        assert told.wait_for(2) == [None, pg_store.last_change_seq()]
        assert time.monotonic() - started < 1.0

        with pg_store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.pg_terminate_backend(first))).scalar_one() is True
        assert told.wait_for(3) == [None, 1, None]  # back, and told to catch up on what it may have missed
        assert listener.connects == 2 and listener.backend_pid not in (None, first)
        with pg_store.engine.connect() as conn:
            name = conn.execute(sa.text("SELECT application_name FROM pg_stat_activity WHERE pid = :pid"),
                                {"pid": listener.backend_pid}).scalar_one()
        assert name == "portvakt-listener"
        with pg_store.begin() as uow:
            uow.record_change(CLIENT_KIND, "c-2")
        assert told.wait_for(4)[-1] == 2
    finally:
        listener.stop()
    assert listener._thread is not None and not listener._thread.is_alive()
    assert listener.backend_pid is None


class FakeConnection:
    """Enough of a psycopg connection for the listener: LISTEN, a pid, and notifications fed by the test."""

    def __init__(self, pid: int) -> None:
        self.info = type("Info", (), {"backend_pid": pid})()
        self.statements: list[str] = []

    def __enter__(self) -> FakeConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, statement: str) -> None:
        self.statements.append(statement)

    def notifies(self, *, timeout: float) -> Iterator[Any]:
        time.sleep(min(timeout, 0.01))
        yield from ()


class FakeMonotonic:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FlakyConnect:
    """A connect that fails while `down` is set (as a database that is unreachable)."""

    def __init__(self) -> None:
        self.down = threading.Event()
        self.down.set()
        self.attempts = 0

    def __call__(self) -> Any:
        self.attempts += 1
        if self.down.is_set():
            raise psycopg.OperationalError("connection refused")
        return FakeConnection(1000 + self.attempts)


def test_a_database_that_stays_down_is_logged_once_per_interval_not_per_attempt(
        caplog: pytest.LogCaptureFixture) -> None:
    connect = FlakyConnect()
    clock = FakeMonotonic()
    listener = ChangeListener(connect, backoff=0.001, max_backoff=0.002, log_every=60, monotonic=clock)
    told = Heard()
    caplog.set_level(logging.WARNING, logger="portvakt.changes")
    listener.start(told)
    try:
        assert until(lambda: connect.attempts >= 20)
        lines = [r.getMessage() for r in caplog.records]
        assert len(lines) == 1 and "has no database connection (OperationalError)" in lines[0]
        assert "refused" not in lines[0]  # the driver's text (which may name hosts) stays out of the log
        clock.now += 61
        assert until(lambda: len(caplog.records) == 2)
        assert "still reconnecting after 61 s" in caplog.records[1].getMessage()
        assert until(lambda: connect.attempts >= 40)
        assert len(caplog.records) == 2
        assert told.seqs == []  # never connected: never told anything, least of all that it is fresh

        connect.down.clear()
        assert told.wait_for(1) == [None]
        assert until(lambda: len(caplog.records) == 3)
        assert caplog.records[2].getMessage().startswith("the change listener is listening again after 61.0 s")
        assert listener.connects == 1 and listener.backend_pid == 1000 + connect.attempts
    finally:
        listener.stop()
    assert not listener._thread.is_alive()  # type: ignore[union-attr]


def test_a_failing_callback_does_not_stop_the_listener(caplog: pytest.LogCaptureFixture) -> None:
    connect = FlakyConnect()
    connect.down.clear()
    calls = 0

    def broken(_seq: int | None) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("a bug in the callback")

    listener = ChangeListener(connect, wait_seconds=0.01)
    listener.start(broken)
    try:
        assert until(lambda: calls == 1)
        assert until(lambda: "the change listener's callback failed" in caplog.text)
        assert listener.connects == 1 and connect.attempts == 1  # still listening on the same connection
    finally:
        listener.stop()


def test_a_listener_is_started_once_and_its_settings_are_checked() -> None:
    listener = ChangeListener(FlakyConnect())
    listener.start(Heard())
    try:
        with pytest.raises(RuntimeError, match="already started"):
            listener.start(Heard())
    finally:
        listener.stop()
    with pytest.raises(ValueError, match="positive"):
        ChangeListener(FlakyConnect(), wait_seconds=0)
