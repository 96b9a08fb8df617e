"""`portvakt serve` as a real process: the demo's printed command, replay after restart and across workers."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import jwt
import pytest

from portvakt.jose import PrivateKeyHandle, Signer

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent / "portvakt"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


#: Ports handed out by free_port() and held until a Server is up on them (see free_port).
_RESERVED: dict[int, socket.socket] = {}


def free_port() -> int:
    """A free port of 127.0.0.1, held until a `Server` listens on it (or the test process ends).

    The port stays bound (not listening, SO_REUSEADDR) so that no other bind(0) or outgoing connection, of this
    process or of another pytest-xdist worker, is given it meanwhile; uvicorn sets SO_REUSEADDR too, so the
    server's own bind still succeeds."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    _RESERVED[port] = s
    return port


def release_port(port: int) -> None:
    """Close free_port()'s hold on `port`, if any."""
    if (held := _RESERVED.pop(port, None)) is not None:
        held.close()


class Server:
    """One `portvakt serve` process on 127.0.0.1 with its own data dir."""

    def __init__(self, data_dir: Path, *args: str, ready: str = "jwk", env: dict[str, str] | None = None,
                 port: int | None = None) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "PORTVAKT_DATA_DIR": str(data_dir), **(env or {})}
        # A port of our own choosing can still be lost to another process before the server binds it (under
        # pytest-xdist, another worker); then the server exits, and we try again on a new port.
        for _ in range(1 if port else 3):
            self.port = port or free_port()
            self.url = f"http://127.0.0.1:{self.port}/"
            self.log = data_dir / f"server-{self.port}.log"
            try:
                if self._start(data_dir, args, ready):
                    return
            finally:
                release_port(self.port)
            if "address already in use" not in self.log.read_text().lower():
                break
        raise AssertionError(f"server did not start:\n{self.log.read_text()}")

    def _start(self, data_dir: Path, args: tuple[str, ...], ready: str) -> bool:
        """Start the process and wait until it answers `ready` with 200; False (and stopped) if it does not."""
        with self.log.open("w") as out:
            self.proc = subprocess.Popen([str(BIN), "serve", "--port", str(self.port), *args], env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT, cwd=data_dir.parent)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(f"{self.url}{ready}", timeout=1).status_code == 200 and self.proc.poll() is None:
                    return True
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        return False

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def cli(data_dir: Path, *args: str) -> str:
    env = {**os.environ, "PORTVAKT_DATA_DIR": str(data_dir)}
    done = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def registry(tmp_path: Path, rsa_keys: list[PrivateKeyHandle]) -> tuple[Path, str, PrivateKeyHandle]:
    """A SQLite registry made with the admin CLI: provider, vendor, scope, access, client with key."""
    data = tmp_path / "var"
    key = rsa_keys[0]
    jwk = tmp_path / "client.jwk.json"
    jwk.write_text(json.dumps(key.public_jwk))
    cli(data, "init")
    cli(data, "org", "add", "974760673", "--name", "Provider")
    cli(data, "org", "add", "314330897", "--name", "Vendor")
    cli(data, "scope", "add", "brreg:test/read", "--owner", "974760673")
    cli(data, "access", "grant", "brreg:test/read", "314330897")
    out = cli(data, "client", "add", "--org", "314330897", "--name", "sys", "--scope", "brreg:test/read",
              "--public-key", str(jwk))
    client_id = json.loads(out)["client_id"]
    return data, client_id, key


def grant(url: str, client_id: str, key: PrivateKeyHandle) -> str:
    now = int(time.time())
    return Signer(key).sign({"aud": url, "iss": client_id, "scope": "brreg:test/read", "iat": now,
                             "exp": now + 60, "jti": str(uuid.uuid4())})


def post(url: str, assertion: str) -> httpx.Response:
    return httpx.post(f"{url}token", data={"grant_type": JWT_BEARER, "assertion": assertion}, timeout=30)


def test_replay_is_refused_after_a_restart_on_the_same_issuer(registry: tuple[Path, str, PrivateKeyHandle],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    data, client_id, key = registry
    monkeypatch.setenv("PORTVAKT_ISSUER", "http://portvakt.test/")
    first = Server(data)
    g = grant("http://portvakt.test/", client_id, key)
    try:
        assert post(first.url, g).status_code == 200
    finally:
        first.stop()
    second = Server(data)
    try:
        r = post(second.url, g)
        assert r.status_code == 400, r.text
        assert r.json()["error_uri"] == "http://portvakt.test/errors/MP-012"
    finally:
        second.stop()


def test_replay_is_refused_across_two_workers(registry: tuple[Path, str, PrivateKeyHandle]) -> None:
    data, client_id, key = registry
    server = Server(data, "--workers", "2")
    try:
        grants = [grant(server.url, client_id, key) for _ in range(40)]
        attempts = [g for g in grants for _ in range(3)]
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda g: (g, post(server.url, g).status_code), attempts))
        for g in grants:
            codes = sorted(code for a, code in statuses if a == g)
            assert codes == [200, 400, 400], codes
        pids = set(re.findall(r"Started server process \[(\d+)\]", server.log.read_text()))
        assert len(pids) == 2
        assert "the portal keeps its sessions in process memory" in " ".join(server.log.read_text().split())
    finally:
        server.stop()


def commands(server: Server) -> list[str]:
    """The `portvakt token` commands the demo printed so far."""
    return [ln for ln in server.log.read_text().splitlines() if " token --issuer " in ln]


def test_demo_prints_commands_that_get_a_token_a_delegated_one_one_by_certificate_and_system_users(
        tmp_path: Path) -> None:
    server = Server(tmp_path / "var", "--demo")
    try:
        deadline = time.monotonic() + 10
        while len(commands(server)) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        lines = commands(server)
        assert len(lines) == 5 and "--consumer-org" in lines[1] and " --cert " in lines[2]
        assert "--systemuser-org 310838128" in lines[3] and "--external-ref klienter" in lines[4]
        claims = []
        for line in lines:
            argv = shlex.split(line.strip())
            argv[0] = str(BIN) if not Path(argv[0]).is_absolute() else argv[0]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False)
            assert done.returncode == 0, done.stderr
            body = json.loads(done.stdout)
            assert body["token_type"] == "Bearer" and body["access_token"].count(".") == 2
            claims.append(jwt.decode(body["access_token"], options={"verify_signature": False}))
        assert "supplier" not in claims[0]
        assert claims[1]["consumer"]["ID"] == "0192:310838128"
        assert claims[1]["supplier"]["ID"] == "0192:314330897"
        assert claims[1]["delegation_source"] == server.url
        assert claims[0]["client_amr"] == "private_key_jwt"
        assert claims[2]["client_amr"] == "virksomhetssertifikat" and claims[2]["client_orgno"] == "314330897"
        for own, agent in ((3, False), (4, True)):
            details = claims[own]["authorization_details"][0]
            assert details["systemuser_org"]["ID"] == "0192:310838128"
            assert details["system_id"] == "314330897_turboskatt" and len(details["systemuser_id"]) == 1
            assert details["externalRef"] == ("klienter" if agent else "310838128")
            assert claims[own]["consumer"]["ID"] == "0192:314330897" and "supplier" not in claims[own]
    finally:
        server.stop()
