"""Who may see and change what through the self-service API (docs/protocol.md §3.1 scope table).

No organisation ever sees another organisation's data: where a refusal would reveal that
something exists, the answer is NotFound, not Forbidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import Forbidden, Invalid, NotFound
from .models import Client, Scope
from .orgno import require_orgno
from .people import USERNAME

DCR_READ = "idporten:dcr.read"
DCR_MODIFY = "idporten:dcr.modify"
DCR_WRITE = "idporten:dcr.write"
DCR_SUPPLIER = "idporten:dcr.supplier"
SCOPES_WRITE = "idporten:scopes.write"
PORTAL = "altinn:portal"
CLIENT_SCOPES = frozenset({DCR_READ, DCR_MODIFY, DCR_WRITE, DCR_SUPPLIER})
#: Any admin scope: what the read-only endpoints about the caller's own org need (delegation sources, usable scopes).
ADMIN_SCOPES = CLIENT_SCOPES | {SCOPES_WRITE}
#: The own org's audit trail: the scopes that read its registrations, or manage its scopes.
AUDIT_SCOPES = frozenset({DCR_READ, DCR_MODIFY, DCR_WRITE, SCOPES_WRITE})


@dataclass(frozen=True, slots=True)
class Caller:
    """The organisation behind an admin token, its client and the token's scopes; `person` is the
    signed-in person when the portal acts for the organisation (see acting_for)."""

    orgno: str
    client_id: str
    scopes: frozenset[str]
    person: str | None = None

    def has(self, *scopes: str) -> bool:
        """True if the token carries any of the scopes."""
        return not self.scopes.isdisjoint(scopes)


def own_token(supplier_orgno: str | None) -> None:
    """docs/security.md, Delegated token on the admin API: a token a supplier holds for an organisation
    (docs/protocol.md §2.2 `supplier`) never acts as that organisation on /api/v1 or the Altinn side (§4.1 step 5)."""
    if supplier_orgno is not None:
        raise Forbidden("the admin API accepts only an organisation's own token, not one a supplier holds for it")


def require_portal(caller: Caller, portal_clients: frozenset[str]) -> None:
    """docs/security.md, Privilege escalation: only the portal's own client (its client_id, set up by `serve` or
    `portal-client`) with altinn:portal is the portal; the scope alone is not."""
    if caller.client_id not in portal_clients or not caller.has(PORTAL):
        raise Forbidden(f"only the portal's own client (with scope {PORTAL}) may do this")


def acting_for(caller: Caller, orgno: str | None, person: str | None, portal_clients: frozenset[str]) -> Caller:
    """The portal acts for the organisation a signed-in person represents.

    Only the portal's own client may name them (require_portal); the portal has checked the person's role for
    that organisation before it asks, and the server trusts it to (the portal is the operator's own client).
    Both are needed: every act is then recorded with the portal's client and the person.
    """
    if orgno is None and person is None:
        return caller
    require_portal(caller, portal_clients)
    if orgno is None or person is None:
        raise Invalid("send both Portvakt-Acting-For (the orgno) and Portvakt-Person (the username)",
                      field="Portvakt-Acting-For" if orgno is None else "Portvakt-Person")
    require_orgno(orgno, "Portvakt-Acting-For")
    if not USERNAME.fullmatch(person):
        raise Invalid("Portvakt-Person must be a username (3-100 of a-z 0-9 . _ @ -)", field="Portvakt-Person")
    return Caller(orgno, caller.client_id, caller.scopes, person)


def require(caller: Caller, *scopes: str) -> None:
    """Forbidden unless the token carries one of the scopes (RFC 6750 §3.1 insufficient_scope)."""
    if not caller.has(*scopes):
        raise Forbidden(f"the token needs one of the scopes: {' '.join(sorted(scopes))}")


def can_read_client(caller: Caller, client: Client) -> bool:
    """dcr.read/modify/write: the own org's clients; dcr.supplier: clients it supplies for others."""
    own = client.client_orgno == caller.orgno and caller.has(DCR_READ, DCR_MODIFY, DCR_WRITE)
    supplied = client.supplier_orgno == caller.orgno and caller.has(DCR_SUPPLIER)
    return own or supplied


def can_change_client(caller: Caller, client: Client) -> bool:
    """dcr.modify/write change the own org's own clients; dcr.supplier the clients it supplies, which the
    owner does not change (docs/security.md, Privilege escalation: each client has one manager)."""
    own = client.client_orgno == caller.orgno and client.supplier_orgno is None and caller.has(DCR_MODIFY, DCR_WRITE)
    supplied = client.supplier_orgno == caller.orgno and caller.has(DCR_SUPPLIER)
    return own or supplied


def can_deactivate_client(caller: Caller, client: Client) -> bool:
    """Who may change it, and the client's own org also when a supplier manages it (docs/protocol.md §3.2 DELETE)."""
    owner = client.client_orgno == caller.orgno and caller.has(DCR_MODIFY, DCR_WRITE)
    return owner or can_change_client(caller, client)


def visible_client(caller: Caller, client: Client | None, client_id: str) -> Client:
    """The client if the caller may read it; NotFound otherwise (never reveal another org's client)."""
    if client is None or not can_read_client(caller, client):
        raise NotFound(f"no client {client_id}")
    return client


def changeable_client(caller: Caller, client: Client | None, client_id: str, *, deactivate: bool = False) -> Client:
    """The client if the caller may change (or deactivate) it; NotFound if it may not even read it, else
    Forbidden."""
    found = visible_client(caller, client, client_id)
    allowed = can_deactivate_client if deactivate else can_change_client
    if not allowed(caller, found):
        if found.supplier_orgno not in (None, caller.orgno):
            raise Forbidden(f"the client is managed by its supplier {found.supplier_orgno}; its own organisation "
                            "may read and deactivate it")
        raise Forbidden("the token needs idporten:dcr.modify or idporten:dcr.write to change clients")
    return found


def owner_for_new_client(caller: Caller, client_orgno: str | None) -> tuple[str, str | None]:
    """(client_orgno, supplier_orgno) of a new client: own org with dcr.write; another org's with
    dcr.supplier, which makes the caller the supplier (docs/protocol.md §3.2 ownership)."""
    if client_orgno is None or client_orgno == caller.orgno:
        if caller.has(DCR_WRITE):
            return caller.orgno, None
        raise Forbidden("the token needs idporten:dcr.write to create clients for its own organisation")
    if not caller.has(DCR_SUPPLIER):
        raise Forbidden("the token needs idporten:dcr.supplier to create clients for another organisation")
    return client_orgno, caller.orgno


def own_scope(caller: Caller, scope: Scope | None, name: str) -> Scope:
    """docs/protocol.md §3.4: scopes.write manages the own org's scopes only; another org's scope is NotFound."""
    require(caller, SCOPES_WRITE)
    if scope is None or scope.owner_orgno != caller.orgno:
        raise NotFound(f"no scope {name}")
    return scope


def require_own_prefix(caller: Caller, prefix: str, prefix_owner: str | None) -> None:
    """docs/protocol.md §3.4: new scopes only under a prefix the operator assigned to the caller's org."""
    require(caller, SCOPES_WRITE)
    if prefix_owner != caller.orgno:
        raise Forbidden(f"the prefix {prefix} is not assigned to your organisation; "
                        "prefixes are assigned by the operator")
