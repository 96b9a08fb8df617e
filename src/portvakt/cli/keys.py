"""`portvakt keys`: make a client key pair; list and rotate the server's signing keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from portvakt.domain.clock import SystemClock
from portvakt.files import write_private
from portvakt.jose import PrivateKeyHandle

from .common import err, open_store, settings

app = typer.Typer(help="Client key pairs and the server's signing keys.", no_args_is_help=True)


def write_key_pair(out: Path, handle: PrivateKeyHandle, name: str = "client") -> tuple[Path, Path]:
    """Write `<name>.pem` (private, mode 0600) and `<name>.jwk.json` (public, with kid) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    private = write_private(out / f"{name}.pem", handle.to_pem(), replace=True)
    public = out / f"{name}.jwk.json"
    public.write_text(json.dumps(handle.public_jwk, indent=2) + "\n")
    return private, public


@app.command("generate")
def generate(
    out: Annotated[Path, typer.Option(help="directory for the key files")],
    bits: Annotated[int, typer.Option(help="RSA modulus size")] = 2048,
    name: Annotated[str, typer.Option(help="file name stem")] = "client",
) -> None:
    """Make an RSA key pair: a private key PEM and a public JWK whose kid is its RFC 7638 thumbprint."""
    if bits not in (2048, 3072, 4096):
        err.print("[red]error:[/red] --bits must be 2048, 3072 or 4096")
        raise typer.Exit(1)
    handle = PrivateKeyHandle.generate(bits)
    private, public = write_key_pair(out, handle, name)
    err.print(f"private key: {private} (keep it secret)\npublic JWK:  {public}\nkid:         {handle.kid}")


@app.command("list")
def list_keys() -> None:
    """Show the server's signing keys and their state."""
    with open_store().begin() as uow:
        keys = uow.list_signing_keys()
    table = Table("kid", "state", "created", "activated", "retired", "removed after")
    for k in keys:
        table.add_row(k.kid, k.state.value, *(d.isoformat(timespec="seconds") if d else "-"
                                              for d in (k.created, k.activated, k.retired, k.delete_after)))
    err.print(table)


@app.command("rotate")
def rotate(altinn: Annotated[bool, typer.Option(
        "--altinn", help="rotate the Altinn side's keys (its token exchange) instead")] = False) -> None:
    """Sign with the already-published next key, retire the current one, and publish a new next key.

    The retired key stays in /jwk (with --altinn: the Altinn side's JWKS) until every token it signed has expired.
    """
    from portvakt.oauth.keyring import ensure_signing_keys, rotate_signing_keys
    from portvakt.wiring import key_encryption_key

    s = settings()
    store = open_store()
    kek = key_encryption_key(s)
    now = SystemClock().now()
    if altinn:
        from portvakt.altinn.keys import ensure_altinn_keys, retire_seconds, rotate_altinn_keys

        keep = retire_seconds(s.altinn.exchange_token_seconds)
        ensure_altinn_keys(store, kek, s.signing.key_bits, now)
        active = rotate_altinn_keys(store, kek, s.signing.key_bits, now, keep)
        err.print(f"the Altinn side now signs with {active.kid}; the previous key stays published for {keep} s")
        return
    ensure_signing_keys(store, kek, s.signing.key_bits, now)
    active = rotate_signing_keys(store, kek, s.signing.key_bits, now, s.token.max_access_token_lifetime)
    err.print(f"now signing with {active.kid}; the previous key stays published for "
              f"{s.token.max_access_token_lifetime} s")
