"""The SMS gateway port (decision P9): send one text to one mobile number, or raise SmsFailed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

#: E.164 allows at most 15 digits (ITU-T E.164 §6); a national number without "+" needs at least 8.
_NUMBER = re.compile(r"\+?[0-9]{8,15}")
_SEPARATORS = str.maketrans("", "", " -().")


class SmsFailed(Exception):
    """Sending failed; `reason` is safe to show the person and never contains the message text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SmsMessage:
    """One message as a phone would show it; repr leaves the text out (it may carry a password)."""

    to: str
    text: str = field(repr=False)
    sent_at: datetime


class SmsGateway(Protocol):
    """Delivers SMS; implementations raise SmsFailed and never log or echo the text."""

    async def send(self, to: str, text: str) -> None:
        """Send `text` to the mobile number `to`; SmsFailed(reason) when it cannot be sent."""
        ...


def normalise_number(to: str) -> str:
    """The number without spaces, dashes, dots or brackets: "+" and 8-15 digits (ITU-T E.164)."""
    number = to.translate(_SEPARATORS) if isinstance(to, str) else ""
    if not _NUMBER.fullmatch(number):
        raise SmsFailed("the mobile number is not valid: expected 8 to 15 digits, optionally with a leading +")
    return number


def check_text(text: str) -> None:
    """Refuse an empty or oversized text (10 concatenated SMS segments at most); the text is not echoed."""
    if not isinstance(text, str) or not text.strip():
        raise SmsFailed("the message is empty")
    if len(text) > 1530:
        raise SmsFailed("the message is longer than 1530 characters")


def mask_number(to: str) -> str:
    """Show a number in logs as "+47…01": the country prefix and the last two digits only."""
    if len(to) < 8:
        return "…"
    return f"{to[:3]}…{to[-2:]}"


class NoSmsProvider:
    """The gateway of a production portal with no provider configured: every send fails, so nothing that
    depends on an SMS (a PKCS#12 and its password) is ever released unseen (decision P9)."""

    async def send(self, to: str, text: str) -> None:
        """Always SmsFailed, naming the setting to fix."""
        raise SmsFailed("no SMS provider is configured (PORTVAKT_SMS__PROVIDER=http and PORTVAKT_SMS__URL)")
