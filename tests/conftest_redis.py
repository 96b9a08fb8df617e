"""Pytest plugin: one redis-server per test module that asks for `redis_server` (`pytest_plugins` in conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.redis_server import RedisServer


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One Redis for the module's tests (skipped when redis-server is missing); each test empties it as it needs."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()
