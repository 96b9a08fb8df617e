"""Login throttling (OWASP Authentication: limit failed attempts per account and per source address).

An attempt is counted when it is admitted, before its password is checked, so that attempts sent at once
cannot all pass the check while none has failed yet (docs/security.md, Login brute force). A success takes
its count back; so does an attempt whose password was never checked (the Altinn side busy or down).
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque

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


class LoginLimiter:
    """Per-username and per-client-IP failure windows; either one locked refuses the login."""

    def __init__(self, per_user: int, per_ip: int, window: float, *, now: Monotonic) -> None:
        self._users = FailureWindow(per_user, window, now=now)
        self._ips = FailureWindow(per_ip, window, now=now)

    @staticmethod
    def _user(username: str) -> str:
        return username.strip().casefold()[:200]

    def retry_after(self, username: str, ip: str) -> int:
        """Seconds until this username from this address may try again; 0 if allowed now."""
        return max(self._users.retry_after(self._user(username)), self._ips.retry_after(ip))

    def admit(self, username: str, ip: str) -> int:
        """Count this attempt as a failure now, before the password is checked; or, if either window is full,
        count nothing and return the seconds to wait (docs/security.md, Login brute force)."""
        wait = self.retry_after(username, ip)
        if not wait:
            self.failed(username, ip)
        return wait

    def failed(self, username: str, ip: str) -> None:
        """Count a failed login against both."""
        self._users.fail(self._user(username))
        self._ips.fail(ip)

    def unchecked(self, username: str, ip: str) -> None:
        """Take back an admitted attempt whose password was never checked (the Altinn side busy or down)."""
        self._users.take_back(self._user(username))
        self._ips.take_back(ip)

    def succeeded(self, username: str, ip: str | None = None) -> None:
        """A successful login clears the username's failures, and takes back its own count on the address."""
        self._users.clear(self._user(username))
        if ip is not None:
            self._ips.take_back(ip)
