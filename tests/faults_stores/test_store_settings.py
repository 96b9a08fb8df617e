"""PORTVAKT_STORE__*: the bounds on every wait for the database and Redis, from settings to the connections
(docs/security.md, Store outage); and the two small fixes beside them: a 5xx refusal logs at WARNING, and `serve`
never prints the database password."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from portvakt.api.oauth_errors import error_body
from portvakt.oauth import mp_codes as mp
from portvakt.settings import Settings
from portvakt.storage.memory import MemoryStore
from portvakt.storage.redis_replay import RedisReplayCache
from portvakt.storage.sql.engine import DEADLINE_MARGIN, ConnectionLimits, pg_connect_params
from portvakt.wiring.stores import connection_limits, open_replay, printable_database_url, replay_window


def test_defaults_follow_the_busy_timeout() -> None:
    s = Settings(limits={"store_busy_seconds": 3})
    limits = connection_limits(s)
    assert (s.store.connect_timeout_seconds, s.store.redis_socket_timeout_seconds,
            s.store.redis_socket_connect_timeout_seconds) == (2, 0.5, 0.5)
    assert limits.statement_seconds(3) == 3 and limits.pool_timeout is None
    assert limits.deadline(3) == 3 + DEADLINE_MARGIN
    assert (limits.pool_size, limits.max_overflow) == (5, 10)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTVAKT_STORE__STATEMENT_TIMEOUT_SECONDS", "7")
    monkeypatch.setenv("PORTVAKT_STORE__POOL_SIZE", "20")
    monkeypatch.setenv("PORTVAKT_STORE__REDIS_SOCKET_TIMEOUT_SECONDS", "0.25")
    s = Settings()
    limits = connection_limits(s)
    assert limits.statement_seconds(2) == 7 and limits.pool_size == 20
    assert s.store.redis_socket_timeout_seconds == 0.25


def test_pg_params_bound_connect_keepalive_statement_and_lock() -> None:
    params = pg_connect_params(ConnectionLimits(connect_timeout=2.5, tcp_user_timeout=4, statement_timeout=3),
                               1.5, {})
    assert params["connect_timeout"] == "3"  # libpq takes whole seconds: rounded up, never shorter
    assert params["tcp_user_timeout"] == "4000" and params["keepalives"] == "1"
    assert (params["keepalives_idle"], params["keepalives_interval"], params["keepalives_count"]) == ("5", "2", "3")
    assert params["options"] == "-c statement_timeout=3000 -c lock_timeout=1500"


def test_the_urls_own_parameters_win() -> None:
    params = pg_connect_params(ConnectionLimits(), 2, {"connect_timeout": "9", "options": "-c lock_timeout=5s"})
    assert params["connect_timeout"] == "9"
    assert params["options"] == "-c statement_timeout=2000 -c lock_timeout=2000 -c lock_timeout=5s"  # last wins


def test_the_replay_window_is_the_longest_a_grant_may_be_valid() -> None:
    assert replay_window(Settings()) == timedelta(seconds=130)
    assert replay_window(Settings(token={"grant_max_lifetime": 60, "grant_max_future_iat": 5})) == timedelta(
        seconds=65)


def test_the_redis_replay_store_gets_its_timeouts_and_window() -> None:
    s = Settings(replay_store="redis", redis_url="redis://127.0.0.1:1/0",
                 store={"redis_socket_timeout_seconds": 0.3, "redis_socket_connect_timeout_seconds": 0.2,
                        "redis_health_check_interval_seconds": 4})
    cache = open_replay(s, MemoryStore())  # connects lazily: nothing listens there
    assert isinstance(cache, RedisReplayCache)
    kwargs = cache._redis.connection_pool.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"], kwargs["health_check_interval"]) == (
        0.3, 0.2, 4)
    assert kwargs["retry"].get_retries() == 1  # a lost connection once more, never a timeout
    assert cache._window == 130
    cache.close()


def test_the_database_url_is_printed_without_its_password() -> None:
    s = Settings(database_url="postgresql+psycopg://portvakt:s3cret-pw@db.example:5432/portvakt")
    shown = printable_database_url(s)
    assert "s3cret-pw" not in shown and shown == "postgresql+psycopg://portvakt:***@db.example:5432/portvakt"


def test_serve_prints_the_database_without_its_password(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from portvakt.cli import serve as serve_cli

    monkeypatch.setenv("PORTVAKT_DATABASE_URL", "postgresql+psycopg://portvakt:s3cret-pw@db.example/portvakt")
    for name, value in (("PORTVAKT_HOST", "127.0.0.1"), ("PORTVAKT_PORT", "8080")):
        monkeypatch.setenv(name, value)  # serve() sets them: restored after the test
    monkeypatch.setattr(serve_cli, "_prepare", lambda s, demo: None)
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: None)
    serve_cli.serve(host="127.0.0.1", port=8080, workers=1, demo=False, access_log=False, only=None,
                    altinn_url=None, token_issuer=None)
    printed = " ".join(capsys.readouterr().err.split())
    assert "database postgresql+psycopg://portvakt:***@db.example/portvakt" in printed
    assert "s3cret-pw" not in printed


def test_a_5xx_refusal_logs_at_warning_a_4xx_at_info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="portvakt.token")
    error_body(mp.MP503(detail="the replay store is unavailable: TimeoutError"), "http://x/", "a" * 32)
    error_body(mp.MP012(), "http://x/", "b" * 32)
    levels = {r.getMessage().split()[2]: r.levelno for r in caplog.records if r.name == "portvakt.token"}
    assert levels == {"code=MP-503": logging.WARNING, "code=MP-012": logging.INFO}
