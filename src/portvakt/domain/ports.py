"""The Protocols (ports) the rest of portvakt implements: store, unit of work, replay cache, clock."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from .models import (
    AuditEvent,
    Change,
    Client,
    Delegation,
    DelegationScheme,
    DelegationSource,
    IntegrationType,
    Organisation,
    Person,
    Scope,
    ScopeAccess,
    SigningKey,
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


class UnitOfWork(Protocol):
    """One transaction: every write inside commits together with its audit events and change-feed rows.

    Reads see the transaction's own writes. Leaving the context without an exception commits;
    an exception rolls everything back (nothing is ever half-written).
    """

    # organisations
    def get_org(self, orgno: str) -> Organisation | None: ...
    def put_org(self, org: Organisation) -> None: ...
    def list_orgs(self) -> Sequence[Organisation]: ...

    # clients (keys travel with the client)
    def get_client(self, client_id: str) -> Client | None: ...
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

    # scopes and their access lists
    def get_scope(self, name: str) -> Scope | None: ...
    def put_scope(self, scope: Scope) -> None: ...
    def list_scopes(self, *, owner_orgno: str | None = None, include_inactive: bool = False) -> Sequence[Scope]: ...
    def get_access(self, scope: str, consumer_orgno: str) -> ScopeAccess | None: ...
    def put_access(self, access: ScopeAccess) -> None: ...
    def delete_access(self, scope: str, consumer_orgno: str) -> None: ...
    def list_access(self, *, scope: str | None = None, consumer_orgno: str | None = None) -> Sequence[ScopeAccess]: ...

    # prefixes assigned to API providers
    def get_prefix_owner(self, prefix: str) -> str | None: ...
    def put_prefix(self, prefix: str, owner_orgno: str) -> None: ...
    def list_prefixes(self, owner_orgno: str | None = None) -> Sequence[tuple[str, str]]:
        """(prefix, owner_orgno) pairs, sorted by prefix; all owners when owner_orgno is None."""
        ...

    # delegation sources (docs/protocol.md §3.4, §4.1)
    def get_delegation_source(self, name: str) -> DelegationSource | None: ...
    def put_delegation_source(self, source: DelegationSource) -> None: ...
    def list_delegation_sources(self) -> Sequence[DelegationSource]: ...

    # the server's own signing keys
    def list_signing_keys(self) -> Sequence[SigningKey]: ...
    def put_signing_key(self, key: SigningKey) -> None: ...
    def delete_signing_key(self, kid: str) -> None: ...

    # the Altinn side: delegation schemes and delegations (docs/protocol.md §4)
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
    def has_delegation(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        """docs/protocol.md §4.2 step 4: an active delegation from consumer to supplier of an active scheme naming
        scope."""
        ...

    # people: portal accounts and their roles per organisation
    def get_person(self, username: str) -> Person | None: ...
    def put_person(self, person: Person) -> None: ...
    def list_people(self, orgno: str | None = None) -> Sequence[Person]:
        """Sorted by username, inactive ones too; `orgno` keeps those holding any role for it."""
        ...

    # audit trail (append-only) and change feed
    def append_audit(self, event: AuditEvent) -> None: ...
    def list_audit(
        self, *, org: str, entity_kind: str | None = None, entity_key: str | None = None,
        since: datetime | None = None, limit: int = 100,
    ) -> Sequence[AuditEvent]: ...
    def record_change(self, kind: str, key: str) -> None: ...


class Store(Protocol):
    """A transactional store of the domain (memory, SQLite or PostgreSQL)."""

    def begin(self) -> AbstractContextManager[UnitOfWork]: ...

    def read(self) -> AbstractContextManager[UnitOfWork]:
        """A read-only unit of work: a consistent snapshot that takes no write lock; writes raise."""
        ...

    def changes_since(self, seq: int) -> Sequence[Change]:
        """Change-feed entries with a sequence number above `seq`, oldest first."""
        ...

    def last_change_seq(self) -> int: ...

    def prune_changes(self, before: datetime) -> int: ...

    def close(self) -> None: ...


class ReplayCache(Protocol):
    """Single-use grants (docs/protocol.md §1.3 jti): remembers a key until it expires, across restarts and workers."""

    def first_use(self, key: bytes, expires: datetime) -> bool:
        """Record the key; True when it was not seen before (or had expired), False on a replay."""
        ...

    def purge(self, now: datetime) -> int:
        """Forget keys that expired before `now`; returns how many."""
        ...


def iter_all_clients(uow: UnitOfWork, **filters: object) -> Iterator[Client]:
    """Page through every client matching the filters (keyset pagination on client_id)."""
    after: str | None = None
    while True:
        page = uow.list_clients(after_client_id=after, limit=500, **filters)  # type: ignore[arg-type]
        yield from page
        if len(page) < 500:
            return
        after = page[-1].client_id
