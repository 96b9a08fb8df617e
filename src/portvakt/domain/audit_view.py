"""What one organisation sees of an audit event through /api/v1: never another organisation's people's data
(docs/security.md, Delegated token on the admin API; personal data)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .models import AuditEvent

PERSON_KIND = "person"
#: The members of a person snapshot an organisation may see: who, whether active, when; not name or mobile.
PERSON_MEMBERS = ("username", "active", "created", "updated")


def _person_for(snapshot: dict[str, Any] | None, orgno: str) -> dict[str, Any] | None:
    """The person snapshot with only PERSON_MEMBERS and the roles the person holds for `orgno`."""
    if snapshot is None:
        return None
    kept = {k: snapshot[k] for k in PERSON_MEMBERS if k in snapshot}
    roles = snapshot.get("roles") or []
    kept["roles"] = [r for r in roles if isinstance(r, dict) and r.get("orgno") == orgno]
    return kept


def org_view(event: AuditEvent, orgno: str) -> AuditEvent:
    """The event as `orgno` sees it: a person's name, mobile number and other organisations' roles removed;
    the event's org_scope narrowed to `orgno` for person events (it lists the person's other organisations)."""
    if event.entity_kind != PERSON_KIND:
        return event
    return replace(event, before=_person_for(event.before, orgno), after=_person_for(event.after, orgno),
                   org_scope=tuple(o for o in event.org_scope if o == orgno))
