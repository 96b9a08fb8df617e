"""The main menu: one entry per page family, shown only to people holding the role it needs.

Pages for other roles (the access manager's delegations, the API provider admin's scopes) add their
entry with `register`; the menu never links to a page that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from portvakt.wire.vocabulary import PortalRole


@dataclass(frozen=True)
class NavEntry:
    """A menu entry: the role it needs, the path below the portal, and its catalogue key."""

    role: PortalRole
    path: str
    label: str


@dataclass(frozen=True)
class NavItem:
    """A rendered menu entry."""

    href: str
    label: str
    current: bool


ENTRIES: list[NavEntry] = [NavEntry(PortalRole.INTEGRATION_RESPONSIBLE, "/systems", "nav.systems"),
                           NavEntry(PortalRole.ACCESS_MANAGER, "/delegations", "nav.delegations"),
                           NavEntry(PortalRole.ACCESS_MANAGER, "/systemusers", "nav.systemusers"),
                           NavEntry(PortalRole.API_ADMIN, "/scopes", "nav.scopes")]


def register(entry: NavEntry) -> None:
    """Add a menu entry (once) for a page family."""
    if entry not in ENTRIES:
        ENTRIES.append(entry)


def entries_for(roles: frozenset[PortalRole]) -> list[NavEntry]:
    """The entries a person with these roles may use."""
    return [e for e in ENTRIES if e.role in roles]
