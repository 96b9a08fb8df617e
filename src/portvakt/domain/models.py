"""The entities of docs/protocol.md §3: organisations, clients, client keys, scopes, scope access, audit events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# The protocol's words and fixed values are the wire room's (docs/decisions.md W1).
from portvakt.wire.protocol import JWT_BEARER as JWT_BEARER
from portvakt.wire.protocol import JWT_BEARER_SHORT as JWT_BEARER_SHORT
from portvakt.wire.protocol import MAX_KEYS_PER_CLIENT as MAX_KEYS_PER_CLIENT
from portvakt.wire.protocol import PRIVATE_KEY_JWT as PRIVATE_KEY_JWT
from portvakt.wire.vocabulary import AccessState as AccessState
from portvakt.wire.vocabulary import IntegrationType as IntegrationType
from portvakt.wire.vocabulary import KeyOrigin as KeyOrigin
from portvakt.wire.vocabulary import PortalRole as PortalRole
from portvakt.wire.vocabulary import Visibility as Visibility

KEY_LIFETIME_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Organisation:
    """An organisation in Enhetsregisteret, known by its orgno."""

    orgno: str
    name: str
    created: datetime


@dataclass(frozen=True, slots=True)
class ClientKey:
    """One public key of a client's JWK set; expires a year after it was posted (docs/protocol.md §3.3)."""

    kid: str
    jwk: dict[str, Any]
    created: datetime
    expires: datetime
    #: How the key was made (docs/protocol.md §3.3 `origin`); None for keys stored before it was recorded.
    origin: KeyOrigin | None = None

    def is_expired(self, now: datetime) -> bool:
        """MP-121: a key older than one year since POST is expired."""
        return now >= self.expires


@dataclass(frozen=True, slots=True)
class Client:
    """A client registration (docs/protocol.md §3.2 client model)."""

    client_id: str
    client_name: str
    client_orgno: str
    integration_type: IntegrationType
    scopes: tuple[str, ...]
    created: datetime
    last_updated: datetime
    description: str = ""
    supplier_orgno: str | None = None
    client_uri: str | None = None
    application_type: str = "web"
    token_endpoint_auth_method: str = PRIVATE_KEY_JWT
    grant_types: tuple[str, ...] = (JWT_BEARER,)
    access_token_lifetime: int | None = None
    active: bool = True
    keys: tuple[ClientKey, ...] = field(default=())

    def key(self, kid: str) -> ClientKey | None:
        """The registered key with this kid, if any."""
        for k in self.keys:
            if k.kid == kid:
                return k
        return None


@dataclass(frozen=True, slots=True)
class Scope:
    """An API scope `prefix:subscope` owned by an API provider (docs/protocol.md §3.4 scope model)."""

    prefix: str
    subscope: str
    owner_orgno: str
    description: str
    created: datetime
    last_updated: datetime
    long_description: str = ""
    visibility: Visibility = Visibility.PUBLIC
    at_max_age: int = 0
    allowed_integration_types: tuple[str, ...] = ()
    accessible_for_all: bool = False
    delegation_source: str | None = None
    active: bool = True
    #: Only the operator puts it on a client, with the CLI (docs/security.md, Privilege escalation).
    platform_only: bool = False

    @property
    def name(self) -> str:
        """`prefix:subscope` (docs/protocol.md §3.4 grammar)."""
        return f"{self.prefix}:{self.subscope}"

    def allows(self, integration_type: str) -> bool:
        """MP-201: an empty allowed_integration_types list allows every type."""
        return not self.allowed_integration_types or integration_type in self.allowed_integration_types


@dataclass(frozen=True, slots=True)
class ScopeAccess:
    """A consumer's entry on a scope's access list (docs/protocol.md §3.4 ACL)."""

    scope: str
    consumer_orgno: str
    owner_orgno: str
    state: AccessState
    created: datetime
    last_updated: datetime


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One append-only audit record: who (org, client, person) did what to which entity, before and after."""

    at: datetime
    actor_orgno: str | None
    actor_client_id: str | None
    action: str
    entity_kind: str
    entity_key: str
    org_scope: tuple[str, ...]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    seq: int = 0
    actor_person: str | None = None


class SigningKeyState(StrEnum):
    """Lifecycle of the server's own signing keys: published first, then signing, then retired."""

    NEXT = "next"
    ACTIVE = "active"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A token-signing key; the private half is stored only encrypted under the key-encryption key."""

    kid: str
    public_jwk: dict[str, Any]
    encrypted_private_key: bytes
    state: SigningKeyState
    created: datetime
    activated: datetime | None = None
    retired: datetime | None = None
    delete_after: datetime | None = None


@dataclass(frozen=True, slots=True)
class DelegationSource:
    """A delegation source (docs/protocol.md §3.4 `/delegationsources`): its name and issuer, e.g. Altinn's URL."""

    name: str
    issuer: str
    created: datetime
    last_updated: datetime


@dataclass(frozen=True, slots=True)
class DelegationScheme:
    """An API provider's delegable API (Altinn "delegeringsoppsett", docs/protocol.md §4.1 step 2): names its scopes."""

    scheme_id: str
    owner_orgno: str
    scopes: tuple[str, ...]
    title: dict[str, str]
    description: dict[str, str]
    created: datetime
    last_updated: datetime
    active: bool = True


@dataclass(frozen=True, slots=True)
class Delegation:
    """A consumer gives a scheme to a supplier (docs/protocol.md §4.1 step 5); revoking keeps the row (history)."""

    delegation_id: str
    consumer_orgno: str
    supplier_orgno: str
    scheme_id: str
    created: datetime
    created_by: str | None = None
    revoked: datetime | None = None
    revoked_by: str | None = None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked is None


@dataclass(frozen=True, slots=True)
class PersonRole:
    """One role a person holds for one organisation."""

    orgno: str
    role: PortalRole


@dataclass(frozen=True, slots=True)
class Person:
    """A portal account: argon2 hash only (never the password), mobile for SMS, roles per organisation."""

    username: str
    name: str
    mobile: str
    password_hash: str
    roles: tuple[PersonRole, ...]
    created: datetime
    updated: datetime
    active: bool = True


@dataclass(frozen=True, slots=True)
class Change:
    """An entry of the change feed: an entity kind and key that caches must reload."""

    seq: int
    kind: str
    key: str
