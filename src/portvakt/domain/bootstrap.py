"""The operator's own registry entries: its organisation, the `idporten` prefix and the admin scopes."""

from __future__ import annotations

from datetime import datetime

from .audit import Actor, record
from .changes import DELEGATION_SOURCE_KIND
from .delegations import ALTINN_PREFIX, DELEGATIONS_ADMIN, DELEGATIONS_LOOKUP, DELEGATIONS_WRITE, SCHEMES_WRITE
from .errors import Invalid
from .models import DelegationSource, IntegrationType, Scope, Visibility
from .orgs import add_org, assign_prefix
from .policy import DCR_MODIFY, DCR_READ, DCR_SUPPLIER, DCR_WRITE, PORTAL, SCOPES_WRITE
from .ports import UnitOfWork
from .scopes import put_scope
from .systemregister import (
    AUTHORIZE,
    REQUEST_READ,
    REQUEST_WRITE,
    SYSTEMREGISTER_ADMIN,
    SYSTEMREGISTER_WRITE,
    SYSTEMUSER_LOOKUP,
)

ADMIN_PREFIX = "idporten"
ADMIN_SCOPES = {
    DCR_READ: "Read the organisation's client registrations",
    DCR_MODIFY: "Change the organisation's client registrations",
    DCR_WRITE: "Create and change the organisation's client registrations",
    DCR_SUPPLIER: "Create and manage client registrations for other organisations, as their supplier",
    SCOPES_WRITE: "Manage the organisation's own scopes (APIs) and who may use them",
}


def bootstrap_operator(uow: UnitOfWork, orgno: str, name: str, now: datetime) -> bool:
    """Create what is missing (idempotent); docs/protocol.md §3.1: admin scopes are granted by the operator."""
    actor = Actor.operator("init")
    changed = False
    if uow.get_org(orgno) is None:
        add_org(uow, orgno, name, actor, now)
        changed = True
    return _ensure_private_scopes(uow, ADMIN_PREFIX, ADMIN_SCOPES, orgno, actor, now) or changed


def _ensure_private_scopes(uow: UnitOfWork, prefix: str, wanted: dict[str, str], orgno: str, actor: Actor,
                           now: datetime) -> bool:
    """The operator's prefix and its PRIVATE, maskinporten-only scopes, made where missing."""
    changed = False
    if uow.get_prefix_owner(prefix) is None:
        assign_prefix(uow, prefix, orgno, actor, now)
        changed = True
    for full, description in wanted.items():
        if uow.get_scope(full) is None:
            sub = full.split(":", 1)[1]
            put_scope(uow, Scope(prefix, sub, orgno, description, now, now, visibility=Visibility.PRIVATE,
                                 allowed_integration_types=(IntegrationType.MASKINPORTEN.value,)),
                      actor, now, create=True)
            changed = True
    return changed


ALTINN_SCOPES = {
    SCHEMES_WRITE: "Manage the organisation's delegation schemes (Altinn side, docs/protocol.md §4.1 step 2)",
    DELEGATIONS_WRITE: "Delegate the organisation's access to suppliers, and see delegations made to it",
    DELEGATIONS_ADMIN: "Look up any delegation (the token service's check, docs/protocol.md §4.2)",
    DELEGATIONS_LOOKUP: "Look up delegations of the organisation's own scopes, or made by or to it (decision D9)",
    PORTAL: "The Altinn portal acts for the organisation a signed-in person represents",
    SYSTEMREGISTER_WRITE: "Register and change the organisation's own systems (system register, docs/protocol.md §6.1)",
    SYSTEMREGISTER_ADMIN: "Change any vendor's systems in the system register (docs/protocol.md §6.1)",
    REQUEST_WRITE: "Create and delete the organisation's system-user requests (docs/protocol.md §6.2)",
    REQUEST_READ: "Read the organisation's system-user requests (docs/protocol.md §6.2)",
    SYSTEMUSER_LOOKUP: "Look system users up for the token service (docs/protocol.md §6.5)",
    AUTHORIZE: "Ask the decision point whether a system user may act (docs/protocol.md §6.6)",
}


def bootstrap_altinn(uow: UnitOfWork, orgno: str, now: datetime, *, source_name: str = "altinn",
                     source_issuer: str | None = None) -> bool:
    """The Altinn side's entries (idempotent): the `altinn` prefix and scopes, and its delegation source."""
    actor = Actor.operator("init")
    changed = False
    changed = _ensure_private_scopes(uow, ALTINN_PREFIX, ALTINN_SCOPES, orgno, actor, now) or changed
    if source_issuer is not None:
        changed = ensure_delegation_source(uow, source_name, source_issuer, now) or changed
    return changed


def ensure_delegation_source(uow: UnitOfWork, name: str, issuer: str, now: datetime) -> bool:
    """Register or update a delegation source (docs/protocol.md §3.4 /delegationsources); False if unchanged."""
    before = uow.get_delegation_source(name)
    if not name.strip() or not issuer.startswith(("https://", "http://")):
        raise Invalid("a delegation source needs a name and an http(s) issuer URL", field="delegation_source")
    if before is not None and before.issuer == issuer:
        return False
    source = DelegationSource(name, issuer, before.created if before else now, now)
    uow.put_delegation_source(source)
    record(uow, actor=Actor.operator("init"), action="delegationsource.put", kind=DELEGATION_SOURCE_KIND, key=name,
           orgs=(), before=before, after=source, now=now)
    return True
