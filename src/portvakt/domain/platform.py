"""The platform's own scopes: they make a client an administrator of the platform, so only the operator puts
them on a client, with the CLI, never through /api/v1 (docs/security.md, Privilege escalation)."""

from __future__ import annotations

from .audit import Actor
from .delegations import DELEGATIONS_ADMIN
from .errors import Forbidden
from .models import Scope
from .policy import DCR_MODIFY, DCR_READ, DCR_SUPPLIER, DCR_WRITE, PORTAL, SCOPES_WRITE
from .systemregister import SYSTEMREGISTER_ADMIN, SYSTEMUSER_LOOKUP

#: Always platform-only, whatever the stored flag says: the admin scopes, the portal's, the delegation lookup's, the
#: system register's admin scope (any vendor's systems) and the system-user lookup's (any organisation's system users).
PLATFORM_SCOPES = frozenset({DCR_READ, DCR_MODIFY, DCR_WRITE, DCR_SUPPLIER, SCOPES_WRITE, PORTAL,
                             DELEGATIONS_ADMIN, SYSTEMREGISTER_ADMIN, SYSTEMUSER_LOOKUP})


def is_platform_only(scope: Scope) -> bool:
    """A built-in platform scope, or one the operator marked platform-only (`scope add --platform-only`)."""
    return scope.platform_only or scope.name in PLATFORM_SCOPES


def require_operator_for(scope: Scope, actor: Actor) -> None:
    """docs/security.md, Privilege escalation: a platform-only scope goes on a client only by the operator (CLI)."""
    if is_platform_only(scope) and not actor.is_operator:
        raise Forbidden(f"the scope {scope.name} belongs to the platform; only the operator puts it on a client, "
                        "with the CLI")
