"""`portvakt portal-client`: register the portal's own client when the portal runs apart (`serve --only portal`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .common import err, readable_errors, settings


def portal_client(
    key_file: Annotated[Path | None, typer.Option(
        help="the portal's private key (PEM): made here (mode 0600) if missing; "
             "default PORTVAKT_PORTAL__KEY_FILE or <data_dir>/portal-client-key.pem")] = None,
) -> None:
    """Create or repair the portal's client on this server's database, with the public half of its key.

    `portvakt serve` does this itself when it serves the portal. Run it on the token service's side when the
    portal runs elsewhere, and give that portal the key file (PORTVAKT_PORTAL__KEY_FILE) and this server's
    URL (PORTVAKT_PORTAL__API_URL).
    """
    from portvakt.domain.clock import SystemClock
    from portvakt.portal.config import key_file as portal_key_file
    from portvakt.wiring import prepare, provision_portal_client

    s = settings()
    if key_file is not None:
        s = s.model_copy(update={"portal": s.portal.model_copy(update={"key_file": key_file})})
    with readable_errors():
        store = prepare(s.model_copy(update={"roles": ["token", "altinn"]}))  # the client is made just below
        kid = provision_portal_client(s, store, SystemClock().now())
        store.close()
    typer.echo(json.dumps({"client_id": s.portal.client_id, "kid": kid, "key_file": str(portal_key_file(s))}))
    err.print("the portal's client is ready; keep the key file secret")


def register(app: typer.Typer) -> None:
    """Attach the command."""
    app.command("portal-client")(portal_client)
