"""The in-memory reference store: copy-on-begin, swap-on-commit writes under one lock; lock-free reads."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from portvakt.domain.clock import SystemClock
from portvakt.domain.errors import Conflict, NotFound
from portvakt.domain.models import (
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
from portvakt.domain.ports import Clock

from .readonly import writes


@dataclasses.dataclass
class _State:
    orgs: dict[str, Organisation] = dataclasses.field(default_factory=dict)
    clients: dict[str, Client] = dataclasses.field(default_factory=dict)
    scopes: dict[str, Scope] = dataclasses.field(default_factory=dict)
    access: dict[tuple[str, str], ScopeAccess] = dataclasses.field(default_factory=dict)
    prefixes: dict[str, str] = dataclasses.field(default_factory=dict)
    signing_keys: dict[str, SigningKey] = dataclasses.field(default_factory=dict)
    delegation_sources: dict[str, DelegationSource] = dataclasses.field(default_factory=dict)
    schemes: dict[str, DelegationScheme] = dataclasses.field(default_factory=dict)
    delegations: dict[str, Delegation] = dataclasses.field(default_factory=dict)
    people: dict[str, Person] = dataclasses.field(default_factory=dict)
    audit: list[AuditEvent] = dataclasses.field(default_factory=list)
    changes: list[Change] = dataclasses.field(default_factory=list)

    def copy(self) -> _State:
        return _State(dict(self.orgs), dict(self.clients), dict(self.scopes), dict(self.access),
                      dict(self.prefixes), dict(self.signing_keys), dict(self.delegation_sources),
                      dict(self.schemes), dict(self.delegations), dict(self.people), list(self.audit),
                      list(self.changes))


class MemoryUnitOfWork:
    """A transaction over a private copy of the state, or (read_only) over the committed state itself."""

    def __init__(self, state: _State, next_seq: int, *, read_only: bool = False) -> None:
        self.state = state
        self._next_seq = next_seq
        self.read_only = read_only

    def get_org(self, orgno: str) -> Organisation | None:
        return self.state.orgs.get(orgno)

    @writes
    def put_org(self, org: Organisation) -> None:
        self.state.orgs[org.orgno] = org

    def list_orgs(self) -> Sequence[Organisation]:
        return sorted(self.state.orgs.values(), key=lambda o: o.orgno)

    def get_client(self, client_id: str) -> Client | None:
        return self.state.clients.get(client_id)

    @writes
    def put_client(self, client: Client) -> None:
        self.state.clients[client.client_id] = client

    def list_clients(
        self,
        *,
        client_orgno: str | None = None,
        supplier_orgno: str | None = None,
        integration_type: IntegrationType | None = None,
        include_inactive: bool = False,
        after_client_id: str | None = None,
        limit: int = 100,
    ) -> Sequence[Client]:
        found = [
            c for c in self.state.clients.values()
            if (client_orgno is None or c.client_orgno == client_orgno)
            and (supplier_orgno is None or c.supplier_orgno == supplier_orgno)
            and (integration_type is None or c.integration_type == integration_type)
            and (include_inactive or c.active)
            and (after_client_id is None or c.client_id > after_client_id)
        ]
        return sorted(found, key=lambda c: c.client_id)[:limit]

    def get_scope(self, name: str) -> Scope | None:
        return self.state.scopes.get(name)

    @writes
    def put_scope(self, scope: Scope) -> None:
        self.state.scopes[scope.name] = scope

    def list_scopes(self, *, owner_orgno: str | None = None, include_inactive: bool = False) -> Sequence[Scope]:
        found = [s for s in self.state.scopes.values()
                 if (owner_orgno is None or s.owner_orgno == owner_orgno) and (include_inactive or s.active)]
        return sorted(found, key=lambda s: s.name)

    def get_access(self, scope: str, consumer_orgno: str) -> ScopeAccess | None:
        return self.state.access.get((scope, consumer_orgno))

    @writes
    def put_access(self, access: ScopeAccess) -> None:
        self.state.access[(access.scope, access.consumer_orgno)] = access

    @writes
    def delete_access(self, scope: str, consumer_orgno: str) -> None:
        self.state.access.pop((scope, consumer_orgno), None)

    def list_access(self, *, scope: str | None = None, consumer_orgno: str | None = None) -> Sequence[ScopeAccess]:
        found = [a for a in self.state.access.values()
                 if (scope is None or a.scope == scope)
                 and (consumer_orgno is None or a.consumer_orgno == consumer_orgno)]
        return sorted(found, key=lambda a: (a.scope, a.consumer_orgno))

    def get_prefix_owner(self, prefix: str) -> str | None:
        return self.state.prefixes.get(prefix)

    @writes
    def put_prefix(self, prefix: str, owner_orgno: str) -> None:
        self.state.prefixes[prefix] = owner_orgno

    def list_prefixes(self, owner_orgno: str | None = None) -> Sequence[tuple[str, str]]:
        return sorted((p, o) for p, o in self.state.prefixes.items() if owner_orgno in (None, o))

    def get_delegation_source(self, name: str) -> DelegationSource | None:
        return self.state.delegation_sources.get(name)

    @writes
    def put_delegation_source(self, source: DelegationSource) -> None:
        for other in self.state.delegation_sources.values():
            if other.issuer == source.issuer and other.name != source.name:
                raise Conflict(f"issuer {source.issuer} belongs to delegation source {other.name}")
        self.state.delegation_sources[source.name] = source

    def list_delegation_sources(self) -> Sequence[DelegationSource]:
        return sorted(self.state.delegation_sources.values(), key=lambda s: s.name)

    def list_signing_keys(self) -> Sequence[SigningKey]:
        return sorted(self.state.signing_keys.values(), key=lambda k: k.created)

    @writes
    def put_signing_key(self, key: SigningKey) -> None:
        self.state.signing_keys[key.kid] = key

    @writes
    def delete_signing_key(self, kid: str) -> None:
        self.state.signing_keys.pop(kid, None)

    def get_scheme(self, scheme_id: str) -> DelegationScheme | None:
        return self.state.schemes.get(scheme_id)

    @writes
    def put_scheme(self, scheme: DelegationScheme) -> None:
        self.state.schemes[scheme.scheme_id] = scheme

    def list_schemes(self, *, owner_orgno: str | None = None, scope: str | None = None,
                     include_inactive: bool = False) -> Sequence[DelegationScheme]:
        found = [s for s in self.state.schemes.values()
                 if (owner_orgno is None or s.owner_orgno == owner_orgno)
                 and (scope is None or scope in s.scopes)
                 and (include_inactive or s.active)]
        return sorted(found, key=lambda s: s.scheme_id)

    def get_delegation(self, delegation_id: str) -> Delegation | None:
        return self.state.delegations.get(delegation_id)

    @writes
    def put_delegation(self, delegation: Delegation) -> None:
        if delegation.scheme_id not in self.state.schemes:
            raise NotFound(f"no delegation scheme {delegation.scheme_id}")
        self.state.delegations[delegation.delegation_id] = delegation

    def list_delegations(self, *, consumer_orgno: str | None = None, supplier_orgno: str | None = None,
                         scheme_id: str | None = None, include_revoked: bool = False) -> Sequence[Delegation]:
        found = [d for d in self.state.delegations.values()
                 if (consumer_orgno is None or d.consumer_orgno == consumer_orgno)
                 and (supplier_orgno is None or d.supplier_orgno == supplier_orgno)
                 and (scheme_id is None or d.scheme_id == scheme_id)
                 and (include_revoked or d.active)]
        return sorted(found, key=lambda d: (d.created, d.delegation_id))

    def has_delegation(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        for d in self.state.delegations.values():
            if d.consumer_orgno == consumer_orgno and d.supplier_orgno == supplier_orgno and d.active:
                scheme = self.state.schemes.get(d.scheme_id)
                if scheme is not None and scheme.active and scope in scheme.scopes:
                    return True
        return False

    def get_person(self, username: str) -> Person | None:
        return self.state.people.get(username)

    @writes
    def put_person(self, person: Person) -> None:
        self.state.people[person.username] = person

    def list_people(self, orgno: str | None = None) -> Sequence[Person]:
        found = [p for p in self.state.people.values() if orgno is None or any(r.orgno == orgno for r in p.roles)]
        return sorted(found, key=lambda p: p.username)

    @writes
    def append_audit(self, event: AuditEvent) -> None:
        self.state.audit.append(dataclasses.replace(event, seq=len(self.state.audit) + 1))

    def list_audit(
        self, *, org: str, entity_kind: str | None = None, entity_key: str | None = None,
        since: datetime | None = None, limit: int = 100,
    ) -> Sequence[AuditEvent]:
        found = [e for e in self.state.audit
                 if org in e.org_scope
                 and (entity_kind is None or e.entity_kind == entity_kind)
                 and (entity_key is None or e.entity_key == entity_key)
                 and (since is None or e.at >= since)]
        return list(reversed(found))[:limit]

    @writes
    def record_change(self, kind: str, key: str) -> None:
        self.state.changes.append(Change(self._next_seq, kind, key))
        self._next_seq += 1


class MemoryStore:
    """The reference Store: what the SQL stores must behave like (tests/storage runs on all)."""

    def __init__(self) -> None:
        self._state = _State()
        self._lock = threading.RLock()

    @contextmanager
    def begin(self) -> Iterator[MemoryUnitOfWork]:
        """Work on a copy; swap it in on success. A finished unit of work accepts no more writes."""
        with self._lock:
            uow = MemoryUnitOfWork(self._state.copy(), self.last_change_seq() + 1)
            try:
                yield uow
                self._state = uow.state
            finally:
                uow.read_only = True

    @contextmanager
    def read(self) -> Iterator[MemoryUnitOfWork]:
        """The committed state as it is now: never written in place (commits swap it), so no lock or copy."""
        yield MemoryUnitOfWork(self._state, 0, read_only=True)

    def changes_since(self, seq: int) -> Sequence[Change]:
        return [c for c in self._state.changes if c.seq > seq]

    def last_change_seq(self) -> int:
        changes = self._state.changes
        return changes[-1].seq if changes else 0

    def prune_changes(self, before: datetime) -> int:
        return 0

    def close(self) -> None:
        return None


class MemoryReplayCache:
    """In-process replay cache; durable only for the life of the process (tests and `--store memory`).

    Whether a stored entry has expired is judged by `clock` when given, else by the wall clock.
    """

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._seen: dict[bytes, datetime] = {}
        self._lock = threading.Lock()
        self._clock: Clock = clock or SystemClock()

    def first_use(self, key: bytes, expires: datetime) -> bool:
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None and seen > self._clock.now():
                return False
            self._seen[key] = expires
            return True

    def purge(self, now: datetime) -> int:
        with self._lock:
            gone = [k for k, exp in self._seen.items() if exp <= now]
            for k in gone:
                del self._seen[k]
            return len(gone)
