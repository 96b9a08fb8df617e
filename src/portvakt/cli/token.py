"""`portvakt token`: the vendor side, one grant in, the token response printed as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import httpx
import typer

from portvakt.client import GrantSigner, TokenError, fetch_token, load_private_key
from portvakt.client.grants import discover
from portvakt.jose import JoseError

from .common import err


def token(
    issuer: Annotated[str, typer.Option(help="the authorization server's issuer URL")],
    client_id: Annotated[str, typer.Option(help="your client_id")],
    key: Annotated[Path, typer.Option(help="your private key (PEM)", exists=True, dir_okay=False)],
    kid: Annotated[str, typer.Option(help="the kid of the registered public key")],
    scope: Annotated[str, typer.Option(help="space-separated scopes")],
    consumer_org: Annotated[str | None, typer.Option(help="act on behalf of this consumer orgno")] = None,
    resource: Annotated[list[str] | None, typer.Option(help="audience of the token (repeatable)")] = None,
) -> None:
    """Get an access token with a JWT grant; prints the token response as JSON."""
    try:
        handle = load_private_key(key)
        with httpx.Client(timeout=10) as http:
            meta = discover(issuer, http)
            signer = GrantSigner(client_id=client_id, key=handle, kid=kid, audience=str(meta["issuer"]))
            res: str | list[str] | None = resource[0] if resource and len(resource) == 1 else resource
            body = fetch_token(signer, scope, token_endpoint=str(meta["token_endpoint"]),
                               consumer_org=consumer_org, resource=res, client=http)
    except TokenError as exc:
        err.print(f"[red]token refused:[/red] {exc}")
        if exc.body:
            typer.echo(json.dumps(exc.body, indent=2))
        raise typer.Exit(1) from None
    except JoseError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    typer.echo(json.dumps(body, indent=2))


def register(app: typer.Typer) -> None:
    """Attach the token command."""
    app.command("token")(token)
