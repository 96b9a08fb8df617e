"""Contract: the replay cache remembers a grant until it expires, across instances and processes."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta

from portvakt.domain.ports import BatchReplayCache, ReplayCache, ReplayClaim, first_use_all

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


def _claims(*names: str, expires: datetime | None = None) -> list[ReplayClaim]:
    return [ReplayClaim(k(n), expires or soon()) for n in names]


def test_a_batch_is_recorded_in_one_call_each_key_once(replay: ReplayCache) -> None:
    assert replay.first_use(k("used"), soon()) is True
    outcomes = first_use_all(replay, _claims("new-1", "used", "new-2", "new-1", "new-2", "new-3"))
    assert outcomes == [True, False, True, False, False, True]  # a key twice in one batch: its first claim wins
    assert first_use_all(replay, _claims("new-1", "new-3", "new-4")) == [False, False, True]
    assert replay.first_use(k("new-2"), soon()) is False
    assert isinstance(replay, BatchReplayCache)  # every store batches: one statement or pipeline per batch


def test_a_batch_takes_over_expired_entries_like_first_use(backend: Backend) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    assert first_use_all(backend.replay, _claims("gone", expires=past)) == [True]
    assert first_use_all(backend.replay, _claims("gone", "gone")) == [True, False]
    assert backend.replay.first_use(k("gone"), soon()) is False


def test_a_batch_larger_than_one_statement_is_split_and_whole(replay: ReplayCache) -> None:
    names = [f"many-{i}" for i in range(700)]
    assert first_use_all(replay, _claims(*names)) == [True] * 700
    assert first_use_all(replay, _claims(*names[::7], "many-new")) == [False] * 100 + [True]


def test_batches_race_for_each_key_exactly_one_wins(backend: Backend) -> None:
    _, other = backend.another()
    names = [f"batch-race-{i}" for i in range(200)]
    results: list[list[object]] = []

    def claim(cache: ReplayCache) -> None:
        results.append(list(first_use_all(cache, _claims(*names))))

    threads = [threading.Thread(target=claim, args=(c,)) for c in (backend.replay, other, backend.replay, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(sum(1 for r in results if r[i] is True) == 1 for i in range(len(names)))
