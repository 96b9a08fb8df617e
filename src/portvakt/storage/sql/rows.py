"""Mapping between domain models and table rows (tuples travel as JSON lists)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row

from portvakt.domain.models import (
    AccessState,
    AgentClient,
    AuditEvent,
    Client,
    ClientKey,
    ClientRelationship,
    ClientRole,
    Delegation,
    DelegationScheme,
    DelegationSource,
    IntegrationType,
    KeyOrigin,
    Organisation,
    Person,
    PersonRole,
    PortalRole,
    RegisteredSystem,
    RequestStatus,
    Scope,
    ScopeAccess,
    SigningKey,
    SigningKeyState,
    SystemRight,
    SystemUser,
    SystemUserRequest,
    SystemUserType,
    Visibility,
)

Values = dict[str, Any]
_CLIENT_SCALARS = (
    "client_id", "client_name", "client_orgno", "supplier_orgno", "description", "client_uri",
    "application_type", "token_endpoint_auth_method", "access_token_lifetime", "active",
    "created", "last_updated",
)
_SCOPE_SCALARS = (
    "prefix", "subscope", "owner_orgno", "description", "long_description", "at_max_age",
    "accessible_for_all", "delegation_source", "active", "created", "last_updated", "platform_only",
)
_SIGNING_KEY_FIELDS = ("kid", "public_jwk", "created", "activated", "retired", "delete_after")
_AUDIT_FIELDS = ("seq", "at", "actor_orgno", "actor_client_id", "actor_person", "action", "entity_kind",
                 "entity_key", "before", "after")
_PERSON_FIELDS = ("username", "name", "mobile", "password_hash", "active", "created", "updated")


def org_values(org: Organisation) -> Values:
    """Row values of an organisation."""
    return {"orgno": org.orgno, "name": org.name, "created": org.created}


def to_org(row: Row[Any]) -> Organisation:
    """An organisation from its row."""
    return Organisation(orgno=row.orgno, name=row.name, created=row.created)


def client_values(client: Client) -> Values:
    """Row values of a client (without its keys)."""
    values = {name: getattr(client, name) for name in _CLIENT_SCALARS}
    values.update(integration_type=str(client.integration_type), scopes=list(client.scopes),
                  grant_types=list(client.grant_types))
    return values


def key_values(client_id: str, keys: Sequence[ClientKey]) -> list[Values]:
    """Rows of a client's key set, in the order given."""
    return [{"client_id": client_id, "kid": k.kid, "position": i, "jwk": k.jwk,
             "created": k.created, "expires": k.expires, "origin": k.origin} for i, k in enumerate(keys)]


def to_key(row: Row[Any]) -> ClientKey:
    """A client key from its row."""
    return ClientKey(kid=row.kid, jwk=row.jwk, created=row.created, expires=row.expires, origin=key_origin(row.origin))


def key_origin(value: str | None) -> KeyOrigin | None:
    """A stored key origin (docs/protocol.md §3.3); None when it was not recorded."""
    return KeyOrigin(value) if value else None


def to_client(row: Row[Any], keys: Iterable[ClientKey]) -> Client:
    """A client from its row and its keys."""
    m = row._mapping
    return Client(**{name: m[name] for name in _CLIENT_SCALARS},
                  integration_type=IntegrationType(m["integration_type"]), scopes=tuple(m["scopes"]),
                  grant_types=tuple(m["grant_types"]), keys=tuple(keys))


def scope_values(scope: Scope) -> Values:
    """Row values of a scope, keyed by its full name."""
    values = {name: getattr(scope, name) for name in _SCOPE_SCALARS}
    values.update(name=scope.name, visibility=str(scope.visibility),
                  allowed_integration_types=list(scope.allowed_integration_types))
    return values


def to_scope(row: Row[Any]) -> Scope:
    """A scope from its row."""
    m = row._mapping
    return Scope(**{name: m[name] for name in _SCOPE_SCALARS}, visibility=Visibility(m["visibility"]),
                 allowed_integration_types=tuple(m["allowed_integration_types"]))


def access_values(access: ScopeAccess) -> Values:
    """Row values of an access-list entry."""
    return {"scope": access.scope, "consumer_orgno": access.consumer_orgno, "owner_orgno": access.owner_orgno,
            "state": str(access.state), "created": access.created, "last_updated": access.last_updated}


def to_access(row: Row[Any]) -> ScopeAccess:
    """An access-list entry from its row."""
    return ScopeAccess(scope=row.scope, consumer_orgno=row.consumer_orgno, owner_orgno=row.owner_orgno,
                       state=AccessState(row.state), created=row.created, last_updated=row.last_updated)


def signing_key_values(key: SigningKey) -> Values:
    """Row values of a signing key (the private half arrives already encrypted)."""
    values = {name: getattr(key, name) for name in _SIGNING_KEY_FIELDS}
    values.update(encrypted_private_key=key.encrypted_private_key, state=str(key.state))
    return values


def to_signing_key(row: Row[Any]) -> SigningKey:
    """A signing key from its row."""
    m = row._mapping
    return SigningKey(**{name: m[name] for name in _SIGNING_KEY_FIELDS},
                      encrypted_private_key=bytes(m["encrypted_private_key"]),
                      state=SigningKeyState(m["state"]))


def audit_values(event: AuditEvent) -> Values:
    """Row values of an audit event (seq is assigned by the database)."""
    return {"at": event.at, "actor_orgno": event.actor_orgno, "actor_client_id": event.actor_client_id,
            "actor_person": event.actor_person, "action": event.action, "entity_kind": event.entity_kind,
            "entity_key": event.entity_key, "org_scope": list(event.org_scope), "before": event.before,
            "after": event.after}


def to_audit(row: Row[Any]) -> AuditEvent:
    """An audit event from its row."""
    m = row._mapping
    return AuditEvent(**{name: m[name] for name in _AUDIT_FIELDS}, org_scope=tuple(m["org_scope"]))


def delegation_source_values(source: DelegationSource) -> Values:
    """Row values of a delegation source."""
    return {"name": source.name, "issuer": source.issuer, "created": source.created,
            "last_updated": source.last_updated}


def to_delegation_source(row: Row[Any]) -> DelegationSource:
    """A delegation source from its row."""
    return DelegationSource(name=row.name, issuer=row.issuer, created=row.created, last_updated=row.last_updated)


_SCHEME_SCALARS = ("scheme_id", "owner_orgno", "created", "last_updated", "active")
_DELEGATION_FIELDS = ("delegation_id", "consumer_orgno", "supplier_orgno", "scheme_id", "created", "created_by",
                      "revoked", "revoked_by")


def scheme_values(scheme: DelegationScheme) -> Values:
    """Row values of a delegation scheme (its scopes also go to delegation_scheme_scopes)."""
    values = {name: getattr(scheme, name) for name in _SCHEME_SCALARS}
    values.update(scopes=list(scheme.scopes), title=dict(scheme.title), description=dict(scheme.description))
    return values


def scheme_scope_values(scheme: DelegationScheme) -> list[Values]:
    """Rows of the scopes a scheme names (each once)."""
    return [{"scheme_id": scheme.scheme_id, "scope": s} for s in dict.fromkeys(scheme.scopes)]


def to_scheme(row: Row[Any]) -> DelegationScheme:
    """A delegation scheme from its row."""
    m = row._mapping
    return DelegationScheme(**{name: m[name] for name in _SCHEME_SCALARS}, scopes=tuple(m["scopes"]),
                            title=dict(m["title"]), description=dict(m["description"]))


def delegation_values(delegation: Delegation) -> Values:
    """Row values of a delegation."""
    return {name: getattr(delegation, name) for name in _DELEGATION_FIELDS}


def to_delegation(row: Row[Any]) -> Delegation:
    """A delegation from its row."""
    m = row._mapping
    return Delegation(**{name: m[name] for name in _DELEGATION_FIELDS})


def person_values(person: Person) -> Values:
    """Row values of a person (its roles go to person_roles)."""
    return {name: getattr(person, name) for name in _PERSON_FIELDS}


def person_role_values(person: Person) -> list[Values]:
    """Rows of a person's roles, in the order given."""
    return [{"username": person.username, "orgno": r.orgno, "role": str(r.role), "position": i}
            for i, r in enumerate(person.roles)]


def to_person(row: Row[Any], roles: Iterable[Row[Any]]) -> Person:
    """A person from its row and its role rows (in position order)."""
    m = row._mapping
    return Person(**{name: m[name] for name in _PERSON_FIELDS},
                  roles=tuple(PersonRole(r.orgno, PortalRole(r.role)) for r in roles))


def rights_value(rights: Sequence[SystemRight]) -> list[Values]:
    """Rights as JSON: each `{"resource": [[id, value], ...], "action": str | null}`."""
    return [{"resource": [list(pair) for pair in r.resource], "action": r.action} for r in rights]


def to_rights(value: Sequence[Values]) -> tuple[SystemRight, ...]:
    """Rights from their JSON."""
    return tuple(SystemRight(resource=tuple((str(k), str(v)) for k, v in r["resource"]), action=r.get("action"))
                 for r in value)


_SYSTEM_SCALARS = ("system_id", "internal_id", "vendor_orgno", "is_visible", "deleted", "created", "last_updated")


def system_values(system: RegisteredSystem) -> Values:
    """Row values of a registered system (its client ids also go to system_client_ids while it is not deleted)."""
    values = {name: getattr(system, name) for name in _SYSTEM_SCALARS}
    values.update(name=dict(system.name), description=dict(system.description), rights=rights_value(system.rights),
                  access_packages=list(system.access_packages), client_ids=list(system.client_ids),
                  allowed_redirect_urls=list(system.allowed_redirect_urls))
    return values


def to_system(row: Row[Any]) -> RegisteredSystem:
    """A registered system from its row."""
    m = row._mapping
    return RegisteredSystem(**{name: m[name] for name in _SYSTEM_SCALARS}, name=dict(m["name"]),
                            description=dict(m["description"]), rights=to_rights(m["rights"]),
                            access_packages=tuple(m["access_packages"]), client_ids=tuple(m["client_ids"]),
                            allowed_redirect_urls=tuple(m["allowed_redirect_urls"]))


_REQUEST_SCALARS = ("request_id", "system_id", "vendor_orgno", "party_orgno", "external_ref", "integration_title",
                    "created", "last_updated", "redirect_url", "escalated", "decided_by", "system_user_id", "deleted")


def request_values(request: SystemUserRequest) -> Values:
    """Row values of a system-user request."""
    values = {name: getattr(request, name) for name in _REQUEST_SCALARS}
    values.update(user_type=str(request.user_type), status=str(request.status),
                  rights=rights_value(request.rights), access_packages=list(request.access_packages))
    return values


def to_request(row: Row[Any]) -> SystemUserRequest:
    """A system-user request from its row."""
    m = row._mapping
    return SystemUserRequest(**{name: m[name] for name in _REQUEST_SCALARS},
                             user_type=SystemUserType(m["user_type"]), status=RequestStatus(m["status"]),
                             rights=to_rights(m["rights"]), access_packages=tuple(m["access_packages"]))


_SYSTEM_USER_SCALARS = ("system_user_id", "system_id", "vendor_orgno", "owner_orgno", "external_ref",
                        "integration_title", "created", "last_updated", "created_by", "request_id", "deleted")


def system_user_values(user: SystemUser) -> Values:
    """Row values of a system user, without seq (the database assigns it and a replace keeps it)."""
    values = {name: getattr(user, name) for name in _SYSTEM_USER_SCALARS}
    values.update(user_type=str(user.user_type), rights=rights_value(user.rights),
                  access_packages=list(user.access_packages))
    return values


def to_system_user(row: Row[Any]) -> SystemUser:
    """A system user from its row."""
    m = row._mapping
    return SystemUser(**{name: m[name] for name in _SYSTEM_USER_SCALARS}, seq=int(m["seq"]),
                      user_type=SystemUserType(m["user_type"]), rights=to_rights(m["rights"]),
                      access_packages=tuple(m["access_packages"]))


def agent_client_values(client: AgentClient) -> Values:
    """Row values of an agent system user's client."""
    return {"system_user_id": client.system_user_id, "client_orgno": client.client_orgno, "added": client.added,
            "added_by": client.added_by}


def to_agent_client(row: Row[Any]) -> AgentClient:
    """An agent system user's client from its row."""
    return AgentClient(system_user_id=row.system_user_id, client_orgno=row.client_orgno, added=row.added,
                       added_by=row.added_by)


def client_relationship_values(relationship: ClientRelationship) -> Values:
    """Row values of a client relationship."""
    return {"client_orgno": relationship.client_orgno, "facilitator_orgno": relationship.facilitator_orgno,
            "role": str(relationship.role), "created": relationship.created, "created_by": relationship.created_by}


def to_client_relationship(row: Row[Any]) -> ClientRelationship:
    """A client relationship from its row."""
    return ClientRelationship(client_orgno=row.client_orgno, facilitator_orgno=row.facilitator_orgno,
                              role=ClientRole(row.role), created=row.created, created_by=row.created_by)
