"""Pytest plugin: a PostgreSQL server for the tests (`pytest_plugins = ["tests.conftest_pg"]`).

`pg_url` is PORTVAKT_TEST_PG_URL when set, else a throwaway cluster from scripts/pg-throwaway.sh that
lives for the run. Without PostgreSQL the tests that need it FAIL, unless PORTVAKT_SKIP_PG=1.
`pg_databases` creates databases (optionally from a template) that are dropped at session end;
`fresh_pg_url` is an empty database of its own for one test.

Under pytest-xdist the workers share one cluster: the controller names its directory (pytest_configure_node),
the first worker that needs PostgreSQL starts it under a file lock and leaves its URL beside it, the others
read that URL, and the controller stops the cluster when the run ends. Database names carry the worker's pid,
so the workers' databases never collide. No cluster starts in a run whose tests need none.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "pg-throwaway.sh"


def _start_cluster(directory: Path) -> str:
    """Start the throwaway cluster and return its URL, or fail the test with the script's output."""
    try:
        done = subprocess.run(["bash", str(SCRIPT), "start", str(directory)], capture_output=True, text=True,
                              timeout=180, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"could not run {SCRIPT.name}: {exc}", pytrace=False)
    if done.returncode != 0:
        pytest.fail(f"PostgreSQL did not start (PORTVAKT_SKIP_PG=1 skips):\n{done.stderr}", pytrace=False)
    return done.stdout.strip().splitlines()[-1]


def _stop_cluster(directory: Path) -> None:
    subprocess.run(["bash", str(SCRIPT), "stop", str(directory)], capture_output=True, timeout=120, check=False)


def _new_directory() -> Path:
    return Path(tempfile.gettempdir()) / f"portvakt-pg-{uuid.uuid4().hex[:12]}"


SHARED_KEY = "portvakt_pg_dir"
_shared = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """On the xdist controller: the directory the workers' shared cluster will live in, if one is needed."""
    if not hasattr(config, "workerinput") and getattr(config.option, "dist", "no") != "no":
        config.stash[_shared] = _new_directory()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: tell each worker where the shared cluster lives."""
    if (directory := node.config.stash.get(_shared, None)) is not None:
        node.workerinput[SHARED_KEY] = str(directory)


def pytest_unconfigure(config: pytest.Config) -> None:
    """On the xdist controller, after every worker has finished: stop the shared cluster, if one was started."""
    if (directory := config.stash.get(_shared, None)) is not None:
        _stop_cluster(directory)
        for extra in (".lock", ".url"):
            directory.with_name(directory.name + extra).unlink(missing_ok=True)


def _shared_cluster(directory: Path) -> str:
    """The URL of the workers' shared cluster in `directory`, started by whichever worker asks first."""
    url_file = directory.with_name(directory.name + ".url")
    with directory.with_name(directory.name + ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if url_file.exists():
            return url_file.read_text().strip()
        url = _start_cluster(directory)
        url_file.write_text(url)
        return url


@pytest.fixture(scope="session")
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A SQLAlchemy URL of a PostgreSQL database the tests may use and create databases from."""
    if url := os.environ.get("PORTVAKT_TEST_PG_URL"):
        yield url
        return
    if os.environ.get("PORTVAKT_SKIP_PG") == "1":
        pytest.skip("PORTVAKT_SKIP_PG=1")
    if shared := getattr(request.config, "workerinput", {}).get(SHARED_KEY):
        yield _shared_cluster(Path(shared))  # the controller stops it
        return
    directory = _new_directory()
    url = _start_cluster(directory)
    try:
        yield url
    finally:
        _stop_cluster(directory)


class PgDatabases:
    """Creates uniquely named databases on the test server and drops them all at the end."""

    def __init__(self, url: str) -> None:
        self._url = sa.make_url(url).set(drivername="postgresql+psycopg")
        self._admin = sa.create_engine(self._url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
        self._names = (f"portvakt_t{os.getpid()}_{n}" for n in itertools.count())
        self._created: list[str] = []

    def create(self, template: str | None = None, *, options: str = "") -> str:
        """A new database (a copy of `template` if given, else with the CREATE DATABASE `options`)."""
        name = next(self._names)
        copy = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else f" {options}"
        with self._admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"{copy}')
        self._created.append(name)
        return self._url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        """Drop a database made by create(), closing any connection still open to it."""
        name = sa.make_url(url).database
        assert name in self._created
        with self._admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.remove(name)

    def close(self) -> None:
        """Drop whatever is left."""
        for name in list(self._created):
            self.drop(self._url.set(database=name).render_as_string(hide_password=False))
        self._admin.dispose()


@pytest.fixture(scope="session")
def pg_databases(pg_url: str) -> Iterator[PgDatabases]:
    """A factory of throwaway databases on the test server."""
    databases = PgDatabases(pg_url)
    try:
        yield databases
    finally:
        databases.close()


@pytest.fixture
def fresh_pg_url(pg_databases: PgDatabases) -> Iterator[str]:
    """An empty PostgreSQL database of this test's own."""
    url = pg_databases.create()
    yield url
    pg_databases.drop(url)
