"""The UnitOfWork port composed of one repository per concern (decisions S6, S7): each method has one implementation,
its repository's, and the unit of work only names it, so call sites keep the flat `uow.get_client(...)`."""

from __future__ import annotations

from collections.abc import Sequence

from portvakt.domain.ports import (
    AltinnKeyRepository,
    AuditLog,
    ClientRepository,
    DelegationRepository,
    OrganisationRepository,
    PeopleRepository,
    ScopeRepository,
    SigningKeyRepository,
    SystemRegisterRepository,
)


def fold_client_id(client_id: str) -> str:
    """A client id as both stores compare it for uniqueness in the system register: lower-cased
    (docs/protocol.md §6.1; the token path's lookup compares it exactly)."""
    return client_id.lower()


def listed_twice(client_ids: Sequence[str]) -> str:
    """The Conflict message for a system that lists one client id twice (compared without case)."""
    seen: set[str] = set()
    for client_id in client_ids:
        if fold_client_id(client_id) in seen:
            return f"client id {client_id} is listed twice"
        seen.add(fold_client_id(client_id))
    raise ValueError("no client id is listed twice")


class ComposedUnitOfWork:
    """One transaction's repositories behind the flat UnitOfWork port; mypy checks every name against it."""

    def __init__(self, *, orgs: OrganisationRepository, clients: ClientRepository, scopes: ScopeRepository,
                 delegations: DelegationRepository, system_register: SystemRegisterRepository,
                 people: PeopleRepository, signing_keys: SigningKeyRepository, altinn_keys: AltinnKeyRepository,
                 audit: AuditLog) -> None:
        self.get_org = orgs.get_org
        self.put_org = orgs.put_org
        self.list_orgs = orgs.list_orgs

        self.get_client = clients.get_client
        self.put_client = clients.put_client
        self.list_clients = clients.list_clients
        self.get_key_holders = clients.get_key_holders

        self.get_scope = scopes.get_scope
        self.put_scope = scopes.put_scope
        self.list_scopes = scopes.list_scopes
        self.get_access = scopes.get_access
        self.put_access = scopes.put_access
        self.delete_access = scopes.delete_access
        self.list_access = scopes.list_access
        self.get_prefix_owner = scopes.get_prefix_owner
        self.put_prefix = scopes.put_prefix
        self.list_prefixes = scopes.list_prefixes

        self.get_delegation_source = delegations.get_delegation_source
        self.put_delegation_source = delegations.put_delegation_source
        self.list_delegation_sources = delegations.list_delegation_sources
        self.get_scheme = delegations.get_scheme
        self.put_scheme = delegations.put_scheme
        self.list_schemes = delegations.list_schemes
        self.get_delegation = delegations.get_delegation
        self.put_delegation = delegations.put_delegation
        self.list_delegations = delegations.list_delegations
        self.has_delegation = delegations.has_delegation

        self.get_system = system_register.get_system
        self.put_system = system_register.put_system
        self.list_systems = system_register.list_systems
        self.systems_with_client_id = system_register.systems_with_client_id
        self.get_request = system_register.get_request
        self.put_request = system_register.put_request
        self.find_request = system_register.find_request
        self.list_requests = system_register.list_requests
        self.get_system_user = system_register.get_system_user
        self.put_system_user = system_register.put_system_user
        self.list_system_users = system_register.list_system_users
        self.find_system_user = system_register.find_system_user
        self.put_agent_client = system_register.put_agent_client
        self.delete_agent_client = system_register.delete_agent_client
        self.list_agent_clients = system_register.list_agent_clients
        self.has_agent_client = system_register.has_agent_client
        self.put_client_relationship = system_register.put_client_relationship
        self.delete_client_relationship = system_register.delete_client_relationship
        self.list_client_relationships = system_register.list_client_relationships

        self.get_person = people.get_person
        self.put_person = people.put_person
        self.list_people = people.list_people

        self.list_signing_keys = signing_keys.list_signing_keys
        self.put_signing_key = signing_keys.put_signing_key
        self.delete_signing_key = signing_keys.delete_signing_key

        self.list_altinn_keys = altinn_keys.list_altinn_keys
        self.put_altinn_key = altinn_keys.put_altinn_key
        self.delete_altinn_key = altinn_keys.delete_altinn_key

        self.append_audit = audit.append_audit
        self.list_audit = audit.list_audit
        self.record_change = audit.record_change
