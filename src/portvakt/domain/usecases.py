"""Use-cases that change the registry; each runs inside one UnitOfWork and writes its audit event."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from .audit import Actor, record
from .errors import Conflict, Invalid, NotFound
from .models import (
    JWT_BEARER,
    JWT_BEARER_SHORT,
    KEY_LIFETIME_SECONDS,
    MAX_KEYS_PER_CLIENT,
    PRIVATE_KEY_JWT,
    AccessState,
    Client,
    ClientKey,
    IntegrationType,
    Organisation,
    Scope,
    ScopeAccess,
)
from .orgno import require_orgno
from .ports import UnitOfWork

_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_SUBSCOPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,127}$")


def add_org(uow: UnitOfWork, orgno: str, name: str, actor: Actor, now: datetime) -> Organisation:
    """Register an organisation (9-digit orgno, mod-11)."""
    require_orgno(orgno)
    if not name.strip():
        raise Invalid("name must not be empty", field="name")
    before = uow.get_org(orgno)
    org = Organisation(orgno, name.strip(), before.created if before else now)
    uow.put_org(org)
    record(uow, actor=actor, action="org.put", kind="org", key=orgno, orgs=(orgno,), before=before,
           after=org, now=now)
    return org


def require_org(uow: UnitOfWork, orgno: str, field: str = "orgno") -> Organisation:
    """The registered organisation, or Invalid naming the field."""
    require_orgno(orgno, field)
    org = uow.get_org(orgno)
    if org is None:
        raise Invalid(f"{field} {orgno} is not a registered organisation", field=field)
    return org


def assign_prefix(uow: UnitOfWork, prefix: str, orgno: str, actor: Actor, now: datetime) -> None:
    """Give an API provider a scope prefix (spec §3.4: assigned by the operator)."""
    if not _PREFIX.match(prefix):
        raise Invalid("prefix must be lower-case letters, digits, '-' or '_'", field="prefix")
    require_org(uow, orgno)
    owner = uow.get_prefix_owner(prefix)
    if owner is not None and owner != orgno:
        raise Conflict(f"prefix {prefix} belongs to another organisation", field="prefix")
    uow.put_prefix(prefix, orgno)
    record(uow, actor=actor, action="prefix.assign", kind="prefix", key=prefix, orgs=(orgno,),
           before=None, after=None, now=now)


def split_scope_name(name: str) -> tuple[str, str]:
    """Spec §3.4 grammar: scope ::= prefix ':' subscope."""
    prefix, sep, subscope = name.partition(":")
    if not sep or not _PREFIX.match(prefix) or not _SUBSCOPE.match(subscope):
        raise Invalid(f"scope name must be prefix:subscope, got {name[:100]!r}", field="scope")
    return prefix, subscope


def put_scope(uow: UnitOfWork, scope: Scope, actor: Actor, now: datetime, *, create: bool) -> Scope:
    """Create or update a scope; the prefix must belong to the owner (spec §3.4)."""
    split_scope_name(scope.name)
    require_org(uow, scope.owner_orgno, "owner_orgno")
    if uow.get_prefix_owner(scope.prefix) != scope.owner_orgno:
        raise Invalid(f"prefix {scope.prefix} is not assigned to {scope.owner_orgno}", field="prefix")
    if scope.at_max_age < 0:
        raise Invalid("at_max_age must be 0 or more", field="at_max_age")
    for t in scope.allowed_integration_types:
        if t not in {i.value for i in IntegrationType}:
            raise Invalid(f"unknown integration type {t[:40]!r}", field="allowed_integration_types")
    before = uow.get_scope(scope.name)
    if create and before is not None:
        raise Conflict(f"scope {scope.name} exists already" + ("" if before.active else " (deactivated)"))
    if not create and before is None:
        raise NotFound(f"no scope {scope.name}")
    saved = replace(scope, created=before.created if before else now, last_updated=now)
    uow.put_scope(saved)
    record(uow, actor=actor, action="scope.create" if create else "scope.update", kind="scope",
           key=scope.name, orgs=(scope.owner_orgno,), before=before, after=saved, now=now)
    return saved


def set_access(uow: UnitOfWork, scope_name: str, consumer_orgno: str, state: AccessState | None,
               actor: Actor, now: datetime) -> ScopeAccess | None:
    """Grant (APPROVED), set another state, or revoke (None) a consumer's access to a scope."""
    scope = uow.get_scope(scope_name)
    if scope is None:
        raise NotFound(f"no scope {scope_name}")
    require_org(uow, consumer_orgno, "consumer_orgno")
    before = uow.get_access(scope_name, consumer_orgno)
    after = None
    if state is None:
        uow.delete_access(scope_name, consumer_orgno)
    else:
        after = ScopeAccess(scope_name, consumer_orgno, scope.owner_orgno, state,
                            before.created if before else now, now)
        uow.put_access(after)
    record(uow, actor=actor, action="access.revoke" if state is None else "access.put", kind="access",
           key=f"{scope_name}|{consumer_orgno}", orgs=(scope.owner_orgno, consumer_orgno),
           before=before, after=after, now=now)
    return after


def check_client_scopes(uow: UnitOfWork, client_orgno: str, integration_type: IntegrationType,
                        scopes: Sequence[str]) -> None:
    """Spec §3.2: each scope exists, is active, allowed for the integration type, and accessible."""
    for name in scopes:
        s = uow.get_scope(name)
        if s is None or not s.active:
            raise Invalid(f"unknown or inactive scope {name[:100]!r}", field="scopes")
        if not s.allows(integration_type):
            raise Invalid(f"scope {name} is not allowed for integration type {integration_type}", field="scopes")
        acl = uow.get_access(name, client_orgno)
        if not (s.owner_orgno == client_orgno or s.accessible_for_all or s.delegation_source
                or (acl is not None and acl.state is AccessState.APPROVED)):
            raise Invalid(f"organisation {client_orgno} has no access to scope {name}", field="scopes")


def new_client(uow: UnitOfWork, *, client_name: str, client_orgno: str, integration_type: IntegrationType,
               scopes: Sequence[str], actor: Actor, now: datetime, description: str = "",
               supplier_orgno: str | None = None, access_token_lifetime: int | None = None,
               grant_types: Sequence[str] = (JWT_BEARER,),
               token_endpoint_auth_method: str = PRIVATE_KEY_JWT) -> Client:
    """Create a client (spec §3.2 allowed combination for Maskinporten-type clients)."""
    require_org(uow, client_orgno, "client_orgno")
    if supplier_orgno is not None:
        require_org(uow, supplier_orgno, "supplier_orgno")
    if not client_name.strip():
        raise Invalid("client_name must not be empty", field="client_name")
    grants = tuple(JWT_BEARER if g == JWT_BEARER_SHORT else g for g in grant_types)
    if grants != (JWT_BEARER,):
        raise Invalid(f"grant_types must be [{JWT_BEARER}]", field="grant_types")
    if token_endpoint_auth_method != PRIVATE_KEY_JWT:
        raise Invalid("token_endpoint_auth_method must be private_key_jwt", field="token_endpoint_auth_method")
    if access_token_lifetime is not None and access_token_lifetime < 1:
        raise Invalid("access_token_lifetime must be positive", field="access_token_lifetime")
    unique = tuple(dict.fromkeys(scopes))
    check_client_scopes(uow, client_orgno, integration_type, unique)
    client = Client(client_id=str(uuid.uuid4()), client_name=client_name.strip(), client_orgno=client_orgno,
                    integration_type=integration_type, scopes=unique, created=now, last_updated=now,
                    description=description, supplier_orgno=supplier_orgno,
                    access_token_lifetime=access_token_lifetime)
    uow.put_client(client)
    record(uow, actor=actor, action="client.create", kind="client", key=client.client_id,
           orgs=(client_orgno, supplier_orgno or ""), before=None, after=client, now=now)
    return client


def replace_client_keys(uow: UnitOfWork, client_id: str, jwks: Sequence[tuple[str, dict[str, object]]],
                        actor: Actor, now: datetime) -> Client:
    """Spec §3.3: replace the whole set (≤ 5 keys, unique kids); each key expires a year after posting."""
    client = uow.get_client(client_id)
    if client is None:
        raise NotFound(f"no client {client_id}")
    if len(jwks) > MAX_KEYS_PER_CLIENT:
        raise Invalid(f"at most {MAX_KEYS_PER_CLIENT} keys per client", field="keys")
    kids = [kid for kid, _ in jwks]
    if len(set(kids)) != len(kids):
        raise Invalid("each key needs its own kid", field="keys")
    expires = now + timedelta(seconds=KEY_LIFETIME_SECONDS)
    keys = tuple(ClientKey(kid, dict(jwk), now, expires) for kid, jwk in jwks)
    updated = replace(client, keys=keys, last_updated=now)
    uow.put_client(updated)
    record(uow, actor=actor, action="client.keys.replace", kind="client", key=client_id,
           orgs=(client.client_orgno, client.supplier_orgno or ""), before=client, after=updated, now=now)
    return updated
