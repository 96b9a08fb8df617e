"""The operator's own registry entries: its organisation, the `idporten` prefix and the admin scopes."""

from __future__ import annotations

from datetime import datetime

from .audit import Actor
from .models import IntegrationType, Scope, Visibility
from .orgs import add_org, assign_prefix
from .policy import DCR_MODIFY, DCR_READ, DCR_SUPPLIER, DCR_WRITE, SCOPES_WRITE
from .ports import UnitOfWork
from .scopes import put_scope

ADMIN_PREFIX = "idporten"
ADMIN_SCOPES = {
    DCR_READ: "Read the organisation's client registrations",
    DCR_MODIFY: "Change the organisation's client registrations",
    DCR_WRITE: "Create and change the organisation's client registrations",
    DCR_SUPPLIER: "Create and manage client registrations for other organisations, as their supplier",
    SCOPES_WRITE: "Manage the organisation's own scopes (APIs) and who may use them",
}


def bootstrap_operator(uow: UnitOfWork, orgno: str, name: str, now: datetime) -> bool:
    """Create what is missing (idempotent); spec §3.1: admin scopes are granted by the operator."""
    actor = Actor.operator("init")
    changed = False
    if uow.get_org(orgno) is None:
        add_org(uow, orgno, name, actor, now)
        changed = True
    if uow.get_prefix_owner(ADMIN_PREFIX) is None:
        assign_prefix(uow, ADMIN_PREFIX, orgno, actor, now)
        changed = True
    for full, description in ADMIN_SCOPES.items():
        if uow.get_scope(full) is None:
            sub = full.split(":", 1)[1]
            put_scope(uow, Scope(ADMIN_PREFIX, sub, orgno, description, now, now, visibility=Visibility.PRIVATE,
                                 allowed_integration_types=(IntegrationType.MASKINPORTEN.value,)),
                      actor, now, create=True)
            changed = True
    return changed
