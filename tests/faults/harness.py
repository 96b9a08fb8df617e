"""The fault suite's deployment, as an operator runs it: a registry made with the admin CLI, two `portvakt serve`
nodes (one worker each) on one PostgreSQL database, node A through a link proxy and node B directly, a Redis, and
the admin API driven through either node. `Cycle` runs one fault of a scenario under load and then checks it.
"""

from __future__ import annotations

import contextlib
import email.utils
import gc
import json
import re
import threading
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from typer.testing import CliRunner

from portvakt.cli import app as portvakt_cli
from portvakt.jose import PrivateKeyHandle, Signer
from tests.api.test_serve import Server
from tests.faults import checks
from tests.faults.load import (
    ADMIN,
    GOOD_KINDS,
    HANG_SECONDS,
    VALID,
    Answer,
    Grant,
    Grants,
    Keys,
    Load,
    Recorder,
    Scopes,
    mp_code,
    send,
)
from tests.faults.postgres import Cluster
from tests.faults.proxy import LinkProxy
from tests.redis_server import RedisServer

ISSUER = "http://portvakt.faults/"
KEK = "fault-suite-key-encryption-key"  # a test value shared by both nodes, as an operator shares theirs
PROVIDER, VENDOR, CONSUMER = "974760673", "314330897", "310838128"
SCOPES = Scopes(read="brreg:test/read", revocable="brreg:test/revocable", delegable="brreg:test/delegable",
                consumer=CONSUMER)
DCR_WRITE, SCOPES_WRITE = "idporten:dcr.write", "idporten:scopes.write"
DELEGATIONS_WRITE = "altinn:maskinporten/delegations.write"
#: PORTVAKT_CACHE__MAX_STALENESS_SECONDS of both nodes (the default).
STALENESS = 5.0
#: After a fault ends, each node issues tokens again within this long.
RECOVERY_SECONDS = 15.0
#: Requests per second per node.
RATE = 20.0
ReplayStore = Literal["database", "redis"]


@dataclass(frozen=True)
class Registry:
    """The template database the CLI filled, and the ids in it."""

    template: str
    system: str
    vendor_admin: str
    provider_admin: str
    consumer_admin: str
    scheme: str


def make_keys() -> Keys:
    """Six RSA-2048 keys (about 0.1 s each)."""
    return Keys(*(PrivateKeyHandle.generate(2048) for _ in range(6)))


def build_registry(cluster: Cluster, keys: Keys, folder: Path) -> Registry:
    """`portvakt init` and the operator's commands on a template database: the provider's three scopes, the vendor's
    system with its main key, access, a delegation scheme and the consumer's delegation, and one admin client each
    for the vendor (dcr.write), the provider (scopes.write) and the consumer (delegations.write).

    The commands are the CLI's own (its Typer app), run in this process: a `portvakt` process costs seconds of CPU
    to start on a busy 2-core machine, twenty of them most of the suite's budget."""
    template = "faults_template"
    url = cluster.create_database(template)
    jwk = {}
    for name, key in (("main", keys.main), ("vendor", keys.vendor_admin), ("provider", keys.provider_admin),
                      ("consumer", keys.consumer_admin)):
        jwk[name] = folder / f"{name}.jwk.json"
        jwk[name].write_text(json.dumps(key.public_jwk))
    env = {**node_environment(url), "PORTVAKT_DATA_DIR": str(folder / "operator"), "COLUMNS": "250"}
    runner = CliRunner()

    def run(*args: str) -> str:
        done = runner.invoke(portvakt_cli, list(args), env=env)
        assert done.exit_code == 0, f"portvakt {' '.join(args[:3])} failed: {done.output}"
        return done.stdout

    run("init")
    for orgno, name in ((PROVIDER, "Provider"), (VENDOR, "Vendor"), (CONSUMER, "Consumer")):
        run("org", "add", orgno, "--name", name)
    run("scope", "add", SCOPES.read, "--owner", PROVIDER)
    run("scope", "add", SCOPES.revocable, "--owner", PROVIDER)
    run("scope", "add", SCOPES.delegable, "--owner", PROVIDER, "--delegation-source", ISSUER)
    for scope, orgno in ((SCOPES.read, VENDOR), (SCOPES.revocable, VENDOR), (SCOPES.delegable, CONSUMER),
                         (DCR_WRITE, VENDOR), (SCOPES_WRITE, PROVIDER), (DELEGATIONS_WRITE, CONSUMER)):
        run("access", "grant", scope, orgno)
    made = [run("client", "add", "--org", VENDOR, "--name", "system", "--scope", SCOPES.read, "--scope",
                SCOPES.revocable, "--scope", SCOPES.delegable, "--public-key", str(jwk["main"])),
            run("client", "add", "--org", VENDOR, "--name", "vendor admin", "--scope", DCR_WRITE,
                "--public-key", str(jwk["vendor"])),
            run("client", "add", "--org", PROVIDER, "--name", "provider admin", "--scope", SCOPES_WRITE,
                "--public-key", str(jwk["provider"])),
            run("client", "add", "--org", CONSUMER, "--name", "consumer admin", "--scope", DELEGATIONS_WRITE,
                "--public-key", str(jwk["consumer"]))]
    scheme = str(json.loads(run("scheme", "add", "--owner", PROVIDER, "--scope", SCOPES.delegable,
                                "--title-nb", "Feiltester"))["scheme_id"])
    run("delegation", "add", "--consumer", CONSUMER, "--supplier", VENDOR, "--scheme", scheme)
    with warnings.catch_warnings():  # the commands leave their stores open; a template must have no sessions
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    cluster.disconnect(template)
    system, vendor, provider, consumer = (str(json.loads(out)["client_id"]) for out in made)
    return Registry(template, system, vendor, provider, consumer, scheme)


def node_environment(database_url: str, replay: ReplayStore = "database", redis_url: str | None = None,
                     ) -> dict[str, str]:
    """What both nodes (and the operator's CLI) share: the database, the issuer, the key-encryption key, the
    replay store, the staleness bound; rate limits far above the suite's load."""
    env = {"PORTVAKT_DATABASE_URL": database_url, "PORTVAKT_ISSUER": ISSUER,
           "PORTVAKT_SIGNING__KEY_ENCRYPTION_KEY": KEK, "PORTVAKT_REPLAY_STORE": replay,
           "PORTVAKT_CACHE__MAX_STALENESS_SECONDS": f"{STALENESS:g}",
           "PORTVAKT_RATELIMIT__PER_CLIENT_PER_MINUTE": "1000000",
           "PORTVAKT_RATELIMIT__PER_ADDRESS_PER_MINUTE": "10000000", "PORTVAKT_LIMITS__DRAIN_SECONDS": "2"}
    if redis_url is not None:
        env["PORTVAKT_REDIS_URL"] = redis_url
    return env


EXCEPTION_LINE = re.compile(r"^([\w.]+(?:Error|Exception|Unavailable|Timeout)\b.*)$", re.MULTILINE)


class Node:
    """One `portvakt serve --only token --only altinn` process (one worker); kill -9 and restart on its port."""

    def __init__(self, name: str, folder: Path, env: dict[str, str]) -> None:
        self.name = name
        self.folder = folder
        self.env = env
        self.server: Server | None = None
        self.port: int | None = None
        self.logs: list[Path] = []

    def start(self) -> None:
        """Start it (on its old port after a kill) and wait until /jwk answers."""
        self.server = Server(self.folder, "--only", "token", "--only", "altinn", env=self.env, port=self.port)
        self.port = self.server.port
        self.logs.append(self.server.log)

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>/"""
        assert self.server is not None
        return self.server.url

    def kill(self) -> None:
        """kill -9."""
        assert self.server is not None
        self.server.proc.kill()
        self.server.proc.wait(timeout=10)

    def exit_code(self) -> int | None:
        """None while the process runs."""
        return None if self.server is None else self.server.proc.poll()

    def stop(self) -> None:
        """Stop it for good (kill -9: nothing of it is checked after the scenario)."""
        if self.server is not None and self.server.proc.poll() is None:
            self.kill()

    def log_summary(self) -> str:
        """How many tracebacks its logs hold, and the last exception line."""
        text = "".join(path.read_text(errors="replace") for path in self.logs if path.exists())
        lines = EXCEPTION_LINE.findall(text)
        last = f"; last: {lines[-1][:200]}" if lines else ""
        return f"node {self.name}: {text.count('Traceback')} traceback(s) in its log{last}"


class Admin:
    """An admin client of one organisation: its access token (from whichever node it calls) and its API calls, each
    recorded as an answer of kind "admin"."""

    def __init__(self, client_id: str, key: PrivateKeyHandle, scope: str) -> None:
        self.client_id = client_id
        self.key = key
        self.scope = scope
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()
        self.last: Answer | None = None  # the last answer it got, for a failure's message

    def token(self, node: Node, recorder: Recorder | None) -> str | None:
        """A cached access token (fetched again after 60 s), or None if the node gave none."""
        with self._lock:
            if self._token is not None and time.monotonic() - self._token[1] < 60:
                return self._token[0]
        now = int(time.time())
        assertion = Signer(self.key).sign({"aud": ISSUER, "iss": self.client_id, "scope": self.scope, "iat": now,
                                           "exp": now + 60, "jti": f"admin-{time.time_ns()}"})
        with httpx.Client() as http:
            answer = send(http, node.name, node.url, Grant(ADMIN, assertion, "", now + 60))
        self.last = answer
        _record(recorder, answer)
        if answer.token is None:
            return None
        with self._lock:
            self._token = (answer.token, time.monotonic())
        return answer.token

    def call(self, node: Node, method: str, path: str, recorder: Recorder | None = None,
             **kwargs: Any) -> httpx.Response | None:
        """One request to the node's API with this client's token; None if no token or no answer came."""
        token = self.token(node, recorder)
        if token is None:
            return None
        sent, start = time.time(), time.monotonic()
        try:
            r = httpx.request(method, f"{node.url}{path.lstrip('/')}", headers={"authorization": f"Bearer {token}"},
                              timeout=HANG_SECONDS, **kwargs)
        except httpx.TimeoutException:
            self.last = Answer(node.name, ADMIN, "", sent, time.monotonic() - start, failure="timeout")
            _record(recorder, self.last)
            return None
        except httpx.TransportError as exc:
            self.last = Answer(node.name, ADMIN, "", sent, time.monotonic() - start, failure=type(exc).__name__)
            _record(recorder, self.last)
            return None
        self.last = Answer(node.name, ADMIN, "", sent, time.monotonic() - start, status=r.status_code,
                           code=mp_code(r), retry_after=r.headers.get("retry-after"))
        _record(recorder, self.last)
        return r


def _record(recorder: Recorder | None, answer: Answer) -> None:
    if recorder is not None:
        recorder.add(answer)


def acknowledged_at(response: httpx.Response) -> float:
    """The second the node answered, from its Date header (the change's time as that node saw it)."""
    return email.utils.parsedate_to_datetime(response.headers["date"]).timestamp()


class Deployment:
    """Two nodes on a fresh copy of the registry, a Redis, and the link proxy between node A and PostgreSQL."""

    def __init__(self, cluster: Cluster, registry: Registry, keys: Keys, folder: Path, replay: ReplayStore,
                 name: str) -> None:
        self.cluster = cluster
        self.registry = registry
        self.keys = keys
        self.replay = replay
        self.database = f"faults_{name.replace('-', '_')}"
        cluster.create_database(self.database, template=registry.template)
        self.redis = RedisServer(folder / "redis", save="3600 1")
        self.proxy = LinkProxy(cluster.port)
        redis_url = self.redis.url if replay == "redis" else None
        self.nodes = {
            "A": Node("A", folder / "a", node_environment(cluster.database_url(self.database, self.proxy.port),
                                                          replay, redis_url)),
            "B": Node("B", folder / "b", node_environment(cluster.database_url(self.database), replay, redis_url)),
        }
        for node in self.nodes.values():
            node.start()
        self.grants = Grants(ISSUER, registry.system, keys, SCOPES)
        self.vendor = Admin(registry.vendor_admin, keys.vendor_admin, DCR_WRITE)
        self.provider = Admin(registry.provider_admin, keys.provider_admin, SCOPES_WRITE)
        self.consumer = Admin(registry.consumer_admin, keys.consumer_admin, DELEGATIONS_WRITE)
        # A replay store seen for the first time may refuse the grants of its first second (docs/security.md,
        # Replay after a store crash): the scenario starts once both nodes issue tokens.
        assert accepts(self, VALID, within=15), f"the nodes issue no tokens after their start: {self.urls()}"

    def urls(self) -> dict[str, str]:
        """Node name → base URL."""
        return {name: node.url for name, node in self.nodes.items()}

    def jwks(self) -> dict[str, Any]:
        """The union of both nodes' /jwk."""
        keys: dict[str, Any] = {}
        for node in self.nodes.values():
            r = httpx.get(f"{node.url}jwk", timeout=HANG_SECONDS)
            r.raise_for_status()
            keys.update({k["kid"]: k for k in r.json()["keys"]})
        return {"keys": list(keys.values())}

    def close(self) -> None:
        """Stop everything this deployment started and drop its database."""
        for node in self.nodes.values():
            node.stop()
        self.proxy.close()
        self.redis.stop()
        with contextlib.suppress(Exception):
            if not self.cluster.is_up():
                self.cluster.start()
            self.cluster.drop_database(self.database)


class Writer:
    """Creates a client through the nodes in turn every `every` seconds, remembering the acknowledged ones (201)."""

    def __init__(self, deployment: Deployment, recorder: Recorder, every: float = 0.5) -> None:
        self._deployment = deployment
        self._recorder = recorder
        self._every = every
        self._stop = threading.Event()
        self.acknowledged: list[tuple[str, str]] = []
        self._thread = threading.Thread(target=self._run, name="faults-admin-writer", daemon=True)

    def start(self) -> None:
        """Start writing."""
        self._thread.start()

    def stop(self) -> None:
        """Stop writing (waits for the write in flight)."""
        self._stop.set()
        self._thread.join(timeout=3 * HANG_SECONDS)

    def _run(self) -> None:
        names = sorted(self._deployment.nodes)
        n = 0
        while not self._stop.wait(self._every):
            n += 1
            node = self._deployment.nodes[names[n % len(names)]]
            if node.exit_code() is not None:
                continue
            r = self._deployment.vendor.call(node, "POST", "api/v1/clients", self._recorder,
                                             json={"client_name": f"fault probe {n}", "scopes": [SCOPES.read]})
            if r is not None and r.status_code == 201:
                self.acknowledged.append((node.name, r.json()["client_id"]))


@dataclass
class Cycle:
    """One fault of a scenario: load and admin writes on both nodes, the fault, its end, the recovery; then every
    check of the suite, and a report with the evidence."""

    deployment: Deployment
    mix: Sequence[tuple[str, float]]
    title: str
    recorder: Recorder = field(default_factory=Recorder)
    events: list[tuple[float, str]] = field(default_factory=list)
    windows: list[checks.Window] = field(default_factory=list)
    changes: list[checks.Change] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    healed_at: float | None = None
    t0: float = 0.0

    def __post_init__(self) -> None:
        self.load = Load(self.deployment.urls, self.deployment.grants, self.recorder, self.mix, rate=RATE)
        self.writer = Writer(self.deployment, self.recorder)

    @contextlib.contextmanager
    def running(self) -> Iterator[Cycle]:
        """Load and admin writes while the body injects the fault; stopped (and the fault healed by the body's
        finally) before the checks."""
        self.t0 = time.time()
        self.note("load starts")
        self.load.start()
        self.writer.start()
        try:
            yield self
        finally:
            self.load.stop()
            self.writer.stop()
            self.note("load stops")

    def note(self, text: str) -> None:
        """An event of the timeline."""
        self.events.append((time.time(), text))

    def wait(self, seconds: float) -> None:
        """Let the load run."""
        time.sleep(seconds)

    def down(self, node: str, start: float, end: float) -> None:
        """`node` was deliberately down between start and end: refused connections then are expected."""
        self.windows.append(checks.Window(node, start, end))

    def healed(self, text: str) -> None:
        """The fault is over: recovery is measured from now."""
        self.healed_at = time.time()
        self.note(text)

    def await_recovery(self, then: float = 2.0) -> None:
        """Wait until every node has issued a token for a grant sent after the heal (at most RECOVERY_SECONDS), then
        let the load run `then` seconds more."""
        assert self.healed_at is not None
        deadline = time.monotonic() + RECOVERY_SECONDS + 1
        while time.monotonic() < deadline:
            fresh = {a.node for a in self.recorder.answers()
                     if a.status == 200 and a.kind in GOOD_KINDS and a.sent >= self.healed_at}
            if fresh >= set(self.deployment.nodes):
                self.note("every node issues tokens again")
                break
            time.sleep(0.2)
        self.wait(then)

    def record_change(self, what: str, kind: str, refusal: str, node: str, response: httpx.Response | None) -> None:
        """An admin change made through `node`, after which grants of `kind` are refused with `refusal`: acknowledged
        (200) or a violation."""
        if response is None or response.status_code != 200:
            got = "no answer" if response is None else f"{response.status_code} {response.text[:200]}"
            self.violations.append(f"the admin change '{what}' through {node} was not acknowledged: {got}")
            return
        self.changes.append(checks.Change(what, kind, refusal, node, acknowledged_at(response)))
        self.note(f"{what} (through {node})")

    def finish(self, extra: Callable[[], list[str]] | None = None) -> str | None:
        """Replay every accepted grant to every node, run the checks; the report if anything was violated."""
        d = self.deployment
        answers = self.recorder.answers()
        replays = self._replay_all()
        everything = answers + replays
        found = list(self.violations)
        found += checks.no_grant_accepted_twice(everything, self.t0)
        found += checks.replays_refused(replays, self.changes)
        found += checks.invalid_grants_refused(answers)
        found += checks.valid_grants_not_misjudged(answers)
        found += checks.outages_answered_503(answers, self.windows, self.t0)
        found += checks.no_token_after_a_change(answers, self.changes, STALENESS)
        try:
            found += checks.tokens_verify(everything, d.jwks(), ISSUER)
        except httpx.HTTPError as exc:
            found.append(f"tokens verify against /jwk: a node's /jwk did not answer ({type(exc).__name__})")
        if self.healed_at is not None:
            for name in d.nodes:
                found += checks.recovered(name, self.healed_at, answers, RECOVERY_SECONDS)
        found += self._acknowledged_clients_present()
        for name, node in d.nodes.items():
            if (code := node.exit_code()) is not None:
                found.append(f"the nodes keep running: node {name} exited with {code}")
        if extra is not None:
            found += extra()
        if not found:
            return None
        return self.report(found, answers, replays)

    def _replay_all(self) -> list[Answer]:
        """Every grant some node accepted, sent once more to each node (8 at a time)."""
        accepted = [g for g in self.recorder.accepted() if g.exp > time.time() + 2]
        nodes = list(self.deployment.nodes.values())
        with httpx.Client(limits=httpx.Limits(max_connections=16)) as http, ThreadPoolExecutor(8) as pool:
            return list(pool.map(lambda job: send(http, job[1].name, job[1].url, job[0],
                                                  f"{checks.REPLAY_OF}{job[0].kind}"),
                                 [(g, node) for g in accepted for node in nodes]))

    def _acknowledged_clients_present(self) -> list[str]:
        """Every client whose creation a node acknowledged is listed afterwards, through each node."""
        acknowledged = {client_id for _, client_id in self.writer.acknowledged}
        found: list[str] = []
        for name, node in self.deployment.nodes.items():
            listed = self.list_clients(node)
            if listed is None:
                found.append(f"every acknowledged change is present afterwards: node {name} did not list the "
                             f"clients")
                continue
            missing = acknowledged - listed
            if missing:
                by: defaultdict[str, int] = defaultdict(int)
                for via, client_id in self.writer.acknowledged:
                    if client_id in missing:
                        by[via] += 1
                found.append(f"every acknowledged change is present afterwards: {len(missing)} of "
                             f"{len(acknowledged)} acknowledged client creations are missing when listed through "
                             f"{name} (acknowledged by {', '.join(f'{k} {v}' for k, v in sorted(by.items()))})")
        return found

    def list_clients(self, node: Node) -> set[str] | None:
        """The client ids the vendor's admin sees through `node` (every page), or None."""
        seen: set[str] = set()
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 1000, **({"after": after} if after else {})}
            r = self.deployment.vendor.call(node, "GET", "api/v1/clients", None, params=params)
            if r is None or r.status_code != 200:
                return None
            page = [c["client_id"] for c in r.json()]
            seen.update(page)
            if "link" not in r.headers or not page:
                return seen
            after = page[-1]

    def report(self, found: list[str], answers: Sequence[Answer], replays: Sequence[Answer]) -> str:
        """What was violated, then the evidence: the timeline, every node's answers by kind, the logs."""
        lines = [f"{self.title}: {len(found)} check(s) violated"]
        lines += [f"  - {text}" for text in found]
        lines.append("  timeline (s from the start): " + "; ".join(f"+{t - self.t0:.1f} {text}"
                                                                   for t, text in self.events))
        by: dict[tuple[str, str], list[str]] = defaultdict(list)
        for a in [*answers, *replays]:
            by[(a.node, a.kind)].append(a.outcome)
        lines.append("  answers:")
        lines += [f"    {node} {kind}: {checks.counts(outcomes)}" for (node, kind), outcomes in sorted(by.items())]
        lines += [f"  {node.log_summary()}" for node in self.deployment.nodes.values()]
        return "\n".join(lines)


def readiness(node: Node) -> str:
    """The node's /readyz in a few words (status and the registry's age), for the timeline."""
    try:
        r = httpx.get(f"{node.url}readyz", timeout=2)
        body = r.json()
    except (httpx.HTTPError, ValueError) as exc:
        return f"{node.name} /readyz: {type(exc).__name__}"
    registry = body.get("checks", {}).get("registry", {})
    return f"{node.name} /readyz {r.status_code}, registry age {registry.get('age_seconds')} s"


def accepts(deployment: Deployment, kind: str, within: float = 10.0) -> bool:
    """Wait until every node answers a fresh grant of `kind` with a token."""
    deadline = time.monotonic() + within
    waiting = set(deployment.nodes)
    with httpx.Client() as http:
        while waiting and time.monotonic() < deadline:
            for name in sorted(waiting):
                node = deployment.nodes[name]
                if send(http, name, node.url, deployment.grants.make(kind)).status == 200:
                    waiting.discard(name)
            time.sleep(0.1)
    return not waiting


def delegation_id(deployment: Deployment, node: Node) -> str | None:
    """The consumer's active delegation of the scheme to the vendor, made now if none is active (idempotent)."""
    r = deployment.consumer.call(node, "POST", "accessmanagement/api/v1/delegations",
                                 json={"scheme_id": deployment.registry.scheme, "supplier_org": VENDOR})
    if r is None or r.status_code not in (200, 201):
        return None
    return str(r.json()["delegation_id"])
