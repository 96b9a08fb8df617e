"""Use-cases for organisations and the scope prefixes assigned to API providers."""

from __future__ import annotations

import re
from datetime import datetime

from .audit import Actor, record
from .changes import ORG_KIND, PREFIX_KIND
from .errors import Conflict, Invalid
from .models import Organisation
from .orgno import require_orgno
from .ports import UnitOfWork

PREFIX = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def add_org(uow: UnitOfWork, orgno: str, name: str, actor: Actor, now: datetime) -> Organisation:
    """Register an organisation (9-digit orgno, mod-11)."""
    require_orgno(orgno)
    if not name.strip():
        raise Invalid("name must not be empty", field="name")
    before = uow.get_org(orgno)
    org = Organisation(orgno, name.strip(), before.created if before else now)
    uow.put_org(org)
    record(uow, actor=actor, action="org.put", kind=ORG_KIND, key=orgno, orgs=(orgno,), before=before,
           after=org, now=now)
    return org


def require_org(uow: UnitOfWork, orgno: str, field: str = "orgno") -> Organisation:
    """The registered organisation, or Invalid naming the field."""
    require_orgno(orgno, field)
    org = uow.get_org(orgno)
    if org is None:
        raise Invalid(f"{field} {orgno} is not a registered organisation", field=field)
    return org


def assign_prefix(uow: UnitOfWork, prefix: str, orgno: str, actor: Actor, now: datetime) -> None:
    """Give an API provider a scope prefix (docs/protocol.md §3.4: assigned by the operator)."""
    if not PREFIX.match(prefix):
        raise Invalid("prefix must be lower-case letters, digits, '-' or '_'", field="prefix")
    require_org(uow, orgno)
    owner = uow.get_prefix_owner(prefix)
    if owner is not None and owner != orgno:
        raise Conflict(f"prefix {prefix} belongs to another organisation", field="prefix")
    uow.put_prefix(prefix, orgno)
    record(uow, actor=actor, action="prefix.assign", kind=PREFIX_KIND, key=prefix, orgs=(orgno,),
           before=None, after=None, now=now)


