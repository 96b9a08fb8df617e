"""Who made a change, and the one helper that records it with the change feed."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from .models import AuditEvent
from .ports import UnitOfWork

#: The client_id prefix of an operator at the CLI (an API caller's client_id is a registered client's).
OPERATOR_CLIENT = "operator:"


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller of a use-case: an organisation via its admin token's client (the portal's client and
    the signed-in person when the portal acts for the organisation), or an operator (CLI)."""

    orgno: str | None
    client_id: str | None
    person: str | None = None

    @staticmethod
    def operator(name: str = "cli") -> Actor:
        """An operator using the admin CLI on the server's database."""
        return Actor(None, f"{OPERATOR_CLIENT}{name}")

    @property
    def is_operator(self) -> bool:
        """The operator at the CLI (no organisation, an operator: client), never an API caller."""
        return self.orgno is None and (self.client_id or "").startswith(OPERATOR_CLIENT)


#: Fields that never enter the audit trail: the encrypted signing key and a person's password hash.
SECRET_FIELDS = frozenset({"encrypted_private_key", "password_hash"})


def snapshot(entity: Any) -> dict[str, Any] | None:
    """A JSON-ready copy of an entity for the audit trail, without its SECRET_FIELDS."""
    if entity is None:
        return None
    data = dataclasses.asdict(entity)
    return {k: _plain(v) for k, v in data.items() if k not in SECRET_FIELDS}


def _plain(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, tuple | list):
        return [_plain(i) for i in v]
    if isinstance(v, dict):
        return {k: _plain(i) for k, i in v.items()}
    return v


def record(uow: UnitOfWork, *, actor: Actor, action: str, kind: str, key: str, orgs: tuple[str, ...],
           before: Any, after: Any, now: datetime) -> None:
    """Append the audit event and the change-feed entry, inside the caller's transaction."""
    uow.append_audit(AuditEvent(at=now, actor_orgno=actor.orgno, actor_client_id=actor.client_id,
                                action=action, entity_kind=kind, entity_key=key,
                                org_scope=tuple(sorted({o for o in orgs if o})),
                                before=snapshot(before), after=snapshot(after), actor_person=actor.person))
    uow.record_change(kind, key)
