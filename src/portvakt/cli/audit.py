"""`portvakt audit`: the audit trail of one organisation on the configured database (who, what, when)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from portvakt.domain.audit import snapshot
from portvakt.domain.errors import Invalid
from portvakt.domain.models import AuditEvent
from portvakt.domain.orgno import require_orgno

from .common import open_store, readable_errors


def parse_since(value: str | None) -> datetime | None:
    """An ISO 8601 time; without an offset it is UTC."""
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
        return at.astimezone(UTC) if at.tzinfo is not None else at.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise Invalid(f"--since must be an ISO 8601 time, e.g. 2025-01-31T12:00:00Z, got {value[:40]!r}",
                      field="since") from None


def _table(events: Sequence[AuditEvent]) -> Table:
    table = Table("at", "action", "kind", "key", "actor", "orgs", title="audit trail, newest first")
    for e in events:
        actor = " ".join(x for x in (e.actor_orgno, e.actor_client_id, e.actor_person) if x)
        table.add_row(e.at.isoformat(timespec="seconds"), e.action, e.entity_kind, e.entity_key, actor,
                      " ".join(e.org_scope))
    return table


def audit(
    org: Annotated[str, typer.Option(help="the organisation's orgno: its events only")],
    kind: Annotated[str | None, typer.Option(help="only this entity kind, e.g. scope, access, client")] = None,
    key: Annotated[str | None, typer.Option(help="only this entity key, e.g. a scope name")] = None,
    since: Annotated[str | None, typer.Option(help="only events at or after this ISO 8601 time")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="at most this many events")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """Show who changed what and when for one organisation, newest first."""
    with readable_errors():
        require_orgno(org, "org")
        after = parse_since(since)
        with open_store().read() as uow:
            events = uow.list_audit(org=org, entity_kind=kind, entity_key=key, since=after, limit=limit)
    if as_json:
        for e in events:
            typer.echo(json.dumps(snapshot(e), ensure_ascii=False))
    else:
        Console().print(_table(events))


def register(app: typer.Typer) -> None:
    """Attach `portvakt audit`."""
    app.command("audit")(audit)
