"""The audit trail and the change feed in memory (docs/protocol.md §3.5, decision S2)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from portvakt.domain.models import AuditEvent, Change
from portvakt.domain.ports import AuditLog
from portvakt.storage.readonly import writes

from .state import MemoryRepository


class MemoryAuditLog(MemoryRepository, AuditLog):
    """Audit events numbered in order, newest first when listed; change-feed entries numbered by the transaction."""

    @writes
    def append_audit(self, event: AuditEvent) -> None:
        self._state.audit.append(dataclasses.replace(event, seq=len(self._state.audit) + 1))

    def list_audit(
        self, *, org: str, entity_kind: str | None = None, entity_key: str | None = None,
        since: datetime | None = None, limit: int = 100,
    ) -> Sequence[AuditEvent]:
        found = [e for e in self._state.audit
                 if org in e.org_scope
                 and (entity_kind is None or e.entity_kind == entity_kind)
                 and (entity_key is None or e.entity_key == entity_key)
                 and (since is None or e.at >= since)]
        return list(reversed(found))[:limit]

    @writes
    def record_change(self, kind: str, key: str) -> None:
        self._state.changes.append(Change(self._tx.next_seq, kind, key))
        self._tx.next_seq += 1
