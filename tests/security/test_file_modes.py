"""docs/security.md, Data at rest: the SQLite file holds argon2 hashes and mobile numbers, so it and its -wal
and -shm files are owner-only (0600) and so is the data directory (0700), also for files made earlier."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from portvakt.domain.errors import StoreUnavailable
from portvakt.settings import Settings
from portvakt.storage.sql.replay import SqlReplayCache
from portvakt.wiring import open_store, prepare


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_dir_and_database_are_owner_only(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    store = prepare(settings)
    try:
        with store.begin() as uow:  # a write, so that -wal and -shm exist while the store is open
            uow.get_client("nobody")
        db = tmp_path / "var" / "portvakt.db"
        files = [db, db.with_name("portvakt.db-wal"), db.with_name("portvakt.db-shm")]
        assert all(f.exists() for f in files), list((tmp_path / "var").iterdir())
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert _mode(tmp_path / "var") == 0o700
    finally:
        store.close()


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "var"
    store = open_store(Settings(data_dir=data))
    store.close()
    db = data / "portvakt.db"
    data.chmod(0o755)
    db.chmod(0o644)
    store = open_store(Settings(data_dir=data))
    store.close()
    assert (_mode(data), _mode(db)) == (0o700, 0o600)


def test_the_replay_cache_creates_the_file_owner_only(tmp_path: Path) -> None:
    cache = SqlReplayCache(f"sqlite:///{tmp_path}/replay.db")
    with pytest.raises(StoreUnavailable):  # no schema in this file: only its mode matters here
        cache.purge(datetime.now(UTC))
    cache.close()
    assert _mode(tmp_path / "replay.db") == 0o600
