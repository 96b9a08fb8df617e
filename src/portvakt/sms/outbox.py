"""The development outbox (decision P9): messages kept in process memory only, read by /portal/dev/sms."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from .port import SmsFailed, SmsMessage, check_text, mask_number, normalise_number

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class DevOutbox:
    """An SmsGateway that keeps the newest `max_messages` in memory; for demo and development only."""

    def __init__(self, max_messages: int = 200, *, clock: Callable[[], datetime] = _utc_now) -> None:
        if max_messages < 1:
            raise ValueError("max_messages must be at least 1")
        self._messages: deque[SmsMessage] = deque(maxlen=max_messages)
        self._fail_next: str | None = None
        self._clock = clock
        self._lock = threading.Lock()

    async def send(self, to: str, text: str) -> None:
        """Queue the message, or raise the failure set by fail_next (once)."""
        number = normalise_number(to)
        check_text(text)
        with self._lock:
            reason, self._fail_next = self._fail_next, None
            if reason is None:
                self._messages.append(SmsMessage(number, text, self._clock()))
        if reason is not None:
            log.warning("SMS to %s failed in the dev outbox (as asked by fail_next)", mask_number(number))
            raise SmsFailed(reason)
        log.info("SMS to %s queued in the dev outbox", mask_number(number))

    def messages(self, to: str | None = None) -> list[SmsMessage]:
        """The kept messages, newest first; only those to `to` when given."""
        number = None if to is None else normalise_number(to)
        with self._lock:
            kept = list(self._messages)
        return [m for m in reversed(kept) if number is None or m.to == number]

    def messages_for(self, mobile: str | None) -> list[SmsMessage]:
        """The kept messages to one person's number, newest first; none when the number is missing or unreadable
        (docs/security.md, SMS outbox disclosure: a person sees only their own messages)."""
        if not mobile:
            return []
        try:
            return self.messages(mobile)
        except SmsFailed:
            return []

    def clear(self) -> None:
        """Forget every message."""
        with self._lock:
            self._messages.clear()

    def fail_next(self, reason: str = "the SMS provider is unavailable") -> None:
        """Make the next send raise SmsFailed(reason), for tests and demos of the failure path."""
        with self._lock:
            self._fail_next = reason
