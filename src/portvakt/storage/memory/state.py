"""The memory store's state and the transaction its repositories share (copy-on-begin, swap-on-commit)."""

from __future__ import annotations

import dataclasses

from portvakt.domain.models import (
    AgentClient,
    AuditEvent,
    Change,
    Client,
    ClientRelationship,
    ClientRole,
    Delegation,
    DelegationScheme,
    DelegationSource,
    Organisation,
    Person,
    RegisteredSystem,
    Scope,
    ScopeAccess,
    SigningKey,
    SystemUser,
    SystemUserRequest,
)


@dataclasses.dataclass
class MemoryState:
    """Every table of the domain as a dict (or list), keyed as the SQL tables are."""

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
    systems: dict[str, RegisteredSystem] = dataclasses.field(default_factory=dict)
    system_user_requests: dict[str, SystemUserRequest] = dataclasses.field(default_factory=dict)
    system_users: dict[str, SystemUser] = dataclasses.field(default_factory=dict)
    #: The last seq given to a system user (a sequence: never given twice, also after a delete).
    system_user_seq: int = 0
    agent_clients: dict[tuple[str, str], AgentClient] = dataclasses.field(default_factory=dict)
    client_relationships: dict[tuple[str, str, ClientRole], ClientRelationship] = dataclasses.field(
        default_factory=dict)
    altinn_keys: dict[str, SigningKey] = dataclasses.field(default_factory=dict)

    def copy(self) -> MemoryState:
        """A copy whose containers can change without touching this one (the models are immutable)."""
        copied = dataclasses.replace(self)
        for f in dataclasses.fields(self):  # every container, so a new one can't be forgotten here
            setattr(copied, f.name, _copied(getattr(self, f.name)))
        return copied


def _copied(value: object) -> object:
    """A shallow copy of a container (dict or list); anything else (a counter) as it is."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value


class MemoryTransaction:
    """A private copy of the state (or, read_only, the committed state itself) and the next change-feed seq."""

    def __init__(self, state: MemoryState, next_seq: int, *, read_only: bool = False) -> None:
        self.state = state
        self.next_seq = next_seq
        self.read_only = read_only


class MemoryRepository:
    """A repository of one concern over the unit of work's shared transaction (decisions S6, S7)."""

    def __init__(self, tx: MemoryTransaction) -> None:
        self._tx = tx
        self._state = tx.state

    @property
    def read_only(self) -> bool:
        """True on a unit of work from Store.read() or after its block ended: every write raises ReadOnlyError."""
        return self._tx.read_only
