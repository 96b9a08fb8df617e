"""Use-cases for clients and their key sets (docs/protocol.md §3.2, §3.3)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .audit import Actor, record
from .changes import CLIENT_KIND
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
    KeyOrigin,
)
from .orgs import require_org
from .platform import require_operator_for
from .policy import DCR_MODIFY, DCR_READ, DCR_SUPPLIER, DCR_WRITE, Caller
from .ports import UnitOfWork

WEB = "web"
#: docs/protocol.md §3.2 "allowed combination": every integration type we serve allows exactly this.
ALLOWED_COMBINATION = f"application_type={WEB}, token_endpoint_auth_method={PRIVATE_KEY_JWT}, " \
                      f"grant_types=[{JWT_BEARER}]"


@dataclass(frozen=True, slots=True)
class ClientFields:
    """The fields of a client its owner chooses (docs/protocol.md §3.2 client model, less the server-set ones)."""

    client_name: str
    integration_type: IntegrationType
    scopes: tuple[str, ...] = ()
    description: str = ""
    client_uri: str | None = None
    application_type: str = WEB
    token_endpoint_auth_method: str = PRIVATE_KEY_JWT
    grant_types: tuple[str, ...] = (JWT_BEARER,)
    access_token_lifetime: int | None = None


def fields_of(client: Client) -> ClientFields:
    """The owner-chosen fields of a stored client."""
    return ClientFields(client.client_name, client.integration_type, client.scopes, client.description,
                        client.client_uri, client.application_type, client.token_endpoint_auth_method,
                        client.grant_types, client.access_token_lifetime)


def _combination(f: ClientFields) -> tuple[str, ...]:
    """docs/protocol.md §3.2 allowed combination (fixed for altinn_virksys, docs/protocol.md §4.4); returns normalised
    grants."""
    grants = tuple(JWT_BEARER if g == JWT_BEARER_SHORT else g for g in f.grant_types)
    rule = f"integration_type {f.integration_type} allows only {ALLOWED_COMBINATION}"
    if f.integration_type is IntegrationType.ALTINN_VIRKSYS:
        rule += " (fixed for virksomhetssystem clients)"
    if f.application_type != WEB:
        raise Invalid(f"application_type must be {WEB}: {rule}", field="application_type")
    if f.token_endpoint_auth_method != PRIVATE_KEY_JWT:
        raise Invalid(f"token_endpoint_auth_method must be {PRIVATE_KEY_JWT}: {rule}",
                      field="token_endpoint_auth_method")
    if grants != (JWT_BEARER,):
        raise Invalid(f"grant_types must be [{JWT_BEARER}] (alias {JWT_BEARER_SHORT}): {rule}",
                      field="grant_types")
    return grants


def _validated(f: ClientFields) -> ClientFields:
    """docs/protocol.md §3.2 rules needing no store: name, combination, lifetime (0 = unset); scopes de-duplicated."""
    if not f.client_name.strip():
        raise Invalid("client_name must not be empty", field="client_name")
    grants = _combination(f)
    lifetime = f.access_token_lifetime or None  # 0 is "the default" (decision A16, T11)
    if lifetime is not None and lifetime < 1:
        raise Invalid("access_token_lifetime must be positive, or 0 or null for the default",
                      field="access_token_lifetime")
    return replace(f, client_name=f.client_name.strip(), grant_types=grants, access_token_lifetime=lifetime,
                   scopes=tuple(dict.fromkeys(f.scopes)))


def check_client_scopes(uow: UnitOfWork, client_orgno: str, integration_type: IntegrationType,
                        scopes: Sequence[str], actor: Actor) -> None:
    """docs/protocol.md §3.2: each scope exists, is active, allowed for the integration type, and usable by the client's
    own org (never lent by a supplier); a platform scope only from the operator (platform.require_operator_for)."""
    for name in scopes:
        s = uow.get_scope(name)
        if s is None or not s.active:
            raise Invalid(f"unknown or inactive scope {name[:100]!r}", field="scopes")
        require_operator_for(s, actor)
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
               token_endpoint_auth_method: str = PRIVATE_KEY_JWT, application_type: str = WEB,
               client_uri: str | None = None) -> Client:
    """Create a client (docs/protocol.md §3.2 allowed combination for Maskinporten-type clients)."""
    require_org(uow, client_orgno, "client_orgno")
    if supplier_orgno is not None:
        require_org(uow, supplier_orgno, "supplier_orgno")
    f = _validated(ClientFields(client_name, integration_type, tuple(scopes), description, client_uri,
                                application_type, token_endpoint_auth_method, tuple(grant_types),
                                access_token_lifetime))
    check_client_scopes(uow, client_orgno, integration_type, f.scopes, actor)
    client = Client(client_id=str(uuid.uuid4()), client_name=f.client_name, client_orgno=client_orgno,
                    integration_type=integration_type, scopes=f.scopes, created=now, last_updated=now,
                    description=f.description, supplier_orgno=supplier_orgno, client_uri=f.client_uri,
                    application_type=f.application_type, token_endpoint_auth_method=f.token_endpoint_auth_method,
                    grant_types=f.grant_types, access_token_lifetime=f.access_token_lifetime)
    uow.put_client(client)
    record(uow, actor=actor, action="client.create", kind=CLIENT_KIND, key=client.client_id,
           orgs=(client_orgno, supplier_orgno or ""), before=None, after=client, now=now)
    return client


def _require_active(client: Client) -> None:
    """docs/protocol.md §3.2 "Inaktive entiteter": a deactivated client is history; it is not changed any more."""
    if not client.active:
        raise Conflict(f"client {client.client_id} is deactivated; deactivated clients cannot be changed")


def change_client(uow: UnitOfWork, before: Client, fields: ClientFields, actor: Actor, now: datetime) -> Client:
    """docs/protocol.md §3.2 PUT: integration_type is immutable; added scopes must be accessible, kept ones stay."""
    _require_active(before)
    if fields.integration_type is not before.integration_type:
        raise Invalid(f"integration_type cannot change (it is {before.integration_type})",
                      field="integration_type")
    f = _validated(fields)
    added = [s for s in f.scopes if s not in before.scopes]
    check_client_scopes(uow, before.client_orgno, before.integration_type, added, actor)
    if f == fields_of(before):
        return before
    after = replace(before, client_name=f.client_name, scopes=f.scopes, description=f.description,
                    client_uri=f.client_uri, application_type=f.application_type,
                    token_endpoint_auth_method=f.token_endpoint_auth_method, grant_types=f.grant_types,
                    access_token_lifetime=f.access_token_lifetime, last_updated=now)
    uow.put_client(after)
    record(uow, actor=actor, action="client.update", kind=CLIENT_KIND, key=before.client_id,
           orgs=(before.client_orgno, before.supplier_orgno or ""), before=before, after=after, now=now)
    return after


def deactivate_client(uow: UnitOfWork, before: Client, actor: Actor, now: datetime) -> Client:
    """docs/protocol.md §3.2 DELETE: deactivate (never delete); idempotent; the token service refuses it (MP-100)."""
    if not before.active:
        return before
    after = replace(before, active=False, last_updated=now)
    uow.put_client(after)
    record(uow, actor=actor, action="client.deactivate", kind=CLIENT_KIND, key=before.client_id,
           orgs=(before.client_orgno, before.supplier_orgno or ""), before=before, after=after, now=now)
    return after


def list_visible_clients(uow: UnitOfWork, caller: Caller, *, client_orgno: str | None,
                         integration_type: IntegrationType | None, include_inactive: bool,
                         after: str | None, limit: int) -> list[Client]:
    """docs/protocol.md §3.1: the caller's own clients (dcr.read/modify/write) and those it supplies (dcr.supplier),
    sorted by client_id after `after`; at most `limit`."""
    def page(orgno: str | None, supplier: str | None) -> Sequence[Client]:
        """One keyset page of the store's list, by owner and/or supplier."""
        return uow.list_clients(client_orgno=orgno, supplier_orgno=supplier, integration_type=integration_type,
                                include_inactive=include_inactive, after_client_id=after, limit=limit)

    pages: list[Sequence[Client]] = []
    if caller.has(DCR_READ, DCR_MODIFY, DCR_WRITE) and client_orgno in (None, caller.orgno):
        pages.append(page(caller.orgno, None))
    if caller.has(DCR_SUPPLIER):
        pages.append(page(client_orgno, caller.orgno))
    merged = {c.client_id: c for page in pages for c in page}
    return [merged[k] for k in sorted(merged)][:limit]


def replace_client_keys(uow: UnitOfWork, client_id: str, jwks: Sequence[tuple[str, dict[str, object]]],
                        actor: Actor, now: datetime, origins: Mapping[str, KeyOrigin] | None = None) -> Client:
    """docs/protocol.md §3.3: replace the whole set (≤ 5 keys, unique kids, each with "use": "sig", no certificate on
    an altinn_virksys system, no kid of another client); each key expires a year after posting; a key posted again
    keeps its `created` and its `origin` and is renewed; a new key's origin is `origins[kid]`, else "api"."""
    client = uow.get_client(client_id)
    if client is None:
        raise NotFound(f"no client {client_id}")
    _require_active(client)
    if len(jwks) > MAX_KEYS_PER_CLIENT:
        raise Invalid(f"at most {MAX_KEYS_PER_CLIENT} keys per client", field="keys")
    kids = [kid for kid, _ in jwks]
    if len(set(kids)) != len(kids):
        raise Invalid("each key needs its own kid", field="keys")
    for index, (_, jwk) in enumerate(jwks):
        _check_use(index, jwk)
        _check_no_certificate(client, index, jwk)
    _check_kids_free(uow, client, kids)
    expires = now + timedelta(seconds=KEY_LIFETIME_SECONDS)
    keys = tuple(ClientKey(kid, dict(jwk), _first_posted(client, kid, jwk, now), expires,
                           _origin(client, kid, jwk, origins or {})) for kid, jwk in jwks)
    updated = replace(client, keys=keys, last_updated=now)
    uow.put_client(updated)
    record(uow, actor=actor, action="client.keys.replace", kind=CLIENT_KIND, key=client_id,
           orgs=(client.client_orgno, client.supplier_orgno or ""), before=client, after=updated, now=now)
    return updated


def _check_use(index: int, jwk: Mapping[str, object]) -> None:
    """docs/protocol.md §3.3: every key registered from now on says `"use": "sig"`, as Maskinporten requires (keys
    stored before the rule keep working at /token, decision A17)."""
    where = f"keys[{index}]"
    use = jwk.get("use")
    if use is None:
        raise Invalid(f'{where}: a key needs "use": "sig" (Maskinporten requires it); add "use": "sig" to the JWK, '
                      "or send the key as PEM, which gets it", field=where)
    if use != "sig":
        raise Invalid(f'{where}: a key\'s "use" must be "sig" (RFC 7517 §4.2)', field=where)


def _check_no_certificate(client: Client, index: int, jwk: Mapping[str, object]) -> None:
    """docs/protocol.md §3.2, §3.3: an altinn_virksys system signs with its own key, never with a certificate."""
    if client.integration_type is IntegrationType.ALTINN_VIRKSYS and "x5c" in jwk:
        where = f"keys[{index}]"
        raise Invalid(f"{where}: an altinn_virksys system has its own key; register its public key, not a "
                      "certificate (docs/protocol.md §3.2)", field=where)


def kids_in_use(kids: Sequence[str], *, one_of: bool = False) -> str:
    """The refusal of kids another client holds (`one_of`: some of them, unknown which): it names the kids, never
    that client (decision A17)."""
    named = ", ".join(f'"{kid}"' for kid in kids)
    several = f"one of the kids {named} is" if one_of else f"kids {named} are"
    subject = f"kid {named} is" if len(kids) == 1 else several
    return (f"{subject} already registered on another client; a kid names one key across all clients "
            "(docs/protocol.md §3.3), so give the key another kid")


def _check_kids_free(uow: UnitOfWork, client: Client, kids: Sequence[str]) -> None:
    """docs/protocol.md §3.3: a kid is unique across all clients; one this client holds already is renewed."""
    holders = uow.get_key_holders(kids)
    for index, kid in enumerate(kids):
        if holders.get(kid, client.client_id) != client.client_id:
            raise Conflict(f"keys[{index}]: {kids_in_use([kid])}", field=f"keys[{index}]")


def _first_posted(client: Client, kid: str, jwk: dict[str, object], now: datetime) -> datetime:
    """When this same key (kid, n, e) was first registered on the client; `now` for a new key."""
    old = client.key(kid)
    return old.created if old is not None and _same_key(old, jwk) else now


def _origin(client: Client, kid: str, jwk: dict[str, object], origins: Mapping[str, KeyOrigin]) -> KeyOrigin | None:
    """docs/protocol.md §3.3 `origin`: recorded when the key is first posted and kept when the same key is posted
    again (None stays None: how a key stored before the record was made is not known)."""
    old = client.key(kid)
    if old is not None and _same_key(old, jwk):
        return old.origin
    return origins.get(kid, KeyOrigin.API)


def _same_key(old: ClientKey, jwk: dict[str, object]) -> bool:
    """The posted key is the stored one: the same kid with the same kty, n and e."""
    return all(old.jwk.get(m) == jwk.get(m) for m in ("kty", "n", "e"))


def key_set_times(client: Client) -> tuple[datetime | None, datetime | None]:
    """docs/protocol.md §3.3 set-level (created, last_updated): first registration of a current key, and last POST."""
    if not client.keys:
        return None, None
    created = min(k.created for k in client.keys)
    last = max(k.expires for k in client.keys) - timedelta(seconds=KEY_LIFETIME_SECONDS)
    return created, last
