"""The audit trail and the change feed in SQL (docs/protocol.md §3.5, decision S2)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from portvakt.domain.models import AuditEvent
from portvakt.domain.ports import AuditLog
from portvakt.storage.readonly import writes

from .. import rows
from ..schema import audit_event_orgs, audit_events, changes
from .base import SqlRepository


class SqlAuditLog(SqlRepository, AuditLog):
    """The audit_events table with the orgs that may see each event, and the changes table."""

    @writes
    def append_audit(self, event: AuditEvent) -> None:
        result = self._conn.execute(sa.insert(audit_events).values(rows.audit_values(event)))
        seq = result.inserted_primary_key[0]  # type: ignore[index]
        visible = [{"orgno": orgno, "seq": seq} for orgno in dict.fromkeys(event.org_scope)]
        if visible:
            self._conn.execute(sa.insert(audit_event_orgs), visible)

    def list_audit(
        self, *, org: str, entity_kind: str | None = None, entity_key: str | None = None,
        since: datetime | None = None, limit: int = 100,
    ) -> Sequence[AuditEvent]:
        e, o = audit_events.c, audit_event_orgs.c
        query = (sa.select(audit_events).join(audit_event_orgs, o.seq == e.seq)
                 .where(o.orgno == org).order_by(o.seq.desc()).limit(limit))
        for column, wanted in ((e.entity_kind, entity_kind), (e.entity_key, entity_key)):
            if wanted is not None:
                query = query.where(column == wanted)
        if since is not None:
            query = query.where(e.at >= since)
        return [rows.to_audit(r) for r in self._conn.execute(query)]

    #: Set once this transaction wrote a change-feed row (decision S12: the store then notifies the other nodes).
    changed = False

    @writes
    def record_change(self, kind: str, key: str) -> None:
        self._conn.execute(sa.insert(changes).values(kind=kind, key=key, at=datetime.now(UTC)))
        self.changed = True
