"""The fault suite's load: grants of every kind, signed as they are sent, to every node at a bounded rate, with every
answer recorded (node, kind, jti, when, how long, status, MP code, Retry-After, the token)."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from portvakt.jose import PrivateKeyHandle, Signer

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: A client that waits this long for an answer counts the request as hung (docs/security.md: never a hang).
HANG_SECONDS = 5.0
#: exp - iat of the grants: near the server's 120 s maximum, so a scenario's grants can still be replayed at its end.
GRANT_LIFETIME = 110

VALID = "valid"
SPARE_KEY = "spare-key"
REVOCABLE_ACCESS = "revocable-access"
DELEGATED = "delegated"
REPLAY = "replay"
BAD_SIGNATURE = "bad-signature"
UNKNOWN_KID = "unknown-kid"
EXPIRED = "expired"
WRONG_AUDIENCE = "wrong-audience"
ADMIN = "admin"
#: Grants no node may ever accept.
INVALID_KINDS = frozenset({BAD_SIGNATURE, UNKNOWN_KID, EXPIRED, WRONG_AUDIENCE})
#: Grants a healthy node accepts (until an admin change says otherwise).
GOOD_KINDS = frozenset({VALID, SPARE_KEY, REVOCABLE_ACCESS, DELEGATED})


@dataclass(frozen=True)
class Keys:
    """The client keys of the suite: the system's two registered keys, one nobody registered, and the admins'."""

    main: PrivateKeyHandle
    spare: PrivateKeyHandle
    stranger: PrivateKeyHandle
    vendor_admin: PrivateKeyHandle
    provider_admin: PrivateKeyHandle
    consumer_admin: PrivateKeyHandle


@dataclass(frozen=True)
class Scopes:
    """The scopes the load asks for: one that stays, one whose access is revoked, one delegated by the consumer."""

    read: str
    revocable: str
    delegable: str
    consumer: str


@dataclass(frozen=True)
class Grant:
    """A signed JWT grant and what it was made to test."""

    kind: str
    assertion: str
    jti: str
    exp: int


@dataclass(frozen=True)
class Answer:
    """One request and its outcome; `failure` is set when no HTTP answer came ("timeout", or the transport error)."""

    node: str
    kind: str
    jti: str
    sent: float
    seconds: float
    status: int | None = None
    code: str | None = None
    retry_after: str | None = None
    token: str | None = None
    failure: str | None = None

    @property
    def outcome(self) -> str:
        """A short label: "200", "400 MP-012", "503 MP-504", "timeout", "ConnectError"."""
        if self.failure is not None:
            return self.failure
        return f"{self.status} {self.code}" if self.code else str(self.status)


class Grants:
    """Signs a fresh grant of any kind for the system client."""

    def __init__(self, issuer: str, client_id: str, keys: Keys, scopes: Scopes) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.keys = keys
        self.scopes = scopes

    def make(self, kind: str) -> Grant:
        """A grant of `kind` (any kind but REPLAY), its iat now."""
        now = int(time.time())
        key, kid, scope, extra = self.keys.main, None, self.scopes.read, {}
        iat, aud = now, self.issuer
        if kind == SPARE_KEY:
            key = self.keys.spare
        elif kind == REVOCABLE_ACCESS:
            scope = self.scopes.revocable
        elif kind == DELEGATED:
            scope, extra = self.scopes.delegable, {"consumer_org": self.scopes.consumer}
        elif kind == BAD_SIGNATURE:
            key, kid = self.keys.stranger, self.keys.main.kid
        elif kind == UNKNOWN_KID:
            key = self.keys.stranger
        elif kind == EXPIRED:
            iat = now - GRANT_LIFETIME - 30
        elif kind == WRONG_AUDIENCE:
            aud = "https://maskinporten.no/"
        else:
            assert kind == VALID, f"no grant of kind {kind!r}"
        jti = str(uuid.uuid4())
        claims = {"aud": aud, "iss": self.client_id, "scope": scope, "iat": iat, "exp": iat + GRANT_LIFETIME,
                  "jti": jti, **extra}
        return Grant(kind, Signer(key, kid=kid).sign(claims), jti, iat + GRANT_LIFETIME)


def mp_code(response: httpx.Response) -> str | None:
    """The MP code of an OAuth error answer (the end of its error_uri), or None."""
    try:
        body = response.json()
    except ValueError:
        return None
    uri = body.get("error_uri") if isinstance(body, dict) else None
    return uri.rsplit("/", 1)[-1] if isinstance(uri, str) and "/errors/" in uri else None


def send(http: httpx.Client, node: str, url: str, grant: Grant, kind: str | None = None) -> Answer:
    """POST the grant to the node's /token and record the answer."""
    sent, start = time.time(), time.monotonic()
    try:
        r = http.post(f"{url}token", data={"grant_type": JWT_BEARER, "assertion": grant.assertion},
                      timeout=HANG_SECONDS)
    except httpx.TimeoutException:
        return Answer(node, kind or grant.kind, grant.jti, sent, time.monotonic() - start, failure="timeout")
    except httpx.TransportError as exc:
        return Answer(node, kind or grant.kind, grant.jti, sent, time.monotonic() - start,
                      failure=type(exc).__name__)
    token = r.json().get("access_token") if r.status_code == 200 else None
    return Answer(node, kind or grant.kind, grant.jti, sent, time.monotonic() - start, status=r.status_code,
                  code=mp_code(r), retry_after=r.headers.get("retry-after"), token=token)


class Recorder:
    """Every answer of one scenario, and the grants some node accepted (what a replay resends)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: list[Answer] = []
        self._accepted: dict[str, Grant] = {}

    def add(self, answer: Answer, grant: Grant | None = None) -> None:
        """Record an answer; an accepted grant joins the replay pool."""
        with self._lock:
            self._answers.append(answer)
            if grant is not None and answer.status == 200:
                self._accepted.setdefault(grant.jti, grant)

    def answers(self) -> list[Answer]:
        """A copy of every answer so far."""
        with self._lock:
            return list(self._answers)

    def accepted(self) -> list[Grant]:
        """Every grant some node answered 200, oldest first."""
        with self._lock:
            return list(self._accepted.values())

    def pick_accepted(self, rng: random.Random) -> Grant | None:
        """One of the last 200 accepted grants, at random."""
        with self._lock:
            pool = list(self._accepted.values())[-200:]
        return rng.choice(pool) if pool else None


class Load:
    """Threads that send grants of a weighted mix to each node, at most `rate` requests per second per node."""

    def __init__(self, targets: Callable[[], dict[str, str]], grants: Grants, recorder: Recorder,
                 mix: Sequence[tuple[str, float]], *, rate: float = 20.0, threads: int = 5) -> None:
        self._targets = targets
        self._grants = grants
        self._recorder = recorder
        self._kinds = [kind for kind, _ in mix]
        self._weights = [weight for _, weight in mix]
        self._interval = threads / rate
        self._threads_per_node = threads
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the senders (each node gets its own threads, staggered over one interval)."""
        nodes = sorted(self._targets())
        for n, node in enumerate(nodes):
            for i in range(self._threads_per_node):
                offset = self._interval * (i + n / len(nodes)) / self._threads_per_node
                thread = threading.Thread(target=self._run, args=(node, offset, n * 100 + i),
                                          name=f"faults-load-{node}-{i}", daemon=True)
                self._threads.append(thread)
                thread.start()

    def stop(self) -> None:
        """Stop sending; waits for the requests in flight (at most the hang timeout)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=HANG_SECONDS + 5)

    def _run(self, node: str, offset: float, seed: int) -> None:
        rng = random.Random(seed)
        next_at = time.monotonic() + offset
        with httpx.Client() as http:
            while not self._stop.wait(max(0.0, next_at - time.monotonic())):
                kind = rng.choices(self._kinds, self._weights)[0]
                grant = self._recorder.pick_accepted(rng) if kind == REPLAY else None
                if grant is None:
                    kind = VALID if kind == REPLAY else kind
                    grant = self._grants.make(kind)
                answer = send(http, node, self._targets()[node], grant, kind)
                self._recorder.add(answer, grant)
                next_at = max(next_at + self._interval, time.monotonic())  # bounded: no catch-up burst
