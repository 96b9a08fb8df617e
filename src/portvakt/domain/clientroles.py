"""Client relationships (klientforhold, docs/protocol.md §6.4): which organisations a facilitator's agent system
users may act for.

In Altinn a client is an organisation that registered the facilitator in Enhetsregisteret as its accountant (REGN),
auditor (REVI) or business manager (FFOR), and an agent system user may take it as a client only when that role
gives the facilitator every access package the agent holds (AUTH-00080). portvakt has no Enhetsregisteret: the
operator mirrors the relationships here, under CLIENT_RELATIONSHIP_KIND keyed by the client's orgno.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType

from .accesspackages import CATALOGUE, PACKAGE_PREFIX
from .audit import Actor, record
from .changes import AGENT_CLIENT_KIND, CLIENT_RELATIONSHIP_KIND
from .errors import Invalid, NotFound
from .models import ClientRelationship, ClientRole, SystemUser, SystemUserType
from .orgno import require_orgno
from .ports import UnitOfWork

__all__ = ["ROLE_PACKAGES", "agent_system_users", "client_fits", "fitting_clients", "parse_role",
           "register_client_relationship", "relationships", "remove_client_relationship", "role_of_package"]

#: The client packages each role gives the facilitator, by name (after `urn:altinn:accesspackage:`): a family of
#: names by its prefix, or one name.
_FAMILIES: tuple[tuple[str, ClientRole], ...] = (
    ("regnskapsforer-", ClientRole.REGNSKAPSFORER),
    ("forretningsforer-", ClientRole.FORRETNINGSFORER),
)
_NAMES: Mapping[str, ClientRole] = MappingProxyType({
    "ansvarlig-revisor": ClientRole.REVISOR,
    "revisormedarbeider": ClientRole.REVISOR,
})


def role_of_package(urn: str) -> ClientRole | None:
    """docs/protocol.md §6.4: the role that gives a facilitator this client package (regnskapsforer-* → REGN,
    ansvarlig-revisor and revisormedarbeider → REVI, forretningsforer-* → FFOR); None for any other package."""
    if not urn.startswith(PACKAGE_PREFIX):
        return None
    name = urn.removeprefix(PACKAGE_PREFIX)
    if name in _NAMES:
        return _NAMES[name]
    return next((role for prefix, role in _FAMILIES if name.startswith(prefix)), None)


def _role_packages() -> Mapping[ClientRole, frozenset[str]]:
    """The catalogue's `for_clients` packages grouped by the role that allows them."""
    grouped: dict[ClientRole, set[str]] = {role: set() for role in ClientRole}
    for package in CATALOGUE:
        role = role_of_package(package.urn) if package.for_clients else None
        if role is not None:
            grouped[role].add(package.urn)
    return MappingProxyType({role: frozenset(urns) for role, urns in grouped.items()})


#: docs/protocol.md §6.4: the access packages each role allows on an agent system user that acts for the client.
ROLE_PACKAGES: Mapping[ClientRole, frozenset[str]] = _role_packages()


def parse_role(value: ClientRole | str) -> ClientRole:
    """A role by its name (`regnskapsforer`, `revisor`, `forretningsforer`, any case); Invalid otherwise."""
    if isinstance(value, ClientRole):
        return value
    try:
        return ClientRole(value.strip().lower())
    except ValueError:
        names = ", ".join(role.value for role in ClientRole)
        raise Invalid(f"role must be one of {names}", field="role") from None


def _fits(packages: Iterable[str], roles: Iterable[ClientRole]) -> bool:
    """docs/protocol.md §6.4: one of the roles allows every one of the packages; no packages fit nothing (an agent
    system user acts for clients through its packages only)."""
    wanted = frozenset(packages)
    return bool(wanted) and any(wanted <= ROLE_PACKAGES[role] for role in roles)


def client_fits(uow: UnitOfWork, agent: SystemUser, client_orgno: str) -> bool:
    """docs/protocol.md §6.4 (Altinn's AUTH-00080): the organisation has registered the agent system user's owner in
    a role that allows EVERY access package on the agent; never for a standard system user."""
    if agent.user_type is not SystemUserType.AGENT:
        return False
    found = uow.list_client_relationships(client_orgno=client_orgno, facilitator_orgno=agent.owner_orgno)
    return _fits(agent.access_packages, (r.role for r in found))


def fitting_clients(uow: UnitOfWork, agent: SystemUser) -> list[str]:
    """docs/protocol.md §6.4: the orgnos of every organisation that fits the agent (client_fits), sorted."""
    if agent.user_type is not SystemUserType.AGENT:
        return []
    roles: dict[str, set[ClientRole]] = {}
    for found in uow.list_client_relationships(facilitator_orgno=agent.owner_orgno):
        roles.setdefault(found.client_orgno, set()).add(found.role)
    return sorted(client for client, held in roles.items() if _fits(agent.access_packages, held))


def _parties(uow: UnitOfWork, client: str, facilitator: str) -> None:
    """Both orgnos valid (Invalid) and registered (NotFound), and not the same organisation (Invalid)."""
    require_orgno(client, "client")
    require_orgno(facilitator, "facilitator")
    if client == facilitator:
        raise Invalid("an organisation cannot be its own facilitator", field="facilitator")
    for orgno in (client, facilitator):
        if uow.get_org(orgno) is None:
            raise NotFound(f"no organisation {orgno}")


def _by(actor: Actor) -> str | None:
    """Who made it, as stored: the portal's signed-in person, else the client (the operator's `operator:` id)."""
    return actor.person or actor.client_id


def register_client_relationship(uow: UnitOfWork, client: str, facilitator: str, role: ClientRole | str,
                                 actor: Actor, now: datetime) -> ClientRelationship:
    """docs/protocol.md §6.4: the client has registered the facilitator in the role; idempotent (an existing one is
    returned unchanged, with no audit event)."""
    _parties(uow, client, facilitator)
    role = parse_role(role)
    for existing in uow.list_client_relationships(client_orgno=client, facilitator_orgno=facilitator):
        if existing.role is role:
            return existing
    made = ClientRelationship(client, facilitator, role, now, _by(actor))
    uow.put_client_relationship(made)
    record(uow, actor=actor, action="clientrelationship.add", kind=CLIENT_RELATIONSHIP_KIND, key=client,
           orgs=(client, facilitator), before=None, after=made, now=now)
    return made


def agent_system_users(uow: UnitOfWork, owner: str) -> list[SystemUser]:
    """The owner's agent system users, not deleted, by seq."""
    out: list[SystemUser] = []
    after = 0
    while True:
        page = uow.list_system_users(owner_orgno=owner, after_seq=after, limit=1000)
        out.extend(u for u in page if u.user_type is SystemUserType.AGENT)
        if len(page) < 1000:
            return out
        after = page[-1].seq


def remove_client_relationship(uow: UnitOfWork, client: str, facilitator: str, role: ClientRole | str,
                               actor: Actor, now: datetime) -> ClientRelationship:
    """docs/protocol.md §6.4: the relationship ends (NotFound when there is none); in the same transaction the
    client leaves every agent system user of the facilitator it no longer fits, each with its own audit event."""
    require_orgno(client, "client")
    require_orgno(facilitator, "facilitator")
    role = parse_role(role)
    gone = next((r for r in uow.list_client_relationships(client_orgno=client, facilitator_orgno=facilitator)
                 if r.role is role), None)
    if gone is None:
        raise NotFound(f"organisation {client} has no client relationship to {facilitator} as {role.value}")
    uow.delete_client_relationship(client, facilitator, role)
    record(uow, actor=actor, action="clientrelationship.remove", kind=CLIENT_RELATIONSHIP_KIND, key=client,
           orgs=(client, facilitator), before=gone, after=None, now=now)
    for agent in agent_system_users(uow, facilitator):
        added = next((c for c in uow.list_agent_clients(agent.system_user_id) if c.client_orgno == client), None)
        if added is not None and not client_fits(uow, agent, client):
            uow.delete_agent_client(agent.system_user_id, client)
            record(uow, actor=actor, action="agentclient.remove", kind=AGENT_CLIENT_KIND, key=agent.system_user_id,
                   orgs=(facilitator, client, agent.vendor_orgno), before=added, after=None, now=now)
    return gone


def relationships(uow: UnitOfWork, *, client: str | None = None,
                  facilitator: str | None = None) -> Sequence[ClientRelationship]:
    """The client relationships, of one client and/or one facilitator (orgnos checked: Invalid), by (client,
    facilitator, role)."""
    if client is not None:
        require_orgno(client, "client")
    if facilitator is not None:
        require_orgno(facilitator, "facilitator")
    return uow.list_client_relationships(client_orgno=client, facilitator_orgno=facilitator)
