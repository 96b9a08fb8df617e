"""The Protocols (ports) the rest of portvakt implements: repositories per concern, the unit of work that is their
sum, the store, the token path's narrow read port, the replay cache and the clock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar, runtime_checkable

from .models import (
    AgentClient,
    AuditEvent,
    Change,
    Client,
    ClientRelationship,
    ClientRole,
    Delegation,
    DelegationScheme,
    DelegationSource,
    IntegrationType,
    Organisation,
    Person,
    RegisteredSystem,
    Scope,
    ScopeAccess,
    SigningKey,
    SystemUser,
    SystemUserRequest,
    SystemUserType,
)


class Clock(Protocol):
    """Injected time source (aware UTC datetimes)."""

    def now(self) -> datetime: ...


class PasswordHasher(Protocol):
    """Hashes and checks people's passwords (argon2id in portvakt.altinn.passwords); never logs them."""

    def hash(self, password: str) -> str:
        """A salted hash in PHC string form."""
        ...

    def verify(self, password_hash: str, password: str) -> bool:
        """True if the password matches; False on a mismatch or an unreadable hash (raises only an
        implementation's own "busy" error when it bounds how many checks run at once)."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than this hasher's."""
        ...

    def dummy_hash(self) -> str:
        """A hash of a random secret with this hasher's parameters, to verify against for unknown users."""
        ...


class OrganisationRepository(Protocol):
    """Organisations by orgno (docs/protocol.md §3)."""

    def get_org(self, orgno: str) -> Organisation | None: ...
    def put_org(self, org: Organisation) -> None: ...
    def list_orgs(self) -> Sequence[Organisation]: ...


class ClientReads(Protocol):
    """What the token path reads of clients (docs/protocol.md §1.6)."""

    def get_client(self, client_id: str) -> Client | None: ...


class ClientRepository(ClientReads, Protocol):
    """Clients; their keys travel with them (docs/protocol.md §3.2, §3.3)."""

    def put_client(self, client: Client) -> None: ...
    def list_clients(
        self,
        *,
        client_orgno: str | None = None,
        supplier_orgno: str | None = None,
        integration_type: IntegrationType | None = None,
        include_inactive: bool = False,
        after_client_id: str | None = None,
        limit: int = 100,
    ) -> Sequence[Client]: ...
    def get_key_holders(self, kids: Sequence[str]) -> Mapping[str, str]:
        """kid -> client_id of the client, active or not, holding a key with that kid, for those of `kids` that are
        registered (docs/protocol.md §3.3: a kid names one key across all clients)."""
        ...


class ScopeReads(Protocol):
    """What the token path reads of scopes and their access lists (docs/protocol.md §1.6)."""

    def get_scope(self, name: str) -> Scope | None: ...
    def get_access(self, scope: str, consumer_orgno: str) -> ScopeAccess | None: ...


class ScopeRepository(ScopeReads, Protocol):
    """Scopes, their access lists and the prefixes assigned to API providers (docs/protocol.md §3.4)."""

    def put_scope(self, scope: Scope) -> None: ...
    def list_scopes(self, *, owner_orgno: str | None = None, include_inactive: bool = False) -> Sequence[Scope]: ...
    def put_access(self, access: ScopeAccess) -> None: ...
    def delete_access(self, scope: str, consumer_orgno: str) -> None: ...
    def list_access(self, *, scope: str | None = None, consumer_orgno: str | None = None) -> Sequence[ScopeAccess]: ...
    def get_prefix_owner(self, prefix: str) -> str | None: ...
    def put_prefix(self, prefix: str, owner_orgno: str) -> None: ...
    def list_prefixes(self, owner_orgno: str | None = None) -> Sequence[tuple[str, str]]:
        """(prefix, owner_orgno) pairs, sorted by prefix; all owners when owner_orgno is None."""
        ...


class DelegationReads(Protocol):
    """What the token path reads of delegations (docs/protocol.md §4.2)."""

    def has_delegation(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        """docs/protocol.md §4.2 step 4: an active delegation from consumer to supplier of an active scheme naming
        scope."""
        ...


class DelegationRepository(DelegationReads, Protocol):
    """Delegation sources, schemes and delegations (docs/protocol.md §3.4, §4.1, §4.3)."""

    def get_delegation_source(self, name: str) -> DelegationSource | None: ...
    def put_delegation_source(self, source: DelegationSource) -> None: ...
    def list_delegation_sources(self) -> Sequence[DelegationSource]: ...
    def get_scheme(self, scheme_id: str) -> DelegationScheme | None: ...
    def put_scheme(self, scheme: DelegationScheme) -> None: ...
    def list_schemes(self, *, owner_orgno: str | None = None, scope: str | None = None,
                     include_inactive: bool = False) -> Sequence[DelegationScheme]:
        """Sorted by scheme_id; `scope` keeps the schemes that name it."""
        ...
    def get_delegation(self, delegation_id: str) -> Delegation | None: ...
    def put_delegation(self, delegation: Delegation) -> None: ...
    def list_delegations(self, *, consumer_orgno: str | None = None, supplier_orgno: str | None = None,
                         scheme_id: str | None = None, include_revoked: bool = False) -> Sequence[Delegation]:
        """Sorted by (created, delegation_id); revoked ones only when asked."""
        ...


class SystemUserReads(Protocol):
    """What the token path reads of system users (docs/protocol.md §6.5, the lookup)."""

    def find_system_user(self, client_id: str, vendor_orgno: str, owner_orgno: str,
                         external_ref: str) -> SystemUser | None:
        """docs/protocol.md §6.5: the owner's system user with this external_ref, not deleted, of a system not
        deleted whose vendor is vendor_orgno and whose client ids name client_id; the first by seq, or None."""
        ...


class SystemRegisterRepository(SystemUserReads, Protocol):
    """The system register, system-user requests, system users, agents' clients and client relationships
    (docs/protocol.md §6)."""

    def get_system(self, system_id: str) -> RegisteredSystem | None:
        """The system with this id, deleted or not."""
        ...

    def put_system(self, system: RegisteredSystem) -> None:
        """Insert or replace; Conflict when another system not deleted holds one of its client ids (compared
        without case)."""
        ...

    def list_systems(self, *, vendor_orgno: str | None = None,
                     include_deleted: bool = False) -> Sequence[RegisteredSystem]:
        """Sorted by system_id."""
        ...

    def systems_with_client_id(self, client_id: str) -> Sequence[RegisteredSystem]:
        """The systems, not deleted, whose client ids name client_id (compared without case), by system_id."""
        ...

    def get_request(self, request_id: str) -> SystemUserRequest | None: ...
    def put_request(self, request: SystemUserRequest) -> None: ...

    def find_request(self, system_id: str, party_orgno: str, external_ref: str,
                     user_type: SystemUserType) -> SystemUserRequest | None:
        """The request not deleted with this key, or None."""
        ...

    def list_requests(self, system_id: str, user_type: SystemUserType, *, after: tuple[datetime, str] | None = None,
                      limit: int = 50) -> Sequence[SystemUserRequest]:
        """The system's requests not deleted of this type, by (created, request_id), after the `after` pair."""
        ...

    def get_system_user(self, system_user_id: str) -> SystemUser | None:
        """The system user with this id, deleted or not."""
        ...

    def put_system_user(self, user: SystemUser) -> SystemUser:
        """Insert or replace; a new one (seq 0) gets the next seq, which the returned copy carries."""
        ...

    def list_system_users(self, *, system_id: str | None = None, owner_orgno: str | None = None,
                          include_deleted: bool = False, after_seq: int = 0,
                          limit: int = 1000) -> Sequence[SystemUser]:
        """By seq, those with a seq above after_seq."""
        ...

    def put_agent_client(self, client: AgentClient) -> None: ...
    def delete_agent_client(self, system_user_id: str, client_orgno: str) -> bool:
        """True if it was there."""
        ...

    def list_agent_clients(self, system_user_id: str) -> Sequence[AgentClient]:
        """By client_orgno."""
        ...

    def has_agent_client(self, system_user_id: str, client_orgno: str) -> bool: ...

    def put_client_relationship(self, relationship: ClientRelationship) -> None:
        """Insert or replace (key: client, facilitator, role); NotFound unless both organisations are registered."""
        ...

    def delete_client_relationship(self, client_orgno: str, facilitator_orgno: str, role: ClientRole) -> bool:
        """True if it was there."""
        ...

    def list_client_relationships(self, *, client_orgno: str | None = None,
                                  facilitator_orgno: str | None = None) -> Sequence[ClientRelationship]:
        """By (client_orgno, facilitator_orgno, role)."""
        ...


class PeopleRepository(Protocol):
    """People: portal accounts and their roles per organisation (docs/protocol.md §4.4)."""

    def get_person(self, username: str) -> Person | None: ...
    def put_person(self, person: Person) -> None: ...
    def list_people(self, orgno: str | None = None) -> Sequence[Person]:
        """Sorted by username, inactive ones too; `orgno` keeps those holding any role for it."""
        ...


class SigningKeyReads(Protocol):
    """What the token path reads of the server's own signing keys (docs/protocol.md §2.5)."""

    def list_signing_keys(self) -> Sequence[SigningKey]: ...


class SigningKeyRepository(SigningKeyReads, Protocol):
    """The server's own signing keys and their rotation (decision K4)."""

    def put_signing_key(self, key: SigningKey) -> None: ...
    def delete_signing_key(self, kid: str) -> None: ...


class AltinnKeyRepository(Protocol):
    """The Altinn side's own signing keys, for the tokens its exchange issues (docs/protocol.md §6.7); kept apart from
    the token service's keys, in the same form (the private half encrypted under the key-encryption key)."""

    def list_altinn_keys(self) -> Sequence[SigningKey]: ...
    def put_altinn_key(self, key: SigningKey) -> None: ...
    def delete_altinn_key(self, kid: str) -> None: ...


class AuditLog(Protocol):
    """The append-only audit trail (docs/protocol.md §3.5) and the change feed (decision S2)."""

    def append_audit(self, event: AuditEvent) -> None: ...
    def list_audit(
        self, *, org: str, entity_kind: str | None = None, entity_key: str | None = None,
        since: datetime | None = None, limit: int = 100,
    ) -> Sequence[AuditEvent]: ...
    def record_change(self, kind: str, key: str) -> None: ...


class TokenReads(ClientReads, ScopeReads, DelegationReads, SystemUserReads, SigningKeyReads, Protocol):
    """Everything the token path (/token, /jwk) reads: its narrow read port (docs/protocol.md §1.6, decision S5)."""


class UnitOfWork(OrganisationRepository, ClientRepository, ScopeRepository, DelegationRepository,
                 SystemRegisterRepository, PeopleRepository, SigningKeyRepository, AltinnKeyRepository,
                 AuditLog, Protocol):
    """One transaction over every repository: writes commit together with their audit events and change-feed rows.

    Reads see the transaction's own writes. Leaving the context without an exception commits;
    an exception rolls everything back (nothing is ever half-written; decision S3).
    """


W_co = TypeVar("W_co", bound=TokenReads, covariant=True)


class TokenStore(Protocol):
    """The token path's view of a Store: read-only units of work with TokenReads, and the change feed (decision S2)."""

    def read(self) -> AbstractContextManager[TokenReads]:
        """A read-only unit of work: a consistent snapshot that takes no write lock; writes raise."""
        ...

    def changes_since(self, seq: int) -> Sequence[Change]:
        """Change-feed entries with a sequence number above `seq`, oldest first."""
        ...

    def last_change_seq(self) -> int: ...


class StoreOf(TokenStore, Protocol[W_co]):
    """A transactional store whose units of work are W_co (decorators such as ObservedStore pass them through)."""

    def begin(self) -> AbstractContextManager[W_co]: ...

    def read(self) -> AbstractContextManager[W_co]:
        """A read-only unit of work: a consistent snapshot that takes no write lock; writes raise."""
        ...

    def prune_changes(self, before: datetime) -> int: ...

    def close(self) -> None: ...


class Store(StoreOf[UnitOfWork], Protocol):
    """A transactional store of the domain (memory, SQLite or PostgreSQL; decisions S1–S3)."""


class IssuedBeforeLoss(Exception):
    """A grant issued before the replay store lost its data (docs/security.md, Replay after a store crash): it may
    have been used before the loss, so it is refused until every grant then valid has expired.

    The message is safe to show to the client: it names only the two moments.
    """

    def __init__(self, lost_at: datetime, until: datetime) -> None:
        super().__init__(f"the replay store lost its data; grants issued before {_utc(lost_at)} are refused "
                         f"until {_utc(until)}")
        self.lost_at = lost_at
        self.until = until


def _utc(moment: datetime) -> str:
    """RFC 3339 in UTC, whole seconds: 2025-01-31T12:00:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ReplayCache(Protocol):
    """Single-use grants (docs/protocol.md §1.3 jti): remembers a key until it expires, across restarts and workers."""

    def first_use(self, key: bytes, expires: datetime, issued_at: datetime | None = None) -> bool:
        """Record the key; True when it was not seen before (or had expired), False on a replay. A store that can
        lose its data raises IssuedBeforeLoss for a grant whose `issued_at` (its iat) is before a loss it detected,
        within the loss window; `issued_at` None (no grant: the readiness probe) is never refused for that."""
        ...

    def purge(self, now: datetime) -> int:
        """Forget keys that expired before `now`; returns how many."""
        ...


@dataclass(frozen=True, slots=True)
class ReplayClaim:
    """One single-use key to record (ReplayCache.first_use's arguments)."""

    key: bytes
    expires: datetime
    issued_at: datetime | None = None


#: What a claim came to: True first use, False a replay, or the loss that refuses it.
ClaimOutcome = bool | IssuedBeforeLoss


@runtime_checkable
class BatchReplayCache(ReplayCache, Protocol):
    """A replay cache that records many keys in one round trip."""

    def first_use_many(self, claims: Sequence[ReplayClaim], within: float | None = None) -> list[ClaimOutcome]:
        """first_use for each claim, in order, in one statement or round trip; a key claimed twice in the batch is a
        first use once, then a replay. `within`: the seconds the caller can still wait (None: the store's own
        bound). A store failure raises StoreUnavailable for the whole batch."""
        ...


def first_use_all(replay: ReplayCache, claims: Sequence[ReplayClaim],
                  within: float | None = None) -> list[ClaimOutcome]:
    """Every claim's outcome: one round trip when the cache can batch, else one first_use each."""
    if isinstance(replay, BatchReplayCache):
        return replay.first_use_many(claims, within)
    outcomes: list[ClaimOutcome] = []
    for claim in claims:
        try:
            outcomes.append(replay.first_use(claim.key, claim.expires, claim.issued_at))
        except IssuedBeforeLoss as lost:
            outcomes.append(lost)
    return outcomes

