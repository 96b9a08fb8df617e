"""Scopes and access-list entries as /api/v1 answers (docs/protocol.md §3.4 scope model and ACL entry)."""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from .base import WireModel
from .vocabulary import AccessState, Visibility

SELF_CONTAINED: Final = "SELF_CONTAINED"  # the only token type portvakt issues (docs/protocol.md §3.4)


class ScopeOut(WireModel):
    """A scope (docs/protocol.md §3.4 scope model)."""

    name: str
    prefix: str
    subscope: str
    description: str
    long_description: str
    visibility: Visibility
    token_type: Literal["SELF_CONTAINED"] = SELF_CONTAINED
    at_max_age: int
    allowed_integration_types: list[str]
    accessible_for_all: bool
    delegation_source: str | None
    active: bool
    owner_orgno: str
    created: datetime
    last_updated: datetime


class AccessOut(WireModel):
    """An access-list entry (docs/protocol.md §3.4 ACL entry, digdirator ConsumerRegistration)."""

    scope: str
    state: AccessState
    prefix: str
    created: datetime
    consumer_orgno: str
    last_updated: datetime
    owner_orgno: str
