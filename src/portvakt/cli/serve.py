"""`portvakt serve`: run the server (uvicorn), optionally seeding the demo."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from portvakt.settings import ALL_ROLES, Settings

from .common import err, fail, settings
from .dev_ca import TRUST_DIR_ENV


class Role(StrEnum):
    """What one `portvakt serve` process serves."""

    TOKEN_SERVICE = "token"  # noqa: S105 (a role name, not a secret)
    ALTINN = "altinn"
    PORTAL = "portal"


def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8080,
    workers: Annotated[int, typer.Option(min=1, help="worker processes")] = 1,
    demo: Annotated[bool, typer.Option(help="seed demo data and print how to get a token")] = False,
    access_log: Annotated[bool, typer.Option(help="log every HTTP request")] = False,
    only: Annotated[list[Role] | None, typer.Option(
        help="serve only this part (repeat for several): the token service, the Altinn side, the portal")] = None,
    altinn_url: Annotated[str | None, typer.Option(
        help="token service: ask this remote Altinn side about delegations (default: this database)")] = None,
    token_issuer: Annotated[str | None, typer.Option(
        help="Altinn side alone: the token service whose tokens callers bring (its issuer URL)")] = None,
    ephemeral: Annotated[bool, typer.Option(
        help="a throwaway server for tests: a temporary data dir on SQLite, removed when it stops; prints one line "
             "of JSON (issuer, endpoints, seeded clients) on stdout when ready; --port 0 takes a free port")] = False,
    seed: Annotated[Path | None, typer.Option(
        help="with --ephemeral: organisations, scopes, access, clients and delegations from this YAML file")] = None,
) -> None:
    """Run portvakt. The issuer is http://<host>:<port>/ unless PORTVAKT_ISSUER is set."""
    if ephemeral or seed is not None:
        if not ephemeral or demo or only or workers > 1 or altinn_url or token_issuer:
            fail("--seed needs --ephemeral, which serves one worker and takes none of --demo, --only, --altinn-url "
                 "and --token-issuer")
        from portvakt.testing.ephemeral import serve_ephemeral

        serve_ephemeral(host=host, port=port, seed=seed)
        return
    os.environ["PORTVAKT_HOST"] = host
    os.environ["PORTVAKT_PORT"] = str(port)
    if demo:
        os.environ["PORTVAKT_DEMO"] = "true"
        os.environ.setdefault("PORTVAKT_TOKEN__STRICT", "true")  # decision T13; PORTVAKT_TOKEN__STRICT=false wins
        if not os.environ.get(TRUST_DIR_ENV):  # trust the demo's own dev CA, made once in <data_dir>/dev-ca
            from .demo import demo_trust_dir

            os.environ[TRUST_DIR_ENV] = str(demo_trust_dir(settings().data_dir))
    if only:
        os.environ["PORTVAKT_ROLES"] = json.dumps(sorted({r.value for r in only}))
    if altinn_url:
        os.environ["PORTVAKT_ALTINN__URL"] = altinn_url
    if token_issuer:
        os.environ["PORTVAKT_ALTINN__TOKEN_ISSUER"] = token_issuer
    s = settings()
    problem = s.role_problem()
    if problem:
        fail(problem)
    if demo and set(s.roles) != set(ALL_ROLES):
        fail("--demo seeds the whole system; use it without --only")
    if {"token", "altinn"} & set(s.roles):
        _prepare(s, demo)
        from portvakt.wiring.stores import printable_database_url

        where = f"database {printable_database_url(s)}"  # never the password
    else:  # the portal alone keeps no database; it calls the APIs over HTTP
        where = f"API {s.portal.api_url or s.resolved_issuer()}"
    if workers > 1 and "portal" in s.roles:
        _tell(s, "the portal keeps its sessions in process memory, so with several "
                 "workers a person's requests may land on a worker that does not know their session; serve the "
                 "portal as its own one-worker process (--only portal) or behind sticky sessions", warning=True)
    _tell(s, f"portvakt ({', '.join(s.roles)}) listening on http://{host}:{port}/ (issuer {s.resolved_issuer()}), "
             f"{workers} worker(s), {where}")
    from portvakt.api.health import drain_plan
    from portvakt.logs import uvicorn_log_config

    with _metrics_dir(workers):
        uvicorn.run("portvakt.wiring:app_from_environment", factory=True, host=host, port=port, workers=workers,
                    access_log=access_log, log_level=s.log_level.lower(), server_header=False,
                    proxy_headers=False, timeout_graceful_shutdown=drain_plan(s.limits)[1],
                    log_config=uvicorn_log_config(s.log_level, s.log_format))


def _tell(s: Settings, text: str, *, warning: bool = False) -> None:
    """A line for the operator on stderr: Rich text, or with PORTVAKT_LOG_FORMAT=json a JSON log line like every
    other (decision S11)."""
    if s.log_format != "json":
        err.print(f"[yellow]warning:[/yellow] {text}" if warning else text)
        return
    from portvakt.logs import configure_logging

    if not any(getattr(h, "_portvakt", False) for h in logging.getLogger().handlers):
        configure_logging(s.log_level, "json")
    logging.getLogger("portvakt.serve").log(logging.WARNING if warning else logging.INFO, "%s", text)


@contextlib.contextmanager
def _metrics_dir(workers: int) -> Iterator[None]:
    """With several workers, a fresh PROMETHEUS_MULTIPROC_DIR that they all write their metrics to (decision S10),
    removed when the server stops."""
    if workers < 2:
        yield
        return
    from portvakt.api.metrics import MULTIPROC_ENV

    with tempfile.TemporaryDirectory(prefix="portvakt-metrics-") as folder:
        os.environ[MULTIPROC_ENV] = folder
        try:
            yield
        finally:
            os.environ.pop(MULTIPROC_ENV, None)


def _prepare(s: Settings, demo: bool) -> None:
    """Migrate and bootstrap the database (and seed the demo) before any worker starts."""
    from portvakt.wiring import prepare

    store = prepare(s)
    if demo:
        from .demo import seed_demo

        seed_demo(store, s)
    store.close()


def register(app: typer.Typer) -> None:
    """Attach the serve command."""
    app.command("serve")(serve)
