"""The UnitOfWork port composed of one repository per concern (decisions S6, S7): each method has one implementation,
its repository's, and the unit of work only names it, so call sites keep the flat `uow.get_client(...)`."""

from __future__ import annotations

from portvakt.domain.ports import (
    AuditLog,
    ClientRepository,
    DelegationRepository,
    OrganisationRepository,
    PeopleRepository,
    ScopeRepository,
    SigningKeyRepository,
)


class ComposedUnitOfWork:
    """One transaction's repositories behind the flat UnitOfWork port; mypy checks every name against it."""

    def __init__(self, *, orgs: OrganisationRepository, clients: ClientRepository, scopes: ScopeRepository,
                 delegations: DelegationRepository, people: PeopleRepository, signing_keys: SigningKeyRepository,
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

        self.get_person = people.get_person
        self.put_person = people.put_person
        self.list_people = people.list_people

        self.list_signing_keys = signing_keys.list_signing_keys
        self.put_signing_key = signing_keys.put_signing_key
        self.delete_signing_key = signing_keys.delete_signing_key

        self.append_audit = audit.append_audit
        self.list_audit = audit.list_audit
        self.record_change = audit.record_change
