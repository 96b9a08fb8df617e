"""Scope, access and system-user checks of the token request (docs/protocol.md §7 steps 8, 10 and 11, §4.2, §6.5):
what they decide is the TokenGrant the token is minted from."""

from __future__ import annotations

from portvakt.domain.models import PRIVATE_KEY_JWT, Client, Scope

from . import mp_codes as mp
from .authorization_details import SystemUserDetails
from .delegation import DelegationLookup, DelegationUnavailable
from .grant import JWTBearerGrant
from .minter import TokenGrant
from .registry_cache import RegistryCache
from .systemuser import FoundSystemUser, SystemUserLookup, SystemUserUnavailable


def token_grant(registry: RegistryCache, delegations: DelegationLookup, client: Client,
                grant: JWTBearerGrant, client_amr: str = PRIVATE_KEY_JWT,
                system_users: SystemUserLookup | None = None) -> TokenGrant:
    """docs/protocol.md §7 steps 8, 10 and 11: the client's scopes, then the consumer's access (or the delegation),
    then the system user the grant asks for (with the vendor, the client's owner, as the consumer)."""
    scopes = registered_scopes(registry, client, grant.scopes)
    consumer_orgno = grant.consumer_orgno
    system_user = None
    if grant.system_user is not None:
        consumer_orgno, supplier_orgno, source = client.client_orgno, None, None
        check_access(registry, scopes, consumer_orgno)
        system_user = find_system_user(system_users, client, grant.system_user)
    elif consumer_orgno is None:
        consumer_orgno, supplier_orgno, source = client.client_orgno, client.supplier_orgno, None
        check_access(registry, scopes, consumer_orgno)
    else:
        supplier_orgno = client.client_orgno
        source = check_delegation(registry, delegations, scopes, consumer_orgno, supplier_orgno)
    return TokenGrant(client_id=client.client_id, client_orgno=client.client_orgno, client_amr=client_amr,
                      scopes=grant.scopes, consumer_orgno=consumer_orgno, supplier_orgno=supplier_orgno,
                      delegation_source=source, audience=grant.resource, pid=grant.pid,
                      lifetime=client.access_token_lifetime, max_ages=tuple(s.at_max_age for s in scopes),
                      system_user=system_user)


def find_system_user(lookup: SystemUserLookup | None, client: Client, asked: SystemUserDetails) -> FoundSystemUser:
    """docs/protocol.md §6.5 and §7 step 11: the owner's system user of a system of this vendor that lists this
    client, with the grant's externalRef (else the owner's orgno); none is MP-303, no answer MP-292 (fail closed)."""
    ref = asked.lookup_ref
    try:
        if lookup is None:
            raise SystemUserUnavailable("no system-user lookup is configured")
        found = lookup.find_system_user(client.client_id, client.client_orgno, asked.owner_orgno, ref)
    except SystemUserUnavailable as exc:
        raise mp.MP292(detail=str(exc)) from exc
    if found is None:
        raise mp.MP303_NOT_FOUND(
            f": {asked.owner_orgno} has no system user for a system of {client.client_orgno} that lists this "
            f"client_id, with externalRef {ref[:80]!r}",
            detail=f"client_id={client.client_id} owner={asked.owner_orgno}")
    return found


def registered_scopes(registry: RegistryCache, client: Client, requested: tuple[str, ...]) -> list[Scope]:
    """MP-200: each scope is on the client and active; MP-201: allowed for its integration type."""
    found: list[Scope] = []
    for name in requested:
        scope = registry.scope(name) if name in client.scopes else None
        if scope is None or not scope.active:
            raise mp.MP200(name)
        if not scope.allows(client.integration_type):
            raise mp.MP201(name)
        found.append(scope)
    return found


def check_access(registry: RegistryCache, scopes: list[Scope], consumer_orgno: str) -> None:
    """docs/protocol.md §7 step 10: the consumer owns each scope, or it is accessible_for_all, or the consumer has
    APPROVED access; else MP-250 (403)."""
    for s in scopes:
        if not (s.owner_orgno == consumer_orgno or s.accessible_for_all
                or registry.has_approved_access(s.name, consumer_orgno)):
            raise mp.MP250(s.name)


def check_delegation(registry: RegistryCache, delegations: DelegationLookup, scopes: list[Scope],
                     consumer_orgno: str, supplier_orgno: str) -> str:
    """docs/protocol.md §4.2 steps 2-4 in the order of D1: not the own org (MP-260), delegable (MP-261), access
    (MP-250), delegated (MP-251, MP-290); returns the delegation source (D2)."""
    if consumer_orgno == supplier_orgno:
        raise mp.MP260()
    for s in scopes:
        if not s.delegation_source:
            raise mp.MP261(s.name)
    check_access(registry, scopes, consumer_orgno)
    for s in scopes:
        try:
            delegated = delegations.has_delegation(consumer_orgno, supplier_orgno, s.name)
        except DelegationUnavailable as exc:
            raise mp.MP290(detail=str(exc)) from exc
        if not delegated:
            raise mp.MP251(f"{consumer_orgno} has not delegated access to the scope {s.name} to supplier "
                           f"{supplier_orgno}")
    return sorted(s.delegation_source for s in scopes if s.delegation_source)[0]
