"""The SQLite file is guarded without ever being opened beside SQLite (https://www.sqlite.org/howtocorrupt.html §2.2).

Closing any descriptor of a file drops all of a process's POSIX locks on it. When the replay store connected
lazily, `secure_sqlite_file` opened and closed the database file while the registry engine held it open, so a CLI
process could take the file for unused, check-point and delete the WAL, and the server read "database disk image
is malformed" (a 500) under load.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from portvakt.storage.sql.engine import secure_sqlite_file


def test_an_existing_database_file_is_never_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "portvakt.db"
    sqlite3.connect(db).close()
    db.chmod(0o644)
    opened: list[str] = []
    real_open = os.open

    def spy(path: str | os.PathLike[str], *args: object, **kwargs: object) -> int:
        opened.append(str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", spy)
    secure_sqlite_file(str(db))
    assert opened == []
    assert stat.S_IMODE(db.stat().st_mode) == 0o600  # still tightened, by chmod alone


def test_a_missing_database_file_is_made_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "new" / "portvakt.db"
    secure_sqlite_file(str(db))
    assert db.exists() and stat.S_IMODE(db.stat().st_mode) == 0o600


def test_another_process_does_not_delete_the_wal_under_an_open_connection(tmp_path: Path) -> None:
    """With this process's lock on the file intact, another process that closes its own connection knows it is
    not the last one, and leaves the WAL (before the fix it check-pointed and deleted it under this reader)."""
    db = tmp_path / "portvakt.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    secure_sqlite_file(str(db))
    other = ("import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\n"
             "c.execute('SELECT * FROM t').fetchall()\nc.close()\n")
    subprocess.run([sys.executable, "-c", other, str(db)], check=True, timeout=30)
    try:
        assert (tmp_path / "portvakt.db-wal").exists()
        assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
    finally:
        conn.close()
