"""The fault suite's own PostgreSQL cluster (scripts/pg-throwaway.sh, as tests/conftest_pg.py starts it), which the
scenarios stop (fast or immediate) and start again. It is never the run's shared cluster: other tests must not see
it go down.

The throwaway cluster runs with `synchronous_commit = off`, which lets an immediate stop lose commits that were
already acknowledged; that is the test cluster's shortcut, not portvakt's, so this cluster turns it back on
(`fsync = off` stays: a process crash keeps the operating system's page cache).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Literal

import psycopg
from psycopg import sql

from tests.conftest_pg import _start_cluster, _stop_cluster

StopMode = Literal["fast", "immediate"]


def _pgbin() -> Path:
    """Where pg_ctl lives: $PGBIN, else the newest /usr/lib/postgresql/*/bin (as pg-throwaway.sh looks)."""
    if found := os.environ.get("PGBIN"):
        return Path(found)
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    assert versions, "no PostgreSQL under /usr/lib/postgresql (make system-deps installs it)"
    return versions[-1]


class Cluster:
    """A running throwaway cluster in `directory`: its port, databases, and stop/start as its owner."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.url = _start_cluster(directory)
        self.port = int((directory / "port").read_text().strip())
        with self.connect() as conn:
            conn.execute("ALTER SYSTEM SET synchronous_commit = on")
            conn.execute("SELECT pg_reload_conf()")

    def connect(self, database: str = "portvakt") -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit connection as the superuser."""
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database,
                               autocommit=True, connect_timeout=5)

    def database_url(self, name: str, port: int | None = None) -> str:
        """The SQLAlchemy URL of database `name`, optionally through another port (a proxy's)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{port or self.port}/{name}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create `name` (a copy of `template` if given) and return its URL.

        A copy is made with STRATEGY FILE_COPY (checkpoints around the copy). PostgreSQL 15's default, WAL_LOG,
        copies each sequence with the values its template had already logged ahead, so the copy's next few values
        are written to no WAL, and a crash (stop -m immediate) sets the sequence back below rows that survived: the
        next insert is a duplicate key. A real database is not made that way; the suite must not test that."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement = sql.SQL("{} TEMPLATE {} STRATEGY FILE_COPY").format(statement, sql.Identifier(template))
        with self.connect() as conn:
            conn.execute(statement)
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        """Drop `name`, closing any connection still open to it."""
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def disconnect(self, name: str) -> None:
        """End every session of database `name` (this process's idle pools, before it serves as a template)."""
        with self.connect() as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                         "AND pid <> pg_backend_pid()", (name,))

    def is_up(self) -> bool:
        """Whether the server takes connections."""
        try:
            with self.connect() as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True

    def stop(self, mode: StopMode) -> None:
        """pg_ctl stop -m fast (clients are disconnected, a checkpoint) or -m immediate (a crash: no checkpoint,
        recovery from the WAL at the next start)."""
        self._pg_ctl("-m", mode, "-w", "-t", "60", "stop")

    def start(self) -> None:
        """pg_ctl start, waiting until it takes connections."""
        self._pg_ctl("-l", str(self.directory / "postgres.log"), "-w", "-t", "60", "start")

    def close(self) -> None:
        """Stop the cluster (if up) and remove its directory."""
        _stop_cluster(self.directory)

    def _pg_ctl(self, *args: str) -> None:
        command = [str(_pgbin() / "pg_ctl"), "-D", str(self.directory / "data"), *args]
        if os.getuid() == 0:  # the cluster belongs to `postgres` (initdb refuses root)
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, cwd=self.directory, capture_output=True, text=True, timeout=90, check=False)
        assert done.returncode == 0, f"pg_ctl {' '.join(args)} failed: {done.stderr or done.stdout}"
