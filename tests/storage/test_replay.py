"""Contract: the replay cache remembers a grant until it expires, across instances and processes."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta

from portvakt.domain.ports import ReplayCache

from .conftest import Backend


def k(name: str) -> bytes:
    """A 32-byte replay key, as the token service derives them."""
    return hashlib.sha256(name.encode()).digest()


def soon(seconds: float = 120) -> datetime:
    """A wall-clock expiry in the future (the SQL cache judges expiry by the database clock)."""
    return datetime.now(UTC) + timedelta(seconds=seconds)


def test_first_use_then_replay(replay: ReplayCache) -> None:
    assert replay.first_use(k("a"), soon()) is True
    assert replay.first_use(k("a"), soon()) is False
    assert replay.first_use(k("a"), soon(999)) is False
    assert replay.first_use(k("b"), soon()) is True


def test_purge_forgets_expired_keys_only(replay: ReplayCache) -> None:
    now = datetime.now(UTC).replace(microsecond=0)  # whole seconds, as the token service passes them
    replay.first_use(k("old"), now - timedelta(seconds=5))
    replay.first_use(k("edge"), now)
    replay.first_use(k("live"), now + timedelta(seconds=300))
    assert replay.purge(now) == 2  # expires <= now
    assert replay.purge(now) == 0
    assert replay.first_use(k("live"), soon()) is False
    assert replay.first_use(k("old"), soon()) is True


def test_expired_entry_not_yet_purged_is_not_a_replay(backend: Backend) -> None:
    assert backend.replay.first_use(k("x"), datetime.now(UTC) - timedelta(seconds=1)) is True
    assert backend.replay.first_use(k("x"), soon()) is True  # the stale entry is taken over ...
    assert backend.replay.first_use(k("x"), soon()) is False  # ... and now guards the new expiry


def test_replay_is_seen_by_another_instance_on_the_same_database(backend: Backend) -> None:
    _, other = backend.another()
    assert backend.replay.first_use(k("shared"), soon()) is True
    assert other.first_use(k("shared"), soon()) is False
    assert other.first_use(k("other"), soon()) is True
    assert backend.replay.first_use(k("other"), soon()) is False
    assert other.purge(datetime.now(UTC) + timedelta(days=1)) == 2
    assert backend.replay.first_use(k("shared"), soon()) is True


def test_threads_race_for_each_key_exactly_one_wins(replay: ReplayCache) -> None:
    keys = [k(f"race-{i}") for i in range(50)]
    wins: list[bytes] = []
    lock = threading.Lock()
    expires = soon()

    def worker() -> None:
        for key in keys:
            if replay.first_use(key, expires):
                with lock:
                    wins.append(key)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == sorted(keys)


def test_purge_reaches_every_key_whatever_its_bytes(replay: ReplayCache) -> None:
    """The SQLite purge walks key ranges: keys at and around every range bound are purged too."""
    now = datetime.now(UTC).replace(microsecond=0)
    keys = [b"", b"\x00", b"\x0f" + b"\xff" * 31, b"\x10", b"\x7f\xff", b"\x80", b"\xef", b"\xf0",
            b"\xff" * 32, b"\xff" * 40]
    for key in keys:
        assert replay.first_use(key, now - timedelta(seconds=1)) is True
    assert replay.purge(now) == len(keys)
