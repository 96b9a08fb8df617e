"""A real portvakt on 127.0.0.1 (uvicorn in a thread, SQLite, every role as `assemble` makes it) with the demo data
and the portal at /portal."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from portvakt.altinn.passwords import Argon2PasswordHasher
from portvakt.cli.demo import seed_demo, seed_demo_people
from portvakt.domain.clock import SystemClock
from portvakt.domain.portal_client import bootstrap_portal_client
from portvakt.jose import PrivateKeyHandle
from portvakt.portal import portal_config
from portvakt.settings import Settings
from portvakt.sms import DevOutbox
from portvakt.wiring import Overrides, assemble, prepare


def listening_socket() -> socket.socket:
    """A socket bound to a port the OS picks on 127.0.0.1, handed to uvicorn as it is: no other process (another
    pytest-xdist worker) can take the port between choosing it and serving on it."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    return s


def serve(app: Any, sock: socket.socket, log_level: str = "info") -> tuple[uvicorn.Server, threading.Thread, str]:
    """uvicorn serving `app` on `sock` in a daemon thread; (server, thread, base URL) once /jwk answers 200, an
    AssertionError (the server told to stop) if it does not within 30 s."""
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level, access_log=True, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, args=([sock],), name="portvakt-test-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "jwk", timeout=1).status_code == 200:
                return server, thread, url
        except httpx.HTTPError:
            time.sleep(0.1)
    server.should_exit = True
    raise AssertionError("the test server did not start")


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
        bootstrap_portal_client(uow, settings.operator_orgno, cfg.settings.client_id, key.public_jwk, now)
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
    sock = listening_socket()
    port = int(sock.getsockname()[1])
    settings = Settings(data_dir=data_dir, host="127.0.0.1", port=port, demo=True)
    store, people = provision(settings)
    outbox = DevOutbox()
    server, thread, url = serve(assemble(settings, overrides=Overrides(store=store, outbox=outbox)), sock)
    return LiveServer(url, data_dir, settings, outbox, people, server, thread)
