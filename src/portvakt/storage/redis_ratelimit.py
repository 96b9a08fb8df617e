"""Rate-limit counts in Redis, shared by every node: the slots of /token (GCRA) and the portal's failed logins (a
sliding log), each call one round trip of one Lua script (docs/security.md, Token flood and Login brute force).

Time is Redis's own (TIME inside the script), so the nodes' clocks need not agree, and a script runs atomically, so
two nodes can't both take the last slot. Keys are hashed (a username never lands in Redis) under one prefix.

Redis protects no security rule here, only capacity (and the login limit, which each node also keeps itself): a call
that fails or passes the socket timeout raises CountsUnavailable (an OSError), and the caller counts in its own
memory. For RETRY_SECONDS after a failure every call raises at once without asking, so a Redis that does not answer
costs one timeout per interval, not one per request; the failure is logged once per LOG_EVERY seconds.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger("portvakt.ratelimit")
RETRY_SECONDS = 5.0
LOG_EVERY = 60.0
T = TypeVar("T")

# KEYS: the keys to charge, then the keys only checked. ARGV[1]: how many to charge; then for each key its slot
# interval and its window, in microseconds. Returns 0 (charged), or the microseconds until a slot frees.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local charged = tonumber(ARGV[1])
local wait = 0
local tats = {}
for i, key in ipairs(KEYS) do
  local interval, window = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  tats[i] = tat + interval
  local over = tats[i] - now - window
  if over > wait then wait = over end
end
if wait > 0 and ARGV[#ARGV] ~= 'force' then return math.ceil(wait) end
for i = 1, charged do
  redis.call('SET', KEYS[i], string.format('%.0f', tats[i]), 'PX', math.ceil((tats[i] - now) / 1000))
end
return 0
"""

# KEYS: the failure logs. ARGV: the mode ('wait', 'admit' or 'record'), the window in microseconds, a member unique
# to this attempt, then each key's limit. Returns 0 (recorded, or not locked), or the microseconds until the oldest
# failure that locks a key ages out.
_FAILURES = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local mode, window, member = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[3 + i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.0f', now - window))
  if mode ~= 'record' and redis.call('ZCARD', key) >= limit then
    local locking = redis.call('ZRANGE', key, -limit, -limit, 'WITHSCORES')
    local w = tonumber(locking[2]) + window - now
    if w > wait then wait = w end
  end
end
if mode == 'wait' or wait > 0 then return math.ceil(wait) end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, string.format('%.0f', now), member)
  redis.call('ZREMRANGEBYRANK', key, 0, -(tonumber(ARGV[3 + i]) + 1))
  redis.call('PEXPIRE', key, math.ceil(window / 1000))
end
return 0
"""


class CountsUnavailable(ConnectionError):
    """Redis did not answer in time (or recently): count in this process's memory instead."""


def _micros(seconds: float) -> int:
    return max(1, round(seconds * 1_000_000))


class RedisRateLimits:
    """The shared counts: `admit`/`charge` are oauth.ratelimit.RateCounter's (for /token), the `*_failure(s)` methods
    portal.ratelimit.SharedFailures' (for the login throttle). Every method raises CountsUnavailable when Redis
    can't answer within `timeout` seconds."""

    def __init__(self, url: str, *, timeout: float, prefix: str = "portvakt:rl:",
                 now: Callable[[], float] = time.monotonic) -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                           retry=Retry(NoBackoff(), 0), retry_on_timeout=False)
        self._prefix = prefix
        self._now = now
        self._gcra = self._redis.register_script(_GCRA)
        self._failures = self._redis.register_script(_FAILURES)
        self._down_until = 0.0
        self._logged = -LOG_EVERY
        self._down = False

    def _key(self, name: str) -> str:
        return self._prefix + hashlib.blake2b(name.encode(), digest_size=16).hexdigest()

    def _call(self, what: Callable[[], T]) -> T:
        """One round trip, or CountsUnavailable: at once while a recent failure holds, else after the timeout."""
        now = self._now()
        if now < self._down_until:
            raise CountsUnavailable("Redis failed within the last few seconds")
        try:
            result = what()
        except (redis.RedisError, OSError) as exc:
            self._down_until = now + RETRY_SECONDS
            self._down = True
            if now - self._logged >= LOG_EVERY:
                self._logged = now
                log.warning("Redis for the shared rate limits did not answer (%s): each node counts alone until it "
                            "does; asking again every %.0f s", type(exc).__name__, RETRY_SECONDS)
            raise CountsUnavailable(type(exc).__name__) from None
        if self._down:
            self._down = False
            log.warning("Redis for the shared rate limits answers again: the limits are shared again")
        return result

    def _gcra_call(self, charge: Sequence[tuple[str, int, float]], check: Sequence[tuple[str, int, float]],
                   mode: str) -> float:
        keys, args = self._gcra_args(charge, check, mode)
        return int(self._call(lambda: self._gcra(keys=keys, args=args))) / 1_000_000

    def _gcra_args(self, charge: Sequence[tuple[str, int, float]], check: Sequence[tuple[str, int, float]],
                   mode: str) -> tuple[list[str], list[Any]]:
        keys = [self._key(k) for k, _, _ in (*charge, *check)]
        args: list[Any] = [len(charge)]
        for _, per, window in (*charge, *check):
            args += [_micros(window / per), _micros(window)]
        args.append(mode)
        return keys, args

    def admit_all(self, admits: Sequence[tuple[Sequence[tuple[str, int, float]], Sequence[tuple[str, int, float]]]],
                  charges: Sequence[Sequence[tuple[str, int, float]]] = ()) -> list[float]:
        """oauth.ratelimit.RateCounter.admit_all: every script of the batch in one pipelined round trip."""
        pipe = self._redis.pipeline(transaction=False)
        for charge, check in admits:
            keys, args = self._gcra_args(charge, check, "admit")
            self._gcra(keys=keys, args=args, client=pipe)
        for limits in charges:
            keys, args = self._gcra_args(limits, (), "force")
            self._gcra(keys=keys, args=args, client=pipe)
        if not len(pipe):
            return []
        answers = self._call(pipe.execute)
        return [int(a) / 1_000_000 for a in answers[:len(admits)]]

    def admit(self, charge: Sequence[tuple[str, int, float]], check: Sequence[tuple[str, int, float]] = ()) -> float:
        """oauth.ratelimit.RateCounter.admit: all keys checked, and charged, atomically across nodes."""
        return self._gcra_call(charge, check, "admit")

    def charge(self, limits: Sequence[tuple[str, int, float]]) -> None:
        """oauth.ratelimit.RateCounter.charge: take a slot of every key, free or not."""
        self._gcra_call(limits, (), "force")

    def _failure_call(self, mode: str, limits: Sequence[tuple[str, int]], window: float) -> float:
        keys = [self._key(k) for k, _ in limits]
        args: list[Any] = [mode, _micros(window), os.urandom(9).hex(), *(n for _, n in limits)]
        return int(self._call(lambda: self._failures(keys=keys, args=args))) / 1_000_000

    def failure_wait(self, limits: Sequence[tuple[str, int]], window: float) -> float:
        """Seconds until none of the keys holds its limit of failures in the window; 0 if none does."""
        return self._failure_call("wait", limits, window)

    def admit_failure(self, limits: Sequence[tuple[str, int]], window: float) -> float:
        """If no key holds its limit, record one failure on each and return 0; else the seconds to wait, recording
        nothing. Atomic across nodes, so parallel attempts can't all pass."""
        return self._failure_call("admit", limits, window)

    def record_failure(self, limits: Sequence[tuple[str, int]], window: float) -> None:
        """Record one failure on each key, locked or not."""
        self._failure_call("record", limits, window)

    def take_back_failure(self, keys: Sequence[str]) -> None:
        """Remove the newest failure of each key (an attempt that was not a failure after all)."""
        names = [self._key(k) for k in keys]

        def pop() -> None:
            pipe = self._redis.pipeline(transaction=False)
            for name in names:
                pipe.zpopmax(name)
            pipe.execute()

        self._call(pop)

    def forget_failures(self, keys: Sequence[str]) -> None:
        """Forget every failure of these keys (a successful login)."""
        names = [self._key(k) for k in keys]
        self._call(lambda: self._redis.delete(*names))

    def close(self) -> None:
        """Close the connections."""
        self._redis.close()
