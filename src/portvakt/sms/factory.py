"""Build the configured SmsGateway from settings (PORTVAKT_SMS__*)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol

from pydantic import SecretStr

from .http import HttpSmsGateway
from .outbox import DevOutbox
from .port import SmsGateway


class SmsConfig(Protocol):
    """What from_settings reads; portvakt.settings.SmsSettings has this shape (the room imports no settings)."""

    @property
    def provider(self) -> Literal["outbox", "http"]: ...
    @property
    def url(self) -> str | None: ...
    @property
    def username(self) -> str | None: ...
    @property
    def password(self) -> SecretStr | None: ...
    @property
    def bearer_token(self) -> SecretStr | None: ...
    @property
    def body_template(self) -> Mapping[str, Any]: ...
    @property
    def sender(self) -> str: ...
    @property
    def timeout_seconds(self) -> float: ...


def from_settings(s: SmsConfig) -> SmsGateway:
    """The dev outbox (provider "outbox"), or the HTTP provider (provider "http", which needs a URL)."""
    if s.provider == "outbox":
        return DevOutbox()
    if s.provider != "http":
        raise ValueError(f"unknown SMS provider {s.provider!r}: expected outbox or http")
    if not s.url:
        raise ValueError("the http SMS provider needs a URL (PORTVAKT_SMS__URL)")
    return HttpSmsGateway(s.url, username=s.username, password=s.password, bearer_token=s.bearer_token,
                          body_template=s.body_template, sender=s.sender or None, timeout=s.timeout_seconds)
