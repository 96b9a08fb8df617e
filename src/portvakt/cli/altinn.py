"""Admin commands of the Altinn side on the configured database: delegation schemes and delegations (docs/protocol.md
§4.1), and client relationships for agent system users (§6.4)."""

from __future__ import annotations

from typing import Annotated

import typer

from portvakt.domain.audit import Actor, snapshot
from portvakt.domain.clientroles import (
    agent_system_users,
    register_client_relationship,
    relationships,
    remove_client_relationship,
)
from portvakt.domain.clock import SystemClock
from portvakt.domain.delegations import create_scheme, delegate, revoke_delegation
from portvakt.domain.models import ClientRole
from portvakt.domain.orgno import require_orgno
from portvakt.domain.ports import UnitOfWork

from .common import err, open_store, print_json, readable_errors

scheme_app = typer.Typer(help="Delegation schemes (Altinn side, docs/protocol.md §4.1 step 2).", no_args_is_help=True)
delegation_app = typer.Typer(help="Delegations from consumers to suppliers (docs/protocol.md §4.1 step 5).",
                             no_args_is_help=True)
relationship_app = typer.Typer(
    help="Client relationships (klientforhold, docs/protocol.md §6.4): mirror Enhetsregisteret's roles, so a "
         "facilitator's agent system users may take the client.", no_args_is_help=True)
altinn_app = typer.Typer(help="Registers of the Altinn side that the operator keeps.", no_args_is_help=True)
altinn_app.add_typer(relationship_app, name="client-relationship")
OPERATOR = Actor.operator()
Org = Annotated[str, typer.Option(help="organisation number")]
MaybeOrg = Annotated[str | None, typer.Option(help="only this organisation's")]


def _texts(nb: str | None, nn: str | None, en: str | None) -> dict[str, str]:
    return {lang: text for lang, text in (("nb", nb), ("nn", nn), ("en", en)) if text is not None}


@scheme_app.command("add")
def scheme_add(
    owner: Annotated[str, typer.Option(help="the API provider's orgno; owns the scopes")],
    scope: Annotated[list[str], typer.Option(help="a scope with a delegation_source (repeat for more)")],
    title_nb: Annotated[str, typer.Option(help="title in Norwegian Bokmål")],
    title_nn: Annotated[str | None, typer.Option(help="title in Nynorsk")] = None,
    title_en: Annotated[str | None, typer.Option(help="title in English")] = None,
    description_nb: Annotated[str | None, typer.Option(help="description in Norwegian Bokmål")] = None,
    description_nn: Annotated[str | None, typer.Option(help="description in Nynorsk")] = None,
    description_en: Annotated[str | None, typer.Option(help="description in English")] = None,
) -> None:
    """Create a delegation scheme naming the owner's delegable scopes; prints it as JSON."""
    with readable_errors(), open_store().begin() as uow:
        print_json(create_scheme(uow, owner, scope, _texts(title_nb, title_nn, title_en),
                                 _texts(description_nb, description_nn, description_en), OPERATOR,
                                 SystemClock().now()))


@scheme_app.command("list")
def scheme_list(owner: MaybeOrg = None,
                inactive: Annotated[bool, typer.Option(help="include deactivated schemes")] = False) -> None:
    """List delegation schemes as JSON."""
    with readable_errors():
        if owner is not None:
            require_orgno(owner, "--owner")
        with open_store().read() as uow:
            found = uow.list_schemes(owner_orgno=owner, include_inactive=inactive)
    print_json([snapshot(s) for s in found])


@delegation_app.command("add")
def delegation_add(consumer: Org, supplier: Org,
                   scheme: Annotated[str, typer.Option(help="the delegation scheme's id")]) -> None:
    """The consumer delegates a scheme to the supplier (idempotent); prints the delegation as JSON."""
    with readable_errors(), open_store().begin() as uow:
        made, created = delegate(uow, consumer, supplier, scheme, OPERATOR, SystemClock().now())
    print_json(made)
    if not created:
        err.print("an identical active delegation existed already; nothing changed")


@delegation_app.command("revoke")
def delegation_revoke(delegation_id: str,
                      consumer: Annotated[str, typer.Option(help="the consumer that made the delegation")]) -> None:
    """Revoke a delegation (kept as history); new tokens are refused within about a quarter of a second on every
    node (the change feed's poll, PORTVAKT_CACHE_POLL_SECONDS)."""
    with readable_errors():
        require_orgno(consumer, "--consumer")
        with open_store().begin() as uow:
            print_json(revoke_delegation(uow, delegation_id, consumer, OPERATOR, SystemClock().now()))


@delegation_app.command("list")
def delegation_list(consumer: MaybeOrg = None, supplier: MaybeOrg = None,
                    revoked: Annotated[bool, typer.Option(help="include revoked delegations")] = False) -> None:
    """List delegations as JSON."""
    with readable_errors():
        for value, name in ((consumer, "--consumer"), (supplier, "--supplier")):
            if value is not None:
                require_orgno(value, name)
        with open_store().read() as uow:
            found = uow.list_delegations(consumer_orgno=consumer, supplier_orgno=supplier, include_revoked=revoked)
    print_json([snapshot(d) for d in found])


Client = Annotated[str, typer.Option(help="the client organisation's orgno")]
Facilitator = Annotated[str, typer.Option(help="the facilitator's orgno (the accounting firm, auditor or manager)")]
Role = Annotated[ClientRole, typer.Option(case_sensitive=False,
                                          help="the role the client registered the facilitator in (REGN, REVI, FFOR)")]


@relationship_app.command("add")
def relationship_add(client: Client, facilitator: Facilitator, role: Role) -> None:
    """The client has registered the facilitator in the role (idempotent); prints the relationship as JSON."""
    now = SystemClock().now()
    with readable_errors(), open_store().begin() as uow:
        made = register_client_relationship(uow, client, facilitator, role, OPERATOR, now)
    print_json(made)
    if made.created != now:
        err.print("this client relationship was registered already; nothing changed")


def _agents_with(uow: UnitOfWork, facilitator: str, client: str) -> int:
    """How many of the facilitator's agent system users have the client."""
    return sum(uow.has_agent_client(a.system_user_id, client) for a in agent_system_users(uow, facilitator))


@relationship_app.command("remove")
def relationship_remove(client: Client, facilitator: Facilitator, role: Role) -> None:
    """End a client relationship; the client leaves at once every agent system user of the facilitator it no longer
    fits (docs/protocol.md §6.4). Prints the removed relationship as JSON."""
    with readable_errors():
        require_orgno(client, "--client")
        require_orgno(facilitator, "--facilitator")
        with open_store().begin() as uow:
            before = _agents_with(uow, facilitator, client)
            gone = remove_client_relationship(uow, client, facilitator, role, OPERATOR, SystemClock().now())
            left = before - _agents_with(uow, facilitator, client)
    print_json(gone)
    if left:
        err.print(f"the client was removed from {left} agent system user(s) of the facilitator: no role it still "
                  "holds covers their access packages")


@relationship_app.command("list")
def relationship_list(client: Annotated[str | None, typer.Option(help="only this client's")] = None,
                      facilitator: Annotated[str | None, typer.Option(help="only this facilitator's")] = None) -> None:
    """List client relationships as JSON, by client, facilitator and role."""
    with readable_errors():
        if client is not None:
            require_orgno(client, "--client")
        if facilitator is not None:
            require_orgno(facilitator, "--facilitator")
        with open_store().read() as uow:
            found = relationships(uow, client=client, facilitator=facilitator)
    print_json([snapshot(r) for r in found])


def register(app: typer.Typer) -> None:
    """Add the `scheme`, `delegation` and `altinn client-relationship` command groups."""
    app.add_typer(scheme_app, name="scheme")
    app.add_typer(delegation_app, name="delegation")
    app.add_typer(altinn_app, name="altinn")
