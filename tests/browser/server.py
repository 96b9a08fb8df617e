"""A real portvakt on 127.0.0.1 (uvicorn in a thread, SQLite) with the demo data and the portal at /portal."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from portvakt.altinn.passwords import Argon2PasswordHasher
from portvakt.api.app import create_app
from portvakt.cli.demo import seed_demo
from portvakt.cli.users import seed_demo_people
from portvakt.domain.clock import SystemClock
from portvakt.domain.portal_client import bootstrap_portal_client
from portvakt.jose import PrivateKeyHandle
from portvakt.portal import create_portal, portal_config
from portvakt.settings import Settings
from portvakt.sms import DevOutbox
from portvakt.wiring import build_runtime, prepare


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Dispatch:
    """/portal/... to the portal, everything else (and the lifespan) to the server."""

    def __init__(self, server: ASGIApp, portal: ASGIApp) -> None:
        self.server = server
        self.portal = Starlette(routes=[Mount("/portal", app=portal)])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] == "http" and (path == "/portal" or path.startswith("/portal/")):
            await self.portal(scope, receive, send)
        else:
            await self.server(scope, receive, send)


def provision(settings: Settings) -> tuple[Any, dict[str, str]]:
    """migrate + bootstrap, the demo registry and people, the portal's client and key; (store, people)."""
    store = prepare(settings)
    seed_demo(store, settings)
    now = SystemClock().now()
    people = dict(seed_demo_people(store, Argon2PasswordHasher(), now))
    key = PrivateKeyHandle.generate(2048)
    cfg = portal_config(settings)
    cfg.key_file.write_bytes(key.to_pem())
    with store.begin() as uow:
        bootstrap_portal_client(uow, settings.operator_orgno, cfg.client_id, key.public_jwk, now)
    return store, people


@dataclass
class LiveServer:
    """The running server: its URL, data dir, settings, the SMS outbox and the demo people's passwords."""

    url: str
    data_dir: Path
    settings: Settings
    outbox: DevOutbox
    people: dict[str, str]
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


def start(data_dir: Path) -> LiveServer:
    """Provision and start; returns when /jwk answers."""
    port = free_port()
    settings = Settings(data_dir=data_dir, host="127.0.0.1", port=port, demo=True)
    store, people = provision(settings)
    rt = build_runtime(settings, store=store)
    outbox = DevOutbox()
    portal = create_portal(portal_config(settings), sms=outbox, outbox=outbox)
    config = uvicorn.Config(Dispatch(create_app(rt), portal), host="127.0.0.1", port=port, log_level="info",
                            access_log=True, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="portvakt-test-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "jwk", timeout=1).status_code == 200:
                return LiveServer(url, data_dir, settings, outbox, people, server, thread)
        except httpx.HTTPError:
            time.sleep(0.1)
    server.should_exit = True
    raise AssertionError("the test server did not start")
