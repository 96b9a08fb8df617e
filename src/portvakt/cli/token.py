"""`portvakt token`: the vendor side, one grant in, the token response printed as JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import httpx
import typer

from portvakt.client import GrantSigner, TokenError, fetch_token, key_file_kind, load_private_key
from portvakt.client.grants import discover
from portvakt.jose import JoseError, PrivateKeyHandle

from .common import err

#: Where the key's password comes from when there is no --password-file (never from argv).
PASSWORD_ENV = "PORTVAKT_KEY_PASSWORD"  # noqa: S105 (the variable's name)
#: Exit code for a key that cannot be opened or used (like a usage error); a refused token exits 1.
KEY_ERROR = 2


def _password(key: Path, password_file: Path | None) -> bytes:
    """The key's password: --password-file (its first line), else $PORTVAKT_KEY_PASSWORD, else a hidden prompt."""
    if password_file is not None:
        try:
            lines = password_file.read_bytes().splitlines()
        except OSError as exc:
            raise JoseError(f"cannot read the password file {password_file}: {exc.strerror}") from None
        if not lines or not lines[0]:
            raise JoseError(f"the password file {password_file} is empty")
        return lines[0]
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env.encode("utf-8")
    prompted: str = typer.prompt(f"Password for {key.name}", hide_input=True)
    return prompted.encode("utf-8")


def _open_key(key: Path, kid: str | None, password_file: Path | None) -> tuple[PrivateKeyHandle, str]:
    """Load the key (asking for a password only when it is encrypted) and decide the kid."""
    kind = key_file_kind(key)
    password = None if kind == "pem" else _password(key, password_file)
    handle = load_private_key(key, password)
    if kid is not None:
        return handle, kid
    if kind != "pkcs12":
        raise JoseError("--kid is required with a PEM key (a PKCS#12 key defaults to its RFC 7638 thumbprint)")
    return handle, handle.kid


def token(
    issuer: Annotated[str, typer.Option(help="the authorization server's issuer URL")],
    client_id: Annotated[str, typer.Option(help="your client_id")],
    key: Annotated[Path, typer.Option(help="your private key: PEM, or PKCS#12 (.p12/.pfx)", exists=True,
                                      dir_okay=False)],
    scope: Annotated[str, typer.Option(help="space-separated scopes")],
    kid: Annotated[str | None, typer.Option(
        help="the kid of the registered public key; default for a PKCS#12: its RFC 7638 thumbprint")] = None,
    password_file: Annotated[Path | None, typer.Option(
        help=f"file whose first line is the key's password; else ${PASSWORD_ENV}, else a prompt",
        exists=True, dir_okay=False)] = None,
    consumer_org: Annotated[str | None, typer.Option(help="act on behalf of this consumer orgno")] = None,
    resource: Annotated[list[str] | None, typer.Option(help="audience of the token (repeatable)")] = None,
) -> None:
    """Get an access token with a JWT grant; prints the token response as JSON."""
    try:
        handle, key_id = _open_key(key, kid, password_file)
    except JoseError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(KEY_ERROR) from None
    try:
        with httpx.Client(timeout=10) as http:
            meta = discover(issuer, http)
            signer = GrantSigner(client_id=client_id, key=handle, kid=key_id, audience=str(meta["issuer"]))
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
