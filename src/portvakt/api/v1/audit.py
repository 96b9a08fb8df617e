"""GET /api/v1/audit: the caller organisation's own audit trail (who changed what, before and after)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from portvakt.domain.audit_view import org_view
from portvakt.domain.errors import Invalid
from portvakt.domain.models import AuditEvent
from portvakt.domain.policy import AUDIT_SCOPES, Caller, require

from .auth import CallerDep
from .deps import reading
from .problems import responses

router = APIRouter(tags=["audit"])

NO_NUL = r"^[^\x00]*$"


class AuditEventOut(BaseModel):
    """One audit event; `actor_client_id` and `actor_person` (the portal's signed-in person) are shown only for
    the caller's own org and the operator."""

    seq: int
    at: datetime
    actor_orgno: str | None
    actor_client_id: str | None
    actor_person: str | None = None
    action: str
    entity_kind: str
    entity_key: str
    org_scope: list[str]
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _out(caller: Caller, event: AuditEvent) -> AuditEventOut:
    """Another organisation's admin client stays its own business; its org and the change do not; people's
    personal data is never shown (audit_view.org_view)."""
    e = org_view(event, caller.orgno)
    own = e.actor_orgno in (None, caller.orgno)
    return AuditEventOut(seq=e.seq, at=e.at, actor_orgno=e.actor_orgno,
                         actor_client_id=e.actor_client_id if own else None,
                         actor_person=e.actor_person if own else None,
                         action=e.action, entity_kind=e.entity_kind, entity_key=e.entity_key,
                         org_scope=list(e.org_scope), before=e.before, after=e.after)


def _utc(at: datetime | None) -> datetime | None:
    """`since` in UTC; a time without an offset is UTC already."""
    if at is None:
        return None
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    try:
        return at.astimezone(UTC)
    except OverflowError:
        raise Invalid("since is out of range", field="since") from None


@router.get("/audit", response_model=list[AuditEventOut], responses=responses("invalid", "forbidden"),
            summary="The audit trail of the caller's organisation, newest first")
def list_audit(
    request: Request,
    caller: CallerDep,
    entity_kind: Annotated[str | None, Query(max_length=64, pattern=NO_NUL, description="e.g. scope, access")] = None,
    entity_key: Annotated[str | None, Query(max_length=300, pattern=NO_NUL, description="e.g. a scope name")] = None,
    since: Annotated[datetime | None, Query(description="ISO 8601; without an offset it is UTC")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEventOut]:
    """Every change involving the caller's org (a token with AUDIT_SCOPES); never another org's events."""
    require(caller, *AUDIT_SCOPES)
    since = _utc(since)
    with reading(request) as uow:
        events = uow.list_audit(org=caller.orgno, entity_kind=entity_kind, entity_key=entity_key, since=since,
                                limit=limit)
    return [_out(caller, e) for e in events]
