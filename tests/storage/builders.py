"""Small builders of domain objects for the storage contract tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from portvakt.domain.models import (
    AccessState,
    AuditEvent,
    Client,
    ClientKey,
    Delegation,
    DelegationScheme,
    DelegationSource,
    IntegrationType,
    Organisation,
    Person,
    PersonRole,
    PortalRole,
    Scope,
    ScopeAccess,
    SigningKey,
    SigningKeyState,
    Visibility,
)

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
ORG_A, ORG_B, ORG_C = "991825827", "974760673", "910000001"


def at(seconds: float) -> datetime:
    """T0 plus some seconds."""
    return T0 + timedelta(seconds=seconds)


def org(orgno: str = ORG_A, name: str = "Brønnøysundregistrene") -> Organisation:
    """An organisation."""
    return Organisation(orgno=orgno, name=name, created=T0)


def key(kid: str, n: str = "AQAB", created: datetime = T0) -> ClientKey:
    """A client key with a small (fake) public JWK."""
    jwk: dict[str, Any] = {"kty": "RSA", "kid": kid, "n": n, "e": "AQAB", "use": "sig", "alg": "RS256"}
    return ClientKey(kid=kid, jwk=jwk, created=created, expires=created + timedelta(days=365))


def client(client_id: str, orgno: str = ORG_A, **overrides: Any) -> Client:
    """A Maskinporten client of `orgno`, with the fields overridden as given."""
    fields: dict[str, Any] = {
        "client_id": client_id, "client_name": f"client {client_id}", "client_orgno": orgno,
        "integration_type": IntegrationType.MASKINPORTEN, "scopes": ("brreg:a", "brreg:b"),
        "created": T0, "last_updated": T0,
    }
    fields.update(overrides)
    return Client(**fields)


def full_client(client_id: str = "full") -> Client:
    """A client with every optional field set, two keys and a nested JWK."""
    return client(
        client_id, orgno=ORG_B, integration_type=IntegrationType.ALTINN_VIRKSYS,
        description="ærlig beskrivelse", supplier_orgno=ORG_C, client_uri="https://vendor.example/sys",
        application_type="native", token_endpoint_auth_method="private_key_jwt",
        grant_types=("urn:ietf:params:oauth:grant-type:jwt-bearer", "jwt_bearer_token"),
        access_token_lifetime=300, active=False, keys=(key("k-2", "zz"), key("k-1", "yy", at(5))),
    )


def scope(name: str, owner: str = ORG_A, **overrides: Any) -> Scope:
    """A scope `prefix:subscope` owned by `owner`."""
    prefix, subscope = name.split(":", 1)
    fields: dict[str, Any] = {"prefix": prefix, "subscope": subscope, "owner_orgno": owner,
                              "description": f"scope {name}", "created": T0, "last_updated": T0}
    fields.update(overrides)
    return Scope(**fields)


def full_scope() -> Scope:
    """A scope with every optional field set."""
    return scope("brreg:full", long_description="lang", visibility=Visibility.PRIVATE, at_max_age=600,
                 allowed_integration_types=("maskinporten", "altinn_virksys"), accessible_for_all=True,
                 delegation_source="https://altinn.example", active=True)


def access(scope_name: str, consumer: str, state: AccessState = AccessState.APPROVED) -> ScopeAccess:
    """An access-list entry of `consumer` on `scope_name` (owned by ORG_A)."""
    return ScopeAccess(scope=scope_name, consumer_orgno=consumer, owner_orgno=ORG_A, state=state,
                       created=T0, last_updated=at(1))


def signing_key(kid: str, created: datetime, state: SigningKeyState = SigningKeyState.ACTIVE) -> SigningKey:
    """A signing key whose private half is some opaque (already encrypted) bytes."""
    return SigningKey(kid=kid, public_jwk={"kty": "RSA", "kid": kid, "n": "abc", "e": "AQAB"},
                      encrypted_private_key=b"\x00\x01encrypted\xff" + kid.encode(), state=state,
                      created=created, activated=created if state is not SigningKeyState.NEXT else None)


def event(entity_key: str, orgs: tuple[str, ...], when: datetime = T0, kind: str = "client",
          action: str = "create") -> AuditEvent:
    """An audit event on `kind`/`entity_key` visible to `orgs`."""
    return AuditEvent(at=when, actor_orgno=orgs[0] if orgs else None, actor_client_id="portal", action=action,
                      entity_kind=kind, entity_key=entity_key, org_scope=orgs, before=None,
                      after={"client_name": "x", "nested": {"list": [1, 2]}})


def source(name: str, issuer: str | None = None, created: datetime = T0) -> DelegationSource:
    """A delegation source; its issuer defaults to a URL made from its name."""
    return DelegationSource(name=name, issuer=issuer or f"https://{name}.example/", created=created,
                            last_updated=created + timedelta(seconds=1))


def scheme(scheme_id: str, scopes: tuple[str, ...] = ("brreg:a",), owner: str = ORG_A,
           **overrides: Any) -> DelegationScheme:
    """A delegation scheme of `owner` naming `scopes`, with Norwegian and English texts."""
    fields: dict[str, Any] = {
        "scheme_id": scheme_id, "owner_orgno": owner, "scopes": scopes,
        "title": {"nb": f"Oppsett {scheme_id}", "en": f"Scheme {scheme_id}"},
        "description": {"nb": "ærlig beskrivelse"}, "created": T0, "last_updated": at(1),
    }
    fields.update(overrides)
    return DelegationScheme(**fields)


def delegation(delegation_id: str, consumer: str = ORG_B, supplier: str = ORG_C, scheme_id: str = "s1",
               created: datetime = T0, **overrides: Any) -> Delegation:
    """A delegation of scheme `scheme_id` from `consumer` to `supplier`."""
    fields: dict[str, Any] = {"delegation_id": delegation_id, "consumer_orgno": consumer,
                              "supplier_orgno": supplier, "scheme_id": scheme_id, "created": created}
    fields.update(overrides)
    return Delegation(**fields)


def role(orgno: str = ORG_A, kind: PortalRole = PortalRole.INTEGRATION_RESPONSIBLE) -> PersonRole:
    """A portal role of `kind` for `orgno`."""
    return PersonRole(orgno, kind)


def person(username: str, roles: tuple[PersonRole, ...] = (), **overrides: Any) -> Person:
    """A portal account with an (opaque) argon2-looking hash and the given roles."""
    fields: dict[str, Any] = {"username": username, "name": f"Person {username}", "mobile": "+4790000001",
                              "password_hash": f"$argon2id$v=19$m=8,t=1,p=1$c2FsdA${username}",
                              "roles": roles, "created": T0, "updated": at(1)}
    fields.update(overrides)
    return Person(**fields)


def iter_all_clients(uow: Any, **filters: object) -> Iterator[Client]:
    """Page through every client matching the filters (keyset pagination on client_id, decision A7)."""
    after: str | None = None
    while True:
        page = uow.list_clients(after_client_id=after, limit=500, **filters)
        yield from page
        if len(page) < 500:
            return
        after = page[-1].client_id
