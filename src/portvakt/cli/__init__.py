"""`portvakt ...`: serve, init, admin commands on the configured database, keys and token (Typer)."""

from __future__ import annotations

import typer

from . import admin, altinn, audit, dev_ca, keys, portal, serve, token, users

app = typer.Typer(name="portvakt", no_args_is_help=True, add_completion=False,
                  help="A self-hostable, Maskinporten-compatible authorization server.")
serve.register(app)
admin.register(app)
audit.register(app)
app.add_typer(keys.app, name="keys")
token.register(app)
app.add_typer(dev_ca.app, name="dev-ca")
altinn.register(app)
users.register(app)
portal.register(app)


def main() -> None:
    """Console entry point."""
    app()
