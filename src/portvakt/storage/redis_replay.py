"""Replay cache in Redis (SET NX with an absolute expiry), for several nodes sharing one Redis.

Correct without Redis persistence (docs/security.md, Replay after a store crash): an epoch key names the Redis server
process that wrote it (its run_id) and a random value. A Redis that restarted (from an old snapshot, or empty), was
flushed, or failed over to a replica holds no epoch of its own process, so the first call after the loss sees it,
writes a new epoch and the moment of the loss (a key that expires with the loss window), and from then on every
worker of every node refuses grants issued before that moment until they have all expired. The check, the window
and the SET NX of the grant are one Lua script, and a batch of grants is one pipelined round trip.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from portvakt.domain.blocking import may_block
from portvakt.domain.clock import SystemClock
from portvakt.domain.errors import StoreUnavailable
from portvakt.domain.ports import ClaimOutcome, Clock, IssuedBeforeLoss, ReplayClaim

log = logging.getLogger("portvakt.replay")

# KEYS: 1 the epoch, 2 the moment of the last loss, 3 the grant's key.
# ARGV: 1 the grant key's expiry (epoch seconds), 2 this call's nonce, 3 a random part for a new epoch, 4 now (epoch
# seconds, rounded up), 5 the loss window (seconds), 6 the grant's iat ("" when no grant: the readiness probe).
# Returns {status, epoch, loss moment or "", 1 when this call detected the loss}; status 1 first use, 0 replay,
# 2 refused: issued before the loss. A grant key holding this call's own nonce is a first use seen again (a retry
# after a lost answer), not a replay.
_SCRIPT = """
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
local epoch = redis.call('GET', KEYS[1])
local lost = redis.call('GET', KEYS[2])
local detected = 0
if (not epoch) or string.sub(epoch, 1, #run + 1) ~= run .. ':' then
  epoch = run .. ':' .. ARGV[3]
  lost = ARGV[4]
  redis.call('SET', KEYS[1], epoch)
  redis.call('SET', KEYS[2], lost, 'EX', ARGV[5])
  detected = 1
end
if not lost then lost = '' end
if ARGV[6] ~= '' and lost ~= '' and tonumber(ARGV[6]) < tonumber(lost) then
  return {2, epoch, lost, detected}
end
if redis.call('SET', KEYS[3], ARGV[2], 'NX', 'EXAT', ARGV[1]) then
  return {1, epoch, lost, detected}
end
if redis.call('GET', KEYS[3]) == ARGV[2] then
  return {1, epoch, lost, detected}
end
return {0, epoch, lost, detected}
"""
FIRST_USE, REPLAY, BEFORE_LOSS = 1, 0, 2


class RedisReplayCache:
    """Single-use grant keys in Redis; Redis expires them itself. `window` is how long a grant may be valid
    (grant_max_lifetime + grant_max_future_iat): after a loss, grants issued before it are refused that long.

    No call waits longer than `socket_timeout` for an answer or `connect_timeout` for a connection; a lost connection
    is tried once more at once (the nonce makes that safe), a timeout never. Any failure is StoreUnavailable."""

    def __init__(self, url: str, *, window: timedelta, prefix: str = "portvakt:", clock: Clock | None = None,
                 socket_timeout: float = 0.5, connect_timeout: float = 0.5,
                 health_check_interval: float = 10) -> None:
        self._redis = redis.Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=connect_timeout,
            health_check_interval=health_check_interval,
            retry=Retry(NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,)))
        self._script = self._redis.register_script(_SCRIPT)
        self._epoch_key = f"{prefix}epoch".encode()
        self._lost_key = f"{prefix}lost".encode()
        self._jti = f"{prefix}jti:".encode()
        self._window = max(1, math.ceil(window.total_seconds()))
        self._clock: Clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._epoch: bytes | None = None  # the epoch this process saw last
        self._lost: datetime | None = None  # the latest loss it knows of

    def first_use(self, key: bytes, expires: datetime, issued_at: datetime | None = None) -> bool:
        """Check the epoch and SET key NX EXAT expires in one script: True only for the first caller; a grant issued
        before a detected loss raises IssuedBeforeLoss within the loss window."""
        outcome = self.first_use_many([ReplayClaim(key, expires, issued_at)])[0]
        if isinstance(outcome, IssuedBeforeLoss):
            raise outcome
        return outcome

    def first_use_many(self, claims: Sequence[ReplayClaim], within: float | None = None) -> list[ClaimOutcome]:
        """The script once per claim, all in one pipelined round trip (`within` is not needed: every wait is bounded
        by the socket timeouts)."""
        may_block()
        now = self._clock.now()
        outcomes: list[ClaimOutcome | None] = []
        pipe = self._redis.pipeline(transaction=False)
        for claim in claims:
            try:
                self._refuse_if_before_loss(claim.issued_at, now)
            except IssuedBeforeLoss as lost:
                outcomes.append(lost)
                continue
            outcomes.append(None)
            args: list[Any] = [int(claim.expires.timestamp()) + 1, secrets.token_hex(8), secrets.token_hex(8),
                               math.ceil(now.timestamp()), self._window,
                               "" if claim.issued_at is None else math.floor(claim.issued_at.timestamp())]
            self._script(keys=[self._epoch_key, self._lost_key, self._jti + claim.key.hex().encode()], args=args,
                         client=pipe)
        try:
            answers = iter(pipe.execute() if len(pipe) else [])
        except redis.exceptions.ResponseError as exc:  # e.g. INFO or EVALSHA not allowed by this Redis
            raise StoreUnavailable(f"the replay store refused its script: {exc}") from exc
        except redis.RedisError as exc:
            raise StoreUnavailable(f"the replay store is unavailable: {type(exc).__name__}") from exc
        return [outcome if outcome is not None else self._outcome(claim, next(answers), now)
                for claim, outcome in zip(claims, outcomes, strict=True)]

    def _outcome(self, claim: ReplayClaim, answer: Any, now: datetime) -> ClaimOutcome:
        """One script's answer: first use, replay, or the loss that refuses the claim."""
        status, epoch, lost, detected = answer
        self._observe(bytes(epoch), bytes(lost), bool(detected))
        if int(status) != BEFORE_LOSS:
            return int(status) == FIRST_USE
        try:
            self._refuse_if_before_loss(claim.issued_at, now)
        except IssuedBeforeLoss as known:
            return known
        lost_at = datetime.fromtimestamp(int(lost), UTC)  # Redis's window outlasted ours by a rounding
        return IssuedBeforeLoss(lost_at, lost_at + timedelta(seconds=self._window))

    def _refuse_if_before_loss(self, issued_at: datetime | None, now: datetime) -> None:
        """A grant issued before the latest loss this process knows of is refused, without asking Redis, while the
        loss window lasts."""
        lost = self._lost
        if issued_at is None or lost is None:
            return
        until = lost + timedelta(seconds=self._window)
        if issued_at < lost and now < until:
            raise IssuedBeforeLoss(lost, until)

    def _observe(self, epoch: bytes, lost: bytes, detected: bool) -> None:
        """Remember the epoch and the loss moment Redis answered with; say so once when either is new."""
        lost_at = datetime.fromtimestamp(int(lost), UTC) if lost else None
        with self._lock:
            changed = self._epoch is not None and epoch != self._epoch
            self._epoch = epoch
            if lost_at is None or (self._lost is not None and lost_at <= self._lost):
                return
            self._lost = lost_at
        until = lost_at + timedelta(seconds=self._window)
        if detected or changed:
            log.warning("the replay store (Redis) holds no epoch of its running server process: its data may be "
                        "lost (a restart, a flush, a failover, or its first use); grants issued before %s are "
                        "refused until %s", lost_at.isoformat(), until.isoformat())

    def purge(self, now: datetime) -> int:
        """Nothing to do: Redis drops expired keys."""
        return 0

    def close(self) -> None:
        """Close the connections to Redis."""
        self._redis.close()
