"""The port through which the token service finds a customer's system user (docs/protocol.md §6.5), and its
change-feed cache for a lookup on the same database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from portvakt.domain.changes import SYSTEM_KIND, SYSTEM_USER_KIND

from .guarded_cache import GuardedCache


@dataclass(frozen=True, slots=True)
class FoundSystemUser:
    """The system user a grant's `authorization_details` named (docs/protocol.md §6.5): what the token carries."""

    system_user_id: str
    system_id: str
    owner_orgno: str
    external_ref: str


class SystemUserUnavailable(Exception):
    """The system-user source could not answer; system-user grants fail closed (docs/protocol.md §6.5)."""


class SystemUserLookup(Protocol):
    """Answers find_system_user(client_id, vendor_orgno, owner_orgno, external_ref); None when there is none;
    raises SystemUserUnavailable when it cannot answer."""

    def find_system_user(self, client_id: str, vendor_orgno: str, owner_orgno: str,
                         external_ref: str) -> FoundSystemUser | None: ...


#: One owner's remembered answers: (client_id, vendor_orgno, external_ref) -> the system user, or None.
_Answers = dict[tuple[str, str, str], FoundSystemUser | None]


class CachedSystemUserLookup:
    """Remembers the answers of a lookup on the same database until the change feed says they changed.

    The Altinn side records a system user's change under SYSTEM_USER_KIND keyed by its owner's orgno, and every
    change of a system (its client ids, its deletion) under SYSTEM_KIND (domain/changes.py). Feed this cache's
    `on_change` from the registry cache: a system-user change drops that owner's answers, a system change drops
    them all. Answers of "none" are remembered too (the change that would make one appear drops them); failures
    never. Bounded twice: at most `max_owners` owners (the oldest go first) and `per_owner` answers each, since
    the external reference in a grant is the caller's choice.
    """

    def __init__(self, inner: SystemUserLookup, *, max_owners: int = 20_000, per_owner: int = 32) -> None:
        if max_owners < 1 or per_owner < 1:
            raise ValueError("max_owners and per_owner must be at least 1")
        self._inner = inner
        self._per_owner = per_owner
        self._owners: GuardedCache[str, _Answers] = GuardedCache(max_entries=max_owners)

    def find_system_user(self, client_id: str, vendor_orgno: str, owner_orgno: str,
                         external_ref: str) -> FoundSystemUser | None:
        """docs/protocol.md §6.5: the remembered answer, else the inner lookup's (SystemUserUnavailable passes)."""
        key = (client_id, vendor_orgno, external_ref)
        known = self._owners.peek(owner_orgno)
        if known is not None and key in known:
            return known[key]
        ticket = self._owners.ticket()
        found = self._inner.find_system_user(client_id, vendor_orgno, owner_orgno, external_ref)
        self._owners.keep(ticket, owner_orgno, lambda old: self._with(old, key, found))
        return found

    def _with(self, old: _Answers | None, key: tuple[str, str, str], found: FoundSystemUser | None) -> _Answers:
        """The owner's answers with this one added; a full set starts over, so one owner stays bounded."""
        kept = dict(old) if old is not None and len(old) < self._per_owner else {}
        kept[key] = found
        return kept

    def on_change(self, kind: str, key: str) -> None:
        """A change-feed entry: forget what it may have changed."""
        if kind == SYSTEM_KIND:
            self._owners.forget_all()
        elif kind == SYSTEM_USER_KIND:
            self._owners.forget(key)
