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


# System users (Altinn 3 "systembruker", docs/protocol.md §6): the system register, requests and system users.

class RequestStatus(StrEnum):
    """A system-user request's status, as Altinn spells it (docs/protocol.md §6.3)."""

    NEW = "New"
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    DENIED = "Denied"
    TIMEDOUT = "Timedout"


class SystemUserType(StrEnum):
    """A standard system user acts for its owner; an agent one for the owner's clients (docs/protocol.md §6.4)."""

    STANDARD = "standard"
    AGENT = "agent"


@dataclass(frozen=True, slots=True)
class SystemRight:
    """One right a system asks for: a resource, named by (id, value) attribute pairs such as
    ("urn:altinn:resource", "app_ttd_demo"), and an optional action (docs/protocol.md §6.1)."""

    resource: tuple[tuple[str, str], ...]
    action: str | None = None

    @property
    def resource_ids(self) -> tuple[str, ...]:
        """The values of its `urn:altinn:resource` attributes."""
        return tuple(value for key, value in self.resource if key == "urn:altinn:resource")

    @property
    def key(self) -> tuple[str | None, frozenset[tuple[str, str]]]:
        """What makes two rights the same (docs/protocol.md §6.1): the action and the set of resource attributes."""
        return self.action, frozenset(self.resource)


@dataclass(frozen=True, slots=True)
class RegisteredSystem:
    """A vendor's system in the system register (docs/protocol.md §6.1): `system_id` is `<vendor orgno>_<name>`,
    `internal_id` the uuid the register made; a deleted system is kept (soft delete) and frees its client ids."""

    system_id: str
    internal_id: str
    vendor_orgno: str
    name: dict[str, str]
    description: dict[str, str]
    created: datetime
    last_updated: datetime
    rights: tuple[SystemRight, ...] = ()
    access_packages: tuple[str, ...] = ()
    client_ids: tuple[str, ...] = ()
    allowed_redirect_urls: tuple[str, ...] = ()
    is_visible: bool = True
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class SystemUserRequest:
    """A vendor's request that a customer approve a system user (docs/protocol.md §6.2); key (system_id,
    party_orgno, external_ref, user_type). `system_user_id` is set when it was approved."""

    request_id: str
    user_type: SystemUserType
    system_id: str
    vendor_orgno: str
    party_orgno: str
    external_ref: str
    integration_title: str
    status: RequestStatus
    created: datetime
    last_updated: datetime
    rights: tuple[SystemRight, ...] = ()
    access_packages: tuple[str, ...] = ()
    redirect_url: str | None = None
    escalated: bool = False
    decided_by: str | None = None
    system_user_id: str | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class SystemUser:
    """A system user: the rights (or access packages) a customer, its owner, approved for one vendor system
    (docs/protocol.md §6.2). `seq` orders the vendor's paged lists; a deleted one is kept (soft delete)."""

    system_user_id: str
    user_type: SystemUserType
    system_id: str
    vendor_orgno: str
    owner_orgno: str
    external_ref: str
    integration_title: str
    created: datetime
    last_updated: datetime
    rights: tuple[SystemRight, ...] = ()
    access_packages: tuple[str, ...] = ()
    created_by: str | None = None
    request_id: str | None = None
    seq: int = 0
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class AgentClient:
    """A client an agent system user's owner (a facilitator, e.g. an accounting firm) added to it
    (docs/protocol.md §6.4): the system user may act for that client."""

    system_user_id: str
    client_orgno: str
    added: datetime
    added_by: str | None = None


class ClientRole(StrEnum):
    """The role a client organisation registered its facilitator in, in Enhetsregisteret (docs/protocol.md §6.4):
    REGN, REVI and FFOR."""

    REGNSKAPSFORER = "regnskapsforer"
    REVISOR = "revisor"
    FORRETNINGSFORER = "forretningsforer"


@dataclass(frozen=True, slots=True)
class ClientRelationship:
    """A client relationship (klientforhold), as the operator mirrors it from Enhetsregisteret: the client has
    registered the facilitator in `role`, so the facilitator's agent system users may take it as a client for the
    access packages that role allows (docs/protocol.md §6.4)."""

    client_orgno: str
    facilitator_orgno: str
    role: ClientRole
    created: datetime
    created_by: str | None = None
