"""`portvakt serve`: run the server (uvicorn), optionally seeding the demo."""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn

from .common import err, settings


def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8080,
    workers: Annotated[int, typer.Option(min=1, help="worker processes")] = 1,
    demo: Annotated[bool, typer.Option(help="seed demo data and print how to get a token")] = False,
    access_log: Annotated[bool, typer.Option(help="log every HTTP request")] = False,
) -> None:
    """Run portvakt. The issuer is http://<host>:<port>/ unless PORTVAKT_ISSUER is set."""
    os.environ["PORTVAKT_HOST"] = host
    os.environ["PORTVAKT_PORT"] = str(port)
    if demo:
        os.environ["PORTVAKT_DEMO"] = "true"
    s = settings()
    from portvakt.domain.clock import SystemClock
    from portvakt.oauth.keyring import ensure_signing_keys
    from portvakt.wiring import key_encryption_key, open_store

    store = open_store(s)
    ensure_signing_keys(store, key_encryption_key(s), s.signing.key_bits, SystemClock().now())
    if demo:
        from .demo import seed_demo

        seed_demo(store, s)
    store.close()
    err.print(f"portvakt listening on http://{host}:{port}/ (issuer {s.resolved_issuer()}), "
              f"{workers} worker(s), database {s.resolved_database_url()}")
    uvicorn.run("portvakt.wiring:app_from_environment", factory=True, host=host, port=port, workers=workers,
                access_log=access_log, log_level=s.log_level.lower(), server_header=False,
                proxy_headers=False)


def register(app: typer.Typer) -> None:
    """Attach the serve command."""
    app.command("serve")(serve)
