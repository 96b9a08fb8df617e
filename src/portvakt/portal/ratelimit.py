"""Login throttling (OWASP Authentication: limit failed attempts per account and per source address).

An attempt is counted when it is admitted, before its password is checked, so that attempts sent at once
cannot all pass the check while none has failed yet (docs/security.md, Login brute force). A success takes
its count back; so does an attempt whose password was never checked (the Altinn side busy or down).

With several portal nodes the counts are shared (SharedFailures, Redis when PORTVAKT_REDIS_URL is set, injected by
the composition root), so a brute force spread over the nodes is stopped as if it hit one. Each node keeps its own
windows as well; while the shared store can't answer, those decide alone.
"""

from __future__ import annotations

import contextlib
import math
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from typing import Protocol

from .clock import Monotonic


class FailureWindow:
    """Failures per key within a sliding window; a key with `limit` failures is locked until the oldest ages out."""

    def __init__(self, limit: int, window: float, *, now: Monotonic, max_keys: int = 100_000) -> None:
        self._limit, self._window, self._max = limit, window, max_keys
        self._now = now
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float]:
        """The key's failures still inside the window (older ones dropped)."""
        found = self._failures.get(key)
        if found is None:
            return deque()
        while found and now - found[0] >= self._window:
            found.popleft()
        if not found:
            del self._failures[key]
        return found

    def retry_after(self, key: str) -> int:
        """Seconds until the key may try again; 0 if it is not locked."""
        now = self._now()
        recent = self._recent(key, now)
        if len(recent) < self._limit:
            return 0
        return max(1, math.ceil(recent[-self._limit] + self._window - now))

    def fail(self, key: str) -> None:
        """Record one failure."""
        now = self._now()
        recent = self._recent(key, now)
        if key not in self._failures:
            while len(self._failures) >= self._max:
                self._failures.popitem(last=False)
            self._failures[key] = recent
        recent.append(now)
        self._failures.move_to_end(key)
        while len(recent) > self._limit:
            recent.popleft()

    def take_back(self, key: str) -> None:
        """Remove the newest entry: an admitted attempt that turned out not to be a failure."""
        found = self._failures.get(key)
        if found:
            found.pop()
        if found is not None and not found:
            del self._failures[key]

    def clear(self, key: str) -> None:
        """Forget a key's failures (after a successful login)."""
        self._failures.pop(key, None)


class SharedFailures(Protocol):
    """Failure logs that every portal node shares (storage.redis_ratelimit.RedisRateLimits has this shape); each
    method raises OSError when the store can't answer in time."""

    def failure_wait(self, limits: Sequence[tuple[str, int]], window: float) -> float:
        """Seconds until no key holds its limit of failures within the window; 0 if none does."""
        ...

    def admit_failure(self, limits: Sequence[tuple[str, int]], window: float) -> float:
        """Atomically: if no key holds its limit, record one failure on each and return 0; else the seconds to
        wait."""
        ...

    def record_failure(self, limits: Sequence[tuple[str, int]], window: float) -> None:
        """Record one failure on each key."""
        ...

    def take_back_failure(self, keys: Sequence[str]) -> None:
        """Remove each key's newest failure."""
        ...

    def forget_failures(self, keys: Sequence[str]) -> None:
        """Forget the keys' failures."""
        ...


def _seconds(wait: float) -> int:
    """A wait as Retry-After's whole seconds: at least 1 when there is any."""
    return max(1, math.ceil(wait)) if wait > 0 else 0


class LoginLimiter:
    """Per-username and per-client-IP failure windows; either one locked refuses the login. With `shared`, the
    counts of every node decide, and this node's own windows only while those can't answer (docs/security.md,
    Login brute force)."""

    def __init__(self, per_user: int, per_ip: int, window: float, *, now: Monotonic,
                 shared: SharedFailures | None = None) -> None:
        self._users = FailureWindow(per_user, window, now=now)
        self._ips = FailureWindow(per_ip, window, now=now)
        self._per_user, self._per_ip, self._window = per_user, per_ip, window
        self._shared = shared

    @staticmethod
    def _user(username: str) -> str:
        return username.strip().casefold()[:200]

    def _keys(self, username: str, ip: str) -> list[tuple[str, int]]:
        """The shared store's keys and limits of this username and address."""
        return [("login:user:" + self._user(username), self._per_user), ("login:ip:" + ip, self._per_ip)]

    def _local_wait(self, username: str, ip: str) -> int:
        return max(self._users.retry_after(self._user(username)), self._ips.retry_after(ip))

    def retry_after(self, username: str, ip: str) -> int:
        """Seconds until this username from this address may try again; 0 if allowed now."""
        if self._shared is not None:
            try:
                return _seconds(self._shared.failure_wait(self._keys(username, ip), self._window))
            except OSError:
                pass  # the shared store is down: this node's own windows decide
        return self._local_wait(username, ip)

    def admit(self, username: str, ip: str) -> int:
        """Count this attempt as a failure now, before the password is checked; or, if either window is full,
        count nothing and return the seconds to wait (docs/security.md, Login brute force). With shared counts
        those decide, atomically across nodes; this node's own windows count along, and decide while the shared
        store can't answer."""
        wait = self._shared_admit(username, ip)
        if wait is None:
            wait = self._local_wait(username, ip)
        if not wait:
            self._users.fail(self._user(username))
            self._ips.fail(ip)
        return wait

    def _shared_admit(self, username: str, ip: str) -> int | None:
        """The shared counts' answer to admit (the attempt recorded there when 0); None without them, or when
        they can't answer."""
        if self._shared is None:
            return None
        try:
            return _seconds(self._shared.admit_failure(self._keys(username, ip), self._window))
        except OSError:
            return None

    def failed(self, username: str, ip: str) -> None:
        """Count a failed login against both."""
        self._users.fail(self._user(username))
        self._ips.fail(ip)
        self._on_shared(lambda s: s.record_failure(self._keys(username, ip), self._window))

    def unchecked(self, username: str, ip: str) -> None:
        """Take back an admitted attempt whose password was never checked (the Altinn side busy or down)."""
        self._users.take_back(self._user(username))
        self._ips.take_back(ip)
        self._on_shared(lambda s: s.take_back_failure([k for k, _ in self._keys(username, ip)]))

    def succeeded(self, username: str, ip: str | None = None) -> None:
        """A successful login clears the username's failures, and takes back its own count on the address."""
        self._users.clear(self._user(username))
        if ip is not None:
            self._ips.take_back(ip)
        user_key, ip_key = (k for k, _ in self._keys(username, ip or ""))
        self._on_shared(lambda s: s.forget_failures([user_key]))
        if ip is not None:
            self._on_shared(lambda s: s.take_back_failure([ip_key]))

    def _on_shared(self, change: Callable[[SharedFailures], None]) -> None:
        """Apply a change to the shared counts too; a store that is down misses it (its entries age out)."""
        if self._shared is not None:
            with contextlib.suppress(OSError):
                change(self._shared)
