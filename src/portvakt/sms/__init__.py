"""The SMS room (decision P9): a gateway port, a development outbox and an HTTP provider.

It imports httpx, pydantic and the standard library only; no other portvakt room.
"""

from .factory import SmsConfig, from_settings
from .http import HttpSmsGateway, render_body
from .outbox import DevOutbox
from .port import NoSmsProvider, SmsFailed, SmsGateway, SmsMessage, mask_number, normalise_number

__all__ = [
    "DevOutbox",
    "HttpSmsGateway",
    "NoSmsProvider",
    "SmsConfig",
    "SmsFailed",
    "SmsGateway",
    "SmsMessage",
    "from_settings",
    "mask_number",
    "normalise_number",
    "render_body",
]
