"""Decision S12 on real `portvakt serve` nodes sharing one PostgreSQL: a change through node A takes effect on
node B within 100 ms (p99), although B polls the change feed only every 5 s; and when B's listener connection is
killed, the poll still delivers and the listener comes back.

A change takes effect on B when B first refuses. It is measured from two starts: the change's commit (the `at` of
its change-feed row, written by A's transaction just before it commits, on the same host's clock), which is the
bound asserted; and before A is asked for the change, which adds A's own request (auth, checks, the write) and is
reported too. B's staleness bound is raised to a minute, so that no on-demand refresh (decision S9) can help.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from portvakt.jose import PrivateKeyHandle, Signer
from portvakt.storage.sql.schema import changes
from tests.api.test_serve import Server, cli

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timing]
ISSUER = "http://portvakt.test/"
PROVIDER, VENDOR = "974760673", "314330897"
SCOPE = "brreg:test/read"
DCR_MODIFY, SCOPES_WRITE = "idporten:dcr.modify", "idporten:scopes.write"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
POLL = "5"
ROUNDS = 20
BOUND = 0.100


@dataclass
class Deployment:
    """Two nodes on one database, the system client (K0 stable, K1 toggled), and the provider's admin client."""

    url: str
    root: Path
    a: Server
    b: Server
    system: str
    provider_admin: str
    k0: PrivateKeyHandle
    k1: PrivateKeyHandle
    k2: PrivateKeyHandle
    http: httpx.Client
    #: The test's own connection to the nodes' database (pg_stat_activity, the change feed).
    engine: sa.Engine

    def grant(self, client_id: str, key: PrivateKeyHandle, scope: str = SCOPE) -> str:
        """A fresh grant (its own jti) for `client_id`, signed with `key`."""
        now = int(time.time())
        return Signer(key).sign({"aud": ISSUER, "iss": client_id, "scope": scope, "iat": now, "exp": now + 60,
                                 "jti": str(uuid.uuid4())})

    def token(self, node: Server, assertion: str) -> httpx.Response:
        """POST /token at `node`."""
        return self.http.post(f"{node.url}token", data={"grant_type": JWT_BEARER, "assertion": assertion})

    def admin(self, client_id: str, key: PrivateKeyHandle, scope: str) -> dict[str, str]:
        """Headers with an access token from node A for an admin scope."""
        resp = self.token(self.a, self.grant(client_id, key, scope))
        assert resp.status_code == 200, resp.text
        return {"authorization": f"Bearer {resp.json()['access_token']}"}

    def took(self, asked: float) -> Took:
        """Now that B refused: the time since `asked` (monotonic) and since the newest change was committed."""
        refused = time.time()
        with self.engine.connect() as conn:
            at = conn.execute(sa.select(changes.c.at).order_by(changes.c.seq.desc()).limit(1)).scalar_one()
        return Took(time.monotonic() - asked, refused - at.timestamp())


@dataclass(frozen=True)
class Took:
    """How long a change took to take effect: from asking node A, and from the change's commit."""

    from_request: float
    from_commit: float


def measured(what: str, samples: list[Took]) -> float:
    """Report both distributions; the p99 from the commit."""
    report(f"{what}, from asking A", [s.from_request for s in samples])
    return report(f"{what}, from the commit", [s.from_commit for s in samples])


@pytest.fixture(scope="module")
def deployment(pg_databases: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The registry made with the CLI, then nodes A and B (one worker each) on it."""
    url: str = pg_databases.create()
    root = tmp_path_factory.mktemp("push")
    k0, k1, k2 = (PrivateKeyHandle.generate(2048) for _ in range(3))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PORTVAKT_DATABASE_URL", url)
        env.setenv("PORTVAKT_ISSUER", ISSUER)
        env.setenv("PORTVAKT_SIGNING__KEY_ENCRYPTION_KEY", "the nodes share their signing keys")
        env.setenv("PORTVAKT_CACHE_POLL_SECONDS", POLL)
        env.setenv("PORTVAKT_CACHE__MAX_STALENESS_SECONDS", "60")
        env.setenv("PORTVAKT_RATELIMIT__ENABLED", "false")  # the probes ask B far more often than any client
        ops = root / "operator"
        cli(ops, "init")
        cli(ops, "org", "add", PROVIDER, "--name", "Provider")
        cli(ops, "org", "add", VENDOR, "--name", "Vendor")
        cli(ops, "scope", "add", SCOPE, "--owner", PROVIDER)
        for scope, org in ((SCOPE, VENDOR), (DCR_MODIFY, VENDOR), (SCOPES_WRITE, PROVIDER)):
            cli(ops, "access", "grant", scope, org)
        clients = []
        for org, key, scopes in ((VENDOR, k0, (SCOPE, DCR_MODIFY)), (PROVIDER, k2, (SCOPES_WRITE,))):
            jwk = root / f"{key.kid}.jwk.json"
            jwk.write_text(json.dumps(key.public_jwk))
            args = [a for s in scopes for a in ("--scope", s)]
            out = cli(ops, "client", "add", "--org", org, "--name", "sys", "--public-key", str(jwk), *args)
            clients.append(json.loads(out)["client_id"])
        a = Server(root / "a", "--only", "token")
        b = Server(root / "b", "--only", "token")
        engine = sa.create_engine(url, poolclass=sa.NullPool)
        with httpx.Client(timeout=10) as http:
            try:
                yield Deployment(url, root, a, b, clients[0], clients[1], k0, k1, k2, http, engine)
            finally:
                b.stop()
                a.stop()
                engine.dispose()
    pg_databases.drop(url)


def until(check: Callable[[], bool], within: float, every: float = 0.0) -> float:
    """Seconds until `check()` held, asked again at once (or after `every` seconds); fails after `within`."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < within, f"not within {within} s"
        time.sleep(every)
    return time.monotonic() - started


def report(what: str, samples: list[float]) -> float:
    """Print the distribution of `samples` (seconds) and return its p99."""
    ms = sorted(s * 1000 for s in samples)
    p99 = statistics.quantiles(ms, n=100, method="inclusive")[98]
    print(f"\n{what}: n={len(ms)} min={ms[0]:.1f} median={statistics.median(ms):.1f} p99={p99:.1f} "
          f"max={ms[-1]:.1f} ms")
    return p99 / 1000


def key_set(d: Deployment, node: Server, headers: dict[str, str], *keys: PrivateKeyHandle) -> None:
    """Replace the system client's keys through `node`'s /api/v1 (docs/protocol.md §3.3)."""
    resp = d.http.post(f"{node.url}api/v1/clients/{d.system}/jwks", headers=headers,
                       json={"keys": [k.public_jwk for k in keys]})
    assert resp.status_code == 200, resp.text


def accepts(d: Deployment, node: Server, key: PrivateKeyHandle) -> bool:
    """`node` issues the system client a token for a grant signed with `key`."""
    return d.token(node, d.grant(d.system, key)).status_code == 200


def probes(d: Deployment, key: PrivateKeyHandle, ready: int = 40) -> Iterator[str]:
    """Grants of the system client signed with `key`: `ready` signed before the clock starts, then more as needed
    (so that a probe of node B costs one request, not a signature too)."""
    signed = [d.grant(d.system, key) for _ in range(ready)]
    return itertools.chain(signed, (d.grant(d.system, key) for _ in itertools.count()))


def refuses(d: Deployment, node: Server, grants: Iterator[str], status: int, code: str) -> bool:
    """`node` refuses the next grant with `status` and MP `code` (anything else but a token fails the test)."""
    resp = d.token(node, next(grants))
    if resp.status_code == 200:
        return False
    assert resp.status_code == status and resp.json()["error_uri"].endswith(f"/{code}"), resp.text
    return True


def key_removal(d: Deployment, node: Server, headers: dict[str, str]) -> Took:
    """Register K1 through A, wait until `node` accepts it (and so has cached it), remove it through A; how long
    until `node` refuses it."""
    key_set(d, d.a, headers, d.k0, d.k1)
    until(lambda: accepts(d, node, d.k1), within=10)
    grants = probes(d, d.k1)
    started = time.monotonic()
    key_set(d, d.a, headers, d.k0)
    until(lambda: refuses(d, node, grants, 400, "MP-126"), within=10)  # the kid is not the client's any more
    return d.took(started)


def test_a_key_removed_through_node_a_is_refused_by_node_b_within_100_ms(deployment: Deployment) -> None:
    d = deployment
    headers = d.admin(d.system, d.k0, DCR_MODIFY)
    # Not measured: the first change after the nodes start pays one-time costs (B's listener may still be
    # connecting in its thread; first use of the refusal path): once 185 ms in a clean-clone run. The bound is for
    # running nodes; this first change must still arrive within key_removal's own 10 s.
    key_removal(d, d.b, headers)
    assert measured("key removed on A, refused on B", [key_removal(d, d.b, headers) for _ in range(ROUNDS)]) < BOUND


def test_an_access_revoked_through_node_a_is_refused_by_node_b_within_100_ms(deployment: Deployment) -> None:
    d = deployment
    headers = d.admin(d.provider_admin, d.k2, SCOPES_WRITE)
    access = f"{d.a.url}api/v1/scopes/access/{VENDOR}"

    def revocation() -> Took:
        """Approve the vendor's access through A, wait until B issues (and so has cached it), revoke it through A;
        how long until B refuses."""
        resp = d.http.put(access, params={"scope": SCOPE}, headers=headers)
        assert resp.status_code == 200, resp.text
        until(lambda: accepts(d, d.b, d.k0), within=10)
        grants = probes(d, d.k0)
        started = time.monotonic()
        resp = d.http.delete(access, params={"scope": SCOPE}, headers=headers)
        assert resp.status_code == 200 and resp.json()["state"] == "DENIED", resp.text
        until(lambda: refuses(d, d.b, grants, 403, "MP-250"), within=10)  # no access to the scope any more
        return d.took(started)

    try:
        assert measured("access revoked on A, refused on B", [revocation() for _ in range(ROUNDS)]) < BOUND
    finally:  # the other tests of the module need the access
        assert d.http.put(access, params={"scope": SCOPE}, headers=headers).status_code == 200


LISTENER = "portvakt-listener"


class Gate:
    """A TCP forwarder to PostgreSQL for one node that can refuse the node's change listener (by the
    application_name of its startup message) while every other connection goes on; it knows which of its
    upstream connections (their local ports, pg_stat_activity.client_port) are listeners."""

    def __init__(self, url: str) -> None:
        parsed = sa.make_url(url)
        self._upstream = (parsed.host or "127.0.0.1", int(parsed.port or 5432))
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = parsed.set(host="127.0.0.1", port=self._server.getsockname()[1],
                              query={"sslmode": "disable", "gssencmode": "disable"}
                              ).render_as_string(hide_password=False)
        self.refusing = threading.Event()
        self.refused = 0
        self.listener_ports: set[int] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        """Stop accepting."""
        self._server.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        buffered = b""  # the startup message, which names the application; no SSL or GSS request comes first,
        while len(buffered) < 4 or len(buffered) < int.from_bytes(buffered[:4], "big"):  # as the URL disables both
            chunk = client.recv(65536)
            if not chunk:
                client.close()
                return
            buffered += chunk
        fields = buffered[8:int.from_bytes(buffered[:4], "big")].split(b"\0")
        params = dict(zip(fields[0::2], fields[1::2], strict=False))
        listener = params.get(b"application_name") == LISTENER.encode()
        if listener and self.refusing.is_set():
            self.refused += 1
            client.close()
            return
        upstream = socket.create_connection(self._upstream)
        if listener:
            self.listener_ports.add(upstream.getsockname()[1])
        upstream.sendall(buffered)
        threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()
        _pump(client, upstream)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes until either side closes, then close both."""
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def listener_pids(d: Deployment, gate: Gate) -> list[int]:
    """The server pids of the gated node's change listener sessions."""
    with d.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT pid, client_port FROM pg_stat_activity WHERE application_name = :name "
                                    "AND datname = current_database()"), {"name": LISTENER}).all()
    return [pid for pid, port in rows if port in gate.listener_ports]


def test_with_its_listener_killed_and_kept_out_a_node_still_polls_and_the_listener_comes_back(
        deployment: Deployment) -> None:
    d = deployment
    gate = Gate(d.url)
    node = Server(d.root / "c", "--only", "token", env={"PORTVAKT_DATABASE_URL": gate.url})
    try:
        headers = d.admin(d.system, d.k0, DCR_MODIFY)
        until(lambda: len(listener_pids(d, gate)) == 1, within=10)
        assert key_removal(d, node, headers).from_commit < 1.0  # pushed

        key_set(d, d.a, headers, d.k0, d.k1)
        until(lambda: accepts(d, node, d.k1), within=10)
        gate.refusing.set()
        [pid] = listener_pids(d, gate)
        with d.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.pg_terminate_backend(pid))).scalar_one() is True
        until(lambda: gate.refused >= 3, within=10)  # it keeps trying, with backoff
        started = time.monotonic()
        key_set(d, d.a, headers, d.k0)
        grants = probes(d, d.k1, ready=0)
        until(lambda: refuses(d, node, grants, 400, "MP-126"), within=float(POLL) + 2, every=0.02)  # by the poll
        print(f"\nwith the listener kept out: refused after {time.monotonic() - started:.2f} s (poll {POLL} s)")
        assert listener_pids(d, gate) == []
        log = node.log.read_text()
        assert log.count("the change listener has no database connection (OperationalError)") == 1, log
        assert "listening again" not in log

        gate.refusing.clear()
        until(lambda: len(listener_pids(d, gate)) == 1, within=10)
        until(lambda: "the change listener is listening again" in node.log.read_text(), within=5)
        samples = [key_removal(d, node, headers) for _ in range(3)]
        assert measured("after the listener came back", samples) < 0.25  # pushed again, not polled
    finally:
        node.stop()
        gate.close()
