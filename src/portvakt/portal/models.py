"""What the portal derives from the APIs' answers: a key's state, a person's organisations and roles, a text in
the page's language; and the notice a page shows after a change.

The answers' shapes are the wire room's (portvakt.wire), the same models the APIs answer with; this module
only reads them (docs/decisions.md W1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from portvakt.wire.altinn import LanguagesOut, PersonOut
from portvakt.wire.clients import JwkOut
from portvakt.wire.vocabulary import PortalRole

#: A key this close to its expiry is shown as expiring.
EXPIRING_WITHIN = timedelta(days=30)


class KeyState(StrEnum):
    """How a key (or a system's key set) stands for getting tokens."""

    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    NONE = "none"


def expiry(key: JwkOut) -> datetime:
    """A registered key's expiry (`exp`, unix seconds, docs/protocol.md §3.3) as a UTC time."""
    return datetime.fromtimestamp(key.exp, UTC)


def state_of(key: JwkOut, now: datetime) -> KeyState:
    """Expired, expiring within 30 days, or valid."""
    expires = expiry(key)
    if expires <= now:
        return KeyState.EXPIRED
    return KeyState.EXPIRING if expires - now <= EXPIRING_WITHIN else KeyState.VALID


def key_set_state(keys: Sequence[JwkOut], now: datetime) -> KeyState:
    """The best state of a set: one valid key is enough to get tokens."""
    states = {state_of(k, now) for k in keys}
    for state in (KeyState.VALID, KeyState.EXPIRING, KeyState.EXPIRED):
        if state in states:
            return state
    return KeyState.NONE


def live_keys(keys: Sequence[JwkOut], now: datetime) -> list[JwkOut]:
    """The keys that have not expired."""
    return [k for k in keys if state_of(k, now) is not KeyState.EXPIRED]


def public_jwk(key: JwkOut) -> dict[str, Any]:
    """The public JWK as registered, without the server-set `exp` (to post the set again, docs/protocol.md §3.3)."""
    return key.model_dump(mode="json", exclude={"exp"}, exclude_none=True)


def organisations(person: PersonOut) -> dict[str, str]:
    """orgno -> name of every organisation the person holds a role for, in the order given (decision P2)."""
    return {r.orgno: r.org_name for r in person.roles}


def roles_for(person: PersonOut, orgno: str) -> frozenset[PortalRole]:
    """The person's roles for one organisation (decision P2)."""
    return frozenset(r.role for r in person.roles if r.orgno == orgno)


def shown(text: LanguagesOut, language: str) -> str:
    """A text of the Altinn side in the page's language, falling back to Bokmål (then any text there is)."""
    wanted = text.en if language == "en" else text.nb
    return wanted or text.nb or text.nn or text.en or ""


@dataclass(frozen=True)
class Notice:
    """A success message a page shows after a change: a catalogue key and its values."""

    key: str
    values: dict[str, str]
