"""The portal's time sources, passed in by whoever builds it; the portal reads no clock itself (docs/decisions.md P13).

Wall time dates keys and certificates; a monotonic source times the windows that must not jump with the wall
clock (sessions, login throttling, the role refresh, the portal's own token).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

#: Seconds from an arbitrary start that never go backwards (the standard library's monotonic counter).
Monotonic = Callable[[], float]


class Clock(Protocol):
    """Wall-clock time in UTC; the domain's system and fixed clocks have this shape."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...
