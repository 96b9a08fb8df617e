"""The in-process replay cache (docs/protocol.md §1.3 jti, decision T5)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

from portvakt.domain.clock import SystemClock
from portvakt.domain.ports import ClaimOutcome, Clock, ReplayClaim


class MemoryReplayCache:
    """In-process replay cache; durable only for the life of the process (tests and `--store memory`).

    Whether a stored entry has expired is judged by `clock` when given, else by the wall clock.
    """

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._seen: dict[bytes, datetime] = {}
        self._lock = threading.Lock()
        self._clock: Clock = clock or SystemClock()

    def first_use(self, key: bytes, expires: datetime, issued_at: datetime | None = None) -> bool:
        """Record the key; False on a replay of one that has not expired (decision T5). `issued_at` is not needed:
        this cache never outlives its data."""
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None and seen > self._clock.now():
                return False
            self._seen[key] = expires
            return True

    def first_use_many(self, claims: Sequence[ReplayClaim], within: float | None = None) -> list[ClaimOutcome]:
        """first_use for each claim, in order."""
        return [self.first_use(c.key, c.expires, c.issued_at) for c in claims]

    def purge(self, now: datetime) -> int:
        """Forget keys that expired before `now` (decision S1); returns how many."""
        with self._lock:
            gone = [k for k, exp in self._seen.items() if exp <= now]
            for k in gone:
                del self._seen[k]
            return len(gone)
