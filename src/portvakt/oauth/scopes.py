"""Scope and access checks of the token request (docs/protocol.md §7 steps 8 and 10, §4.2)."""

from __future__ import annotations

from dataclasses import dataclass

from portvakt.domain.models import Client, Scope

from . import mp_codes as mp
from .catalog import Catalog
from .delegation import DelegationLookup, DelegationUnavailable


@dataclass(frozen=True, slots=True)
class AccessDecision:
    """Who consumes the token, who supplies it, and the scopes' smallest at_max_age."""

    consumer_orgno: str
    supplier_orgno: str | None
    delegation_source: str | None
    max_age: int


def registered_scopes(catalog: Catalog, client: Client, requested: tuple[str, ...]) -> list[Scope]:
    """MP-200: each scope is on the client and active; MP-201: allowed for its integration type."""
    found: list[Scope] = []
    for name in requested:
        scope = catalog.scope(name) if name in client.scopes else None
        if scope is None or not scope.active:
            raise mp.MP200(name)
        if not scope.allows(client.integration_type):
            raise mp.MP201(name)
        found.append(scope)
    return found


def own_access(catalog: Catalog, client: Client, scopes: list[Scope]) -> AccessDecision:
    """docs/protocol.md §7 step 10: owner, accessible_for_all, or APPROVED access, else MP-250 (403)."""
    consumer = client.client_orgno
    for s in scopes:
        if not (s.owner_orgno == consumer or s.accessible_for_all or catalog.has_approved_access(s.name, consumer)):
            raise mp.MP250(s.name)
    return AccessDecision(consumer, client.supplier_orgno, None, _max_age(scopes))


def delegated_access(catalog: Catalog, delegations: DelegationLookup, client: Client, scopes: list[Scope],
                     consumer: str) -> AccessDecision:
    """docs/protocol.md §4.2: not the own org, scope delegable, consumer has access (MP-250), delegation exists
    (MP-251)."""
    supplier = client.client_orgno
    if consumer == supplier:
        raise mp.MP260()
    for s in scopes:
        if not s.delegation_source:
            raise mp.MP261(s.name)
    for s in scopes:
        if not (s.accessible_for_all or s.owner_orgno == consumer or catalog.has_approved_access(s.name, consumer)):
            raise mp.MP250(s.name)
    for s in scopes:
        try:
            delegated = delegations.has_delegation(consumer, supplier, s.name)
        except DelegationUnavailable as exc:
            raise mp.MP290(detail=str(exc)) from exc
        if not delegated:
            raise mp.MP251(f"{consumer} has not delegated access to the scope {s.name} to supplier {supplier}")
    sources = {s.delegation_source for s in scopes}
    return AccessDecision(consumer, supplier, sorted(s for s in sources if s)[0], _max_age(scopes))


def _max_age(scopes: list[Scope]) -> int:
    """docs/protocol.md §2.3: the lowest non-zero at_max_age of the scopes (0 = none set)."""
    ages = [s.at_max_age for s in scopes if s.at_max_age > 0]
    return min(ages) if ages else 0
