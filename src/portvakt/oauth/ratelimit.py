"""Rate limits of the token endpoint, framework-free: the counter port, a GCRA counter in process memory, and the
OAuth error of a refusal (docs/security.md, Token flood; RFC 6585 §4).

A limit gives each key `per` slots a `window` (seconds). The counter is the generic cell rate algorithm: per key one
number, the theoretical arrival time (TAT); a slot is taken by moving it on by `window / per`, and a request is
refused while that would put it more than `window` ahead of now. So a quiet key may send `per` requests at once,
and after that one every `window / per` seconds; the wait it is told is exactly the time until its next slot.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Protocol

from .errors import OAuthError

#: One limit on one key: (key, slots per window, window in seconds).
Limit = tuple[str, int, float]
#: One admit's keys: those to charge, and those only checked.
Admission = tuple[Sequence[Limit], Sequence[Limit]]


class RateCounter(Protocol):
    """Where the slots are counted: this process's memory (Gcra) or a store shared by every node (Redis)."""

    def admit(self, charge: Sequence[Limit], check: Sequence[Limit] = ()) -> float:
        """When a key of `charge` or `check` has no free slot, the seconds until one frees, charging nothing; else
        take one slot of every `charge` key and return 0. A shared store raises OSError when it can't answer."""
        ...

    def charge(self, limits: Sequence[Limit]) -> None:
        """Take one slot of every key, free or not: it was spent (a token was issued)."""
        ...

    def admit_all(self, admits: Sequence[Admission], charges: Sequence[Sequence[Limit]] = ()) -> list[float]:
        """`admit(charge, check)` for each of `admits`, in order, then `charge` for each of `charges`: one round trip
        for a shared store (each step still atomic on its own). Raises OSError as admit does."""
        ...


class Gcra:
    """A RateCounter in process memory: one float per key, at most `max_keys` keys (the least recently used go
    first, which only forgets a key's count); safe to share between the event loop and worker threads."""

    def __init__(self, *, now: Callable[[], float] = time.monotonic, max_keys: int = 200_000) -> None:
        self._now = now
        self._max = max_keys
        self._tat: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, charge: Sequence[Limit], check: Sequence[Limit] = ()) -> float:
        """RateCounter.admit, in memory."""
        with self._lock:
            now = self._now()
            wait = 0.0
            for key, per, window in (*charge, *check):
                tat = self._tat.get(key, now)
                wait = max(wait, max(tat, now) + window / per - now - window)
            if wait > 0:
                return wait
            for key, per, window in charge:
                self._take(key, per, window, now)
            return 0.0

    def charge(self, limits: Sequence[Limit]) -> None:
        """RateCounter.charge, in memory."""
        with self._lock:
            now = self._now()
            for key, per, window in limits:
                self._take(key, per, window, now)

    def admit_all(self, admits: Sequence[Admission], charges: Sequence[Sequence[Limit]] = ()) -> list[float]:
        """RateCounter.admit_all, in memory: one admit after the other, then the charges."""
        waits = [self.admit(charge, check) for charge, check in admits]
        for limits in charges:
            self.charge(limits)
        return waits

    def _take(self, key: str, per: int, window: float, now: float) -> None:
        """Move the key's TAT on by one slot (from now, if it lies in the past); the caller holds the lock."""
        self._tat[key] = max(self._tat.get(key, now), now) + window / per
        self._tat.move_to_end(key)
        while len(self._tat) > self._max:
            self._tat.popitem(last=False)


class SlowDownError(OAuthError):
    """429 `slow_down`: the caller sends more than its limit (RFC 6585 §4; the error value of RFC 8628 §3.5, which
    the IANA OAuth Extensions Error registry lists for the token endpoint); docs/protocol.md §1.5 MP-429."""

    error = "slow_down"
    status = 429
