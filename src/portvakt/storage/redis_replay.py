"""Replay cache in Redis (SET NX with an absolute expiry), for several nodes sharing one Redis."""

from __future__ import annotations

from datetime import datetime

import redis


class RedisReplayCache:
    """Single-use grant keys in Redis; Redis expires them itself."""

    def __init__(self, url: str, prefix: str = "portvakt:jti:") -> None:
        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix.encode()

    def first_use(self, key: bytes, expires: datetime) -> bool:
        """SET key NX EXAT expires: True only for the first caller."""
        return bool(self._redis.set(self._prefix + key.hex().encode(), b"1", nx=True,
                                    exat=int(expires.timestamp()) + 1))

    def purge(self, now: datetime) -> int:
        """Nothing to do: Redis drops expired keys."""
        return 0
