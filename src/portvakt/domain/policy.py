"""Who may see and change what through the self-service API (spec §3.1 scope table).

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


def acting_for(caller: Caller, orgno: str | None, person: str | None) -> Caller:
    """The portal acts for the organisation a signed-in person represents (issue 5).

    Only a token carrying altinn:portal may name them; the portal has checked the person's role for that
    organisation before it asks, and the server trusts it to (the portal is the operator's own client).
    Both are needed: every act is then recorded with the portal's client and the person.
    """
    if orgno is None and person is None:
        return caller
    if not caller.has(PORTAL):
        raise Forbidden(f"only the portal's token (scope {PORTAL}) may act for an organisation "
                        "with Portvakt-Acting-For and Portvakt-Person")
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
    """dcr.modify/write change the own org's clients; dcr.supplier the clients it supplies."""
    own = client.client_orgno == caller.orgno and caller.has(DCR_MODIFY, DCR_WRITE)
    supplied = client.supplier_orgno == caller.orgno and caller.has(DCR_SUPPLIER)
    return own or supplied


def visible_client(caller: Caller, client: Client | None, client_id: str) -> Client:
    """The client if the caller may read it; NotFound otherwise (never reveal another org's client)."""
    if client is None or not can_read_client(caller, client):
        raise NotFound(f"no client {client_id}")
    return client


def changeable_client(caller: Caller, client: Client | None, client_id: str) -> Client:
    """The client if the caller may change it; NotFound if it may not even read it, else Forbidden."""
    found = visible_client(caller, client, client_id)
    if not can_change_client(caller, found):
        raise Forbidden("the token needs idporten:dcr.modify or idporten:dcr.write to change clients")
    return found


def owner_for_new_client(caller: Caller, client_orgno: str | None) -> tuple[str, str | None]:
    """(client_orgno, supplier_orgno) of a new client: own org with dcr.write; another org's with
    dcr.supplier, which makes the caller the supplier (spec §3.2 ownership)."""
    if client_orgno is None or client_orgno == caller.orgno:
        if caller.has(DCR_WRITE):
            return caller.orgno, None
        raise Forbidden("the token needs idporten:dcr.write to create clients for its own organisation")
    if not caller.has(DCR_SUPPLIER):
        raise Forbidden("the token needs idporten:dcr.supplier to create clients for another organisation")
    return client_orgno, caller.orgno


def own_scope(caller: Caller, scope: Scope | None, name: str) -> Scope:
    """Spec §3.4: scopes.write manages the own org's scopes only; another org's scope is NotFound."""
    require(caller, SCOPES_WRITE)
    if scope is None or scope.owner_orgno != caller.orgno:
        raise NotFound(f"no scope {name}")
    return scope


def require_own_prefix(caller: Caller, prefix: str, prefix_owner: str | None) -> None:
    """Spec §3.4: new scopes only under a prefix the operator assigned to the caller's org."""
    require(caller, SCOPES_WRITE)
    if prefix_owner != caller.orgno:
        raise Forbidden(f"the prefix {prefix} is not assigned to your organisation; "
                        "prefixes are assigned by the operator")
