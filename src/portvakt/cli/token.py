"""`portvakt token`: the vendor side, one grant in, the token response printed as JSON.

The grant names a registered key (`--key`: PEM, PKCS#12 or a private JWK, with `--kid`), or carries an enterprise
certificate's chain as x5c (`--cert FILE.p12`, or `--key KEY.pem --chain CHAIN.pem`; docs/protocol.md §5).
`--systemuser-org ORGNO` (with `--external-ref`) asks for a system user's token (docs/protocol.md §6)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import httpx
import typer

from portvakt.client import (
    GrantSigner,
    TokenError,
    fetch_token,
    key_file_kind,
    load_certificate,
    load_chain,
    load_private_jwk,
    load_private_key,
)
from portvakt.client.grants import discover, party_details
from portvakt.client.keys import check_chain_key
from portvakt.jose import JoseError, PrivateKeyHandle

from .common import err, fail

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


def _load_key(key: Path, password_file: Path | None) -> tuple[PrivateKeyHandle, str]:
    """Load the key, asking for a password only when it is encrypted; with its file kind."""
    kind = key_file_kind(key)
    password = None if kind in ("pem", "jwk") else _password(key, password_file)
    return load_private_key(key, password), kind


def _open_key(key: Path, kid: str | None, password_file: Path | None) -> tuple[PrivateKeyHandle, str]:
    """Load the key and decide the kid: --kid, else a JWK's own kid, else (PKCS#12, JWK) the RFC 7638 thumbprint."""
    if key_file_kind(key) == "jwk":
        handle, own_kid = load_private_jwk(key)
        return handle, kid if kid is not None else own_kid
    handle, kind = _load_key(key, password_file)
    if kid is not None:
        return handle, kid
    if kind != "pkcs12":
        raise JoseError("--kid is required with a PEM key (a PKCS#12 key defaults to its RFC 7638 thumbprint, a "
                        "private JWK to its own kid)")
    return handle, handle.kid


def _open_pkcs12_certificate(cert: Path, password_file: Path | None) -> tuple[PrivateKeyHandle, list[str]]:
    """The key and x5c chain (RFC 7517 §4.7) of an enterprise certificate's PKCS#12."""
    if key_file_kind(cert) != "pkcs12":
        raise JoseError(f"--cert takes a PKCS#12 file (.p12/.pfx); {cert.name} is not one "
                        "(for PEM files use --key KEY.pem --chain CHAIN.pem)")
    return load_certificate(cert, _password(cert, password_file))


def _open_pem_certificate(key: Path, chain: Path, password_file: Path | None) -> tuple[PrivateKeyHandle, list[str]]:
    """A private key and the PEM chain (leaf first) of its certificate, as x5c (RFC 7517 §4.7)."""
    x5c = load_chain(chain)
    handle, _ = _load_key(key, password_file)
    check_chain_key(handle, x5c)
    return handle, x5c


def _check_options(key: Path | None, cert: Path | None, chain: Path | None, kid: str | None) -> None:
    """Exit 2 on a combination that names two keys, or mixes a kid with a certificate chain."""
    if cert is not None and key is not None:
        fail("--cert and --key are two ways to give the key; use one (--cert FILE.p12, or --key with --chain)")
    if chain is not None and key is None:
        fail("--chain goes with --key (the chain's private key); a PKCS#12 given with --cert holds its own chain")
    if kid is not None and (cert is not None or chain is not None):
        fail("--kid names a registered key; a certificate grant (--cert, or --key with --chain) sends its "
             "x5c chain and no kid")


def _check_party(consumer_org: str | None, systemuser_org: str | None, external_ref: str | None) -> None:
    """Exit 2 for a --systemuser-org that is no orgno, or party options that exclude each other
    (docs/protocol.md §6: a grant names one party)."""
    try:
        party_details(consumer_org, systemuser_org, external_ref)
    except ValueError as exc:
        message = str(exc)
        for name in ("systemuser_org", "consumer_org", "external_ref"):
            message = message.replace(name, "--" + name.replace("_", "-"))
        fail(message)


def token(
    issuer: Annotated[str, typer.Option(help="the authorization server's issuer URL")],
    client_id: Annotated[str, typer.Option(help="your client_id")],
    scope: Annotated[str, typer.Option(help="space-separated scopes")],
    key: Annotated[Path | None, typer.Option(
        help="your private key: PEM, PKCS#12 (.p12/.pfx) or a private JWK (JSON); with --chain, the enterprise "
             "certificate's key",
        exists=True, dir_okay=False)] = None,
    kid: Annotated[str | None, typer.Option(
        help="the kid of the registered public key; default for a private JWK: its kid, for a PKCS#12: its "
             "RFC 7638 thumbprint")] = None,
    cert: Annotated[Path | None, typer.Option(
        help="your enterprise certificate as PKCS#12 (.p12/.pfx): sign an x5c grant, no kid",
        exists=True, dir_okay=False)] = None,
    chain: Annotated[Path | None, typer.Option(
        help="with --key: the certificate chain PEM (leaf first) to send as x5c", exists=True,
        dir_okay=False)] = None,
    password_file: Annotated[Path | None, typer.Option(
        help=f"file whose first line is the key's password; else ${PASSWORD_ENV}, else a prompt",
        exists=True, dir_okay=False)] = None,
    consumer_org: Annotated[str | None, typer.Option(help="act on behalf of this consumer orgno")] = None,
    resource: Annotated[list[str] | None, typer.Option(help="audience of the token (repeatable)")] = None,
    systemuser_org: Annotated[str | None, typer.Option(
        metavar="ORGNO", help="get a system user's token: the orgno of the customer who owns the system user "
                              "(for an agent system user, the facilitator's orgno)")] = None,
    external_ref: Annotated[str | None, typer.Option(
        metavar="REF", help="with --systemuser-org: the system user's external reference (default: the owner's "
                            "orgno)")] = None,
) -> None:
    """Get an access token with a JWT grant; prints the token response as JSON."""
    _check_options(key, cert, chain, kid)
    _check_party(consumer_org, systemuser_org, external_ref)
    key_id: str | None = None
    x5c: list[str] | None = None
    try:
        if cert is not None:
            handle, x5c = _open_pkcs12_certificate(cert, password_file)
        elif key is not None and chain is not None:
            handle, x5c = _open_pem_certificate(key, chain, password_file)
        elif key is not None:
            handle, key_id = _open_key(key, kid, password_file)
        else:
            fail("give --key (your registered key) or --cert (your enterprise certificate, a PKCS#12)")
    except JoseError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(KEY_ERROR) from None
    try:
        with httpx.Client(timeout=10) as http:
            meta = discover(issuer, http)
            signer = GrantSigner(client_id=client_id, key=handle, kid=key_id, audience=str(meta["issuer"]),
                                 x5c=x5c)
            res: str | list[str] | None = resource[0] if resource and len(resource) == 1 else resource
            body = fetch_token(signer, scope, token_endpoint=str(meta["token_endpoint"]),
                               consumer_org=consumer_org, resource=res, systemuser_org=systemuser_org,
                               external_ref=external_ref, client=http)
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
