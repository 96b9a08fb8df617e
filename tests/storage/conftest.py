"""Fixtures of the storage contract suite: the same tests on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from portvakt.domain.ports import ReplayCache, Store, UnitOfWork
from portvakt.storage.memory import MemoryReplayCache, MemoryStore
from portvakt.storage.sql import SqlReplayCache, SqlStore, upgrade

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Backend:
    """A store and a replay cache under test, and a way to open a second "process" on the same data."""

    name: str
    store: Store
    replay: ReplayCache
    url: str | None = None
    _opened: list[Any] = field(default_factory=list)

    def another(self) -> tuple[Store, ReplayCache]:
        """A second store and replay cache on the same database (the same objects for memory)."""
        if self.url is None:
            return self.store, self.replay
        pair = (SqlStore(self.url), SqlReplayCache(self.url))
        self._opened.extend(pair)
        return pair

    def close(self) -> None:
        """Close everything this backend opened."""
        for opened in [self.store, self.replay, *self._opened]:
            close = getattr(opened, "close", None)
            if close is not None:
                close()


class RollbackError(Exception):
    """Raised inside a unit of work to force a rollback."""


def fail_inside(store: Store, work: Callable[[UnitOfWork], object]) -> None:
    """Do `work` in a unit of work, then raise RollbackError out of it."""
    with store.begin() as uow:
        work(uow)
        raise RollbackError


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for every test (migrating once is much faster)."""
    path = tmp_path_factory.mktemp("template") / "portvakt.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template(pg_databases: Any) -> str:
    """A migrated PostgreSQL database that each test's database is created from.

    It uses a natural-language collation where the server has ICU, as production databases often do,
    so the tests prove that ordering and keyset pagination still follow code points.
    """
    try:
        url: str = pg_databases.create(options="TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'")
    except sa.exc.DBAPIError:
        url = pg_databases.create()
    upgrade(url)
    return url.rsplit("/", 1)[-1]


@pytest.fixture
def make_sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Makes migrated, empty databases of this test's own: "sqlite" (a file) or "postgres"."""
    made: list[str] = []

    def make(name: str) -> str:
        if name == "sqlite":
            path = tmp_path / f"portvakt{len(made)}.db"
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
            made.append(str(path))
            return f"sqlite:///{path}"
        url: str = request.getfixturevalue("pg_databases").create(request.getfixturevalue("pg_template"))
        made.append(url)
        return url

    yield make
    for url in made:
        if url.startswith("postgresql"):
            request.getfixturevalue("pg_databases").drop(url)


@pytest.fixture(params=SQL_BACKENDS)
def sql_url(request: pytest.FixtureRequest, make_sql_url: Callable[[str], str]) -> str:
    """A migrated, empty SQLite or PostgreSQL database of this test's own."""
    url: str = make_sql_url(request.param)
    return url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, make_sql_url: Callable[[str], str]) -> Iterator[Backend]:
    """The store and replay cache under test."""
    if request.param == "memory":
        made = Backend("memory", MemoryStore(), MemoryReplayCache())
    else:
        url = make_sql_url(request.param)
        made = Backend(request.param, SqlStore(url), SqlReplayCache(url), url)
    yield made
    made.close()


@pytest.fixture
def store(backend: Backend) -> Store:
    """The store under test."""
    return backend.store


@pytest.fixture
def replay(backend: Backend) -> ReplayCache:
    """The replay cache under test."""
    return backend.replay

