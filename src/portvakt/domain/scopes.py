"""Use-cases for scopes (APIs) and their access lists (docs/protocol.md §3.4)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from .audit import Actor, record
from .changes import ACCESS_KIND, SCOPE_KIND, access_key
from .errors import Conflict, Invalid, NotFound
from .models import AccessState, IntegrationType, Scope, ScopeAccess, Visibility
from .orgs import PREFIX, require_org
from .ports import UnitOfWork

SUBSCOPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,127}$")


def split_scope_name(name: str) -> tuple[str, str]:
    """docs/protocol.md §3.4 grammar: scope ::= prefix ':' subscope."""
    prefix, sep, subscope = name.partition(":")
    if not sep or not PREFIX.fullmatch(prefix) or not SUBSCOPE.fullmatch(subscope):
        raise Invalid(f"scope name must be prefix:subscope, got {name[:100]!r}", field="scope")
    return prefix, subscope


def put_scope(uow: UnitOfWork, scope: Scope, actor: Actor, now: datetime, *, create: bool) -> Scope:
    """Create or update a scope; the prefix must belong to the owner (docs/protocol.md §3.4)."""
    split_scope_name(scope.name)
    require_org(uow, scope.owner_orgno, "owner_orgno")
    if uow.get_prefix_owner(scope.prefix) != scope.owner_orgno:
        raise Invalid(f"prefix {scope.prefix} is not assigned to {scope.owner_orgno}", field="prefix")
    if scope.at_max_age < 0:
        raise Invalid("at_max_age must be 0 or more", field="at_max_age")
    for t in scope.allowed_integration_types:
        if t not in {i.value for i in IntegrationType}:
            raise Invalid(f"unknown integration type {t[:40]!r}", field="allowed_integration_types")
    before = uow.get_scope(scope.name)
    if create and before is not None:
        raise Conflict(f"scope {scope.name} exists already" + ("" if before.active else " (deactivated)"))
    if not create and before is None:
        raise NotFound(f"no scope {scope.name}")
    saved = replace(scope, created=before.created if before else now, last_updated=now)
    uow.put_scope(saved)
    record(uow, actor=actor, action="scope.create" if create else "scope.update", kind=SCOPE_KIND,
           key=scope.name, orgs=(scope.owner_orgno,), before=before, after=saved, now=now)
    return saved


def set_access(uow: UnitOfWork, scope_name: str, consumer_orgno: str, state: AccessState | None,
               actor: Actor, now: datetime) -> ScopeAccess | None:
    """Grant (APPROVED), set another state, or revoke (None) a consumer's access to a scope."""
    scope = uow.get_scope(scope_name)
    if scope is None:
        raise NotFound(f"no scope {scope_name}")
    require_org(uow, consumer_orgno, "consumer_orgno")
    before = uow.get_access(scope_name, consumer_orgno)
    after = None
    if state is None:
        uow.delete_access(scope_name, consumer_orgno)
    else:
        after = ScopeAccess(scope_name, consumer_orgno, scope.owner_orgno, state,
                            before.created if before else now, now)
        uow.put_access(after)
    record(uow, actor=actor, action="access.revoke" if state is None else "access.put", kind=ACCESS_KIND,
           key=access_key(scope_name, consumer_orgno), orgs=(scope.owner_orgno, consumer_orgno),
           before=before, after=after, now=now)
    return after


def scope_name(prefix: str, subscope: str) -> str:
    """docs/protocol.md §3.4 grammar, checked part by part so the error names the offending field."""
    if not PREFIX.fullmatch(prefix):
        raise Invalid("prefix must be 1-64 lower-case letters, digits, '-' or '_'", field="prefix")
    if not SUBSCOPE.fullmatch(subscope):
        raise Invalid("subscope must be 1-128 letters, digits, '_', '.', '/' or '-', starting with a letter "
                      "or digit", field="subscope")
    return f"{prefix}:{subscope}"


def require_delegation_source(uow: UnitOfWork, issuer: str | None) -> None:
    """docs/protocol.md §3.4: `delegation_source` is the issuer of a registered delegation source (or unset)."""
    if issuer is not None and issuer not in {s.issuer for s in uow.list_delegation_sources()}:
        raise Invalid(f"delegation_source {issuer[:100]!r} is not the issuer of a registered delegation source "
                      "(GET /api/v1/delegationsources lists them)", field="delegation_source")


def deactivate_scope(uow: UnitOfWork, name: str, actor: Actor, now: datetime) -> Scope:
    """docs/protocol.md §3.4 DELETE /scopes: deactivate (kept for audit, access list retained); idempotent."""
    before = uow.get_scope(name)
    if before is None:
        raise NotFound(f"no scope {name}")
    if not before.active:
        return before
    after = replace(before, active=False, last_updated=now)
    uow.put_scope(after)
    record(uow, actor=actor, action="scope.deactivate", kind=SCOPE_KIND, key=name, orgs=(before.owner_orgno,),
           before=before, after=after, now=now)
    return after


def revoke_access(uow: UnitOfWork, scope_name: str, consumer_orgno: str, actor: Actor,
                  now: datetime) -> ScopeAccess:
    """docs/protocol.md §3.4 DELETE /scopes/access: the entry stays on the access list as DENIED; idempotent."""
    require_org(uow, consumer_orgno, "consumer_orgno")
    current = uow.get_access(scope_name, consumer_orgno)
    if current is None:
        raise NotFound(f"{consumer_orgno} is not on the access list of {scope_name}")
    if current.state is AccessState.DENIED:
        return current
    after = replace(current, state=AccessState.DENIED, last_updated=now)
    uow.put_access(after)
    record(uow, actor=actor, action="access.revoke", kind=ACCESS_KIND, key=access_key(scope_name, consumer_orgno),
           orgs=(current.owner_orgno, consumer_orgno), before=current, after=after, now=now)
    return after


def public_scopes(uow: UnitOfWork, *, accessible_for_all: bool | None = None,
                  integration_type: str | None = None, include_inactive: bool = False) -> list[Scope]:
    """docs/protocol.md §3.4 GET /scopes/all: the PUBLIC scopes, filtered."""
    return [s for s in uow.list_scopes(include_inactive=include_inactive)
            if s.visibility is Visibility.PUBLIC
            and (accessible_for_all is None or s.accessible_for_all == accessible_for_all)
            and (integration_type is None or s.allows(integration_type))]


def usable_scopes(uow: UnitOfWork, orgno: str, *, integration_type: str | None = None,
                  include_inactive: bool = False) -> list[ScopeAccess]:
    """docs/protocol.md §3.4 GET /scopes/access/all: APPROVED access, own scopes and PUBLIC accessible_for_all scopes.

    The last two have no access-list entry; they are answered as APPROVED entries dated like the scope.
    """
    approved = {a.scope: a for a in uow.list_access(consumer_orgno=orgno) if a.state is AccessState.APPROVED}
    found: list[ScopeAccess] = []
    for s in uow.list_scopes(include_inactive=include_inactive):
        if integration_type is not None and not s.allows(integration_type):
            continue
        if s.name in approved:
            found.append(approved[s.name])
        elif s.owner_orgno == orgno or (s.accessible_for_all and s.visibility is Visibility.PUBLIC):
            found.append(ScopeAccess(s.name, orgno, s.owner_orgno, AccessState.APPROVED, s.created, s.last_updated))
    return found
