"""Admin commands on the configured database: init, org, prefix, scope, access, client."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from portvakt.domain import usecases as uc
from portvakt.domain.audit import Actor
from portvakt.domain.clock import SystemClock
from portvakt.domain.errors import Invalid
from portvakt.domain.models import AccessState, IntegrationType, Scope, Visibility
from portvakt.jose import parse_public_key

from .common import err, open_store, print_json, readable_errors, settings

org_app = typer.Typer(help="Organisations.", no_args_is_help=True)
prefix_app = typer.Typer(help="Scope prefixes of API providers.", no_args_is_help=True)
scope_app = typer.Typer(help="Scopes (APIs).", no_args_is_help=True)
access_app = typer.Typer(help="Consumers' access to scopes.", no_args_is_help=True)
client_app = typer.Typer(help="Clients.", no_args_is_help=True)
OPERATOR = Actor.operator()


def init() -> None:
    """Create or migrate the database and make the signing keys."""
    from portvakt.wiring import prepare

    s = settings()
    with readable_errors():
        prepare(s).close()
    err.print(f"database ready at {s.resolved_database_url()}; operator {s.operator_orgno} owns the admin scopes")


@org_app.command("add")
def org_add(orgno: str, name: Annotated[str, typer.Option(help="the organisation's name")]) -> None:
    """Register an organisation."""
    with readable_errors(), open_store().begin() as uow:
        print_json(uc.add_org(uow, orgno, name, OPERATOR, SystemClock().now()))


@prefix_app.command("assign")
def prefix_assign(prefix: str, orgno: str) -> None:
    """Give an API provider a scope prefix."""
    with readable_errors(), open_store().begin() as uow:
        uc.assign_prefix(uow, prefix, orgno, OPERATOR, SystemClock().now())
    err.print(f"prefix {prefix} assigned to {orgno}")


@prefix_app.command("list")
def prefix_list(org: Annotated[str | None, typer.Option(help="only this owner's prefixes")] = None) -> None:
    """List the assigned prefixes and their owners as JSON."""
    with readable_errors(), open_store().read() as uow:
        pairs = uow.list_prefixes(org)
    print_json([{"prefix": prefix, "owner_orgno": owner} for prefix, owner in pairs])


@scope_app.command("add")
def scope_add(
    name: str,
    owner: Annotated[str, typer.Option(help="owner orgno; gets the prefix if it is free")],
    description: Annotated[str, typer.Option(help="what the API is")] = "",
    at_max_age: Annotated[int, typer.Option(help="max token lifetime in seconds (0 = none)")] = 0,
    accessible_for_all: Annotated[bool, typer.Option(help="any organisation may use it")] = False,
    allowed_integration_type: Annotated[list[IntegrationType] | None, typer.Option()] = None,
    delegation_source: Annotated[str | None, typer.Option(help="issuer of a delegation source")] = None,
    visibility: Annotated[Visibility, typer.Option()] = Visibility.PUBLIC,
    platform_only: Annotated[bool, typer.Option(
        help="only the operator puts it on a client, with this CLI, never through /api/v1")] = False,
) -> None:
    """Create a scope prefix:subscope owned by an API provider."""
    now = SystemClock().now()
    with readable_errors(), open_store().begin() as uow:
        prefix, subscope = uc.split_scope_name(name)
        if uow.get_prefix_owner(prefix) is None:
            uc.assign_prefix(uow, prefix, owner, OPERATOR, now)
        scope = Scope(prefix=prefix, subscope=subscope, owner_orgno=owner, description=description or name,
                      created=now, last_updated=now, visibility=visibility, at_max_age=at_max_age,
                      allowed_integration_types=tuple(t.value for t in allowed_integration_type or ()),
                      accessible_for_all=accessible_for_all, delegation_source=delegation_source,
                      platform_only=platform_only)
        print_json(uc.put_scope(uow, scope, OPERATOR, now, create=True))


@access_app.command("grant")
def access_grant(scope: str, consumer_orgno: str) -> None:
    """Approve a consumer's access to a scope."""
    with readable_errors(), open_store().begin() as uow:
        print_json(uc.set_access(uow, scope, consumer_orgno, AccessState.APPROVED, OPERATOR, SystemClock().now()))


@access_app.command("revoke")
def access_revoke(scope: str, consumer_orgno: str) -> None:
    """Remove a consumer's access to a scope."""
    with readable_errors(), open_store().begin() as uow:
        uc.set_access(uow, scope, consumer_orgno, None, OPERATOR, SystemClock().now())
    err.print(f"access to {scope} revoked for {consumer_orgno}")


@client_app.command("add")
def client_add(
    org: Annotated[str, typer.Option(help="the client's orgno")],
    name: Annotated[str, typer.Option(help="client_name")],
    scope: Annotated[list[str], typer.Option(help="a scope (repeat for more)")],
    public_key: Annotated[Path | None, typer.Option(
        help="PEM public key, certificate or JWK file (a JWK needs \"use\": \"sig\"); without it the client has "
             "no key: a maskinporten client then signs with its organisation's enterprise certificate",
        exists=True, dir_okay=False)] = None,
    integration_type: Annotated[IntegrationType, typer.Option()] = IntegrationType.MASKINPORTEN,
    description: str = "",
    access_token_lifetime: Annotated[int | None, typer.Option(help="seconds")] = None,
) -> None:
    """Create a client, with one registered public key or none (docs/protocol.md §3.2, §3.3); prints it as JSON."""
    now = SystemClock().now()
    with readable_errors():
        key = parse_public_key(public_key.read_bytes()) if public_key is not None else None
        if key is not None and "x5c" in key.jwk and integration_type is IntegrationType.MASKINPORTEN:
            _check_certificate(key.jwk, org, now)
        with open_store().begin() as uow:
            client = uc.new_client(uow, client_name=name, client_orgno=org, integration_type=integration_type,
                                   scopes=scope, actor=OPERATOR, now=now, description=description,
                                   access_token_lifetime=access_token_lifetime)
            if key is not None:
                client = uc.replace_client_keys(uow, client.client_id, [(key.kid, key.jwk)], OPERATOR, now)
    print_json(client)


def _check_certificate(jwk: dict[str, object], orgno: str, now: datetime) -> None:
    """docs/protocol.md §5.2 rule 6: a certificate locks the client, so it must be one of `orgno` from the trust
    folder (the same check as /api/v1's)."""
    from portvakt.oauth.certificates import CertificateNotAccepted
    from portvakt.wiring.assembly import certificate_authenticator

    try:
        certificate_authenticator(settings(), SystemClock()).registrable(jwk, orgno, now)
    except CertificateNotAccepted as exc:
        raise Invalid(f"--public-key: {exc}", field="public_key") from None


def register(app: typer.Typer) -> None:
    """Attach the admin commands."""
    app.command("init")(init)
    app.add_typer(org_app, name="org")
    app.add_typer(prefix_app, name="prefix")
    app.add_typer(scope_app, name="scope")
    app.add_typer(access_app, name="access")
    app.add_typer(client_app, name="client")
