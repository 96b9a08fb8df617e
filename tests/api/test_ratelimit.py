"""Rate limits on POST /token in one process (docs/security.md, Token flood): per source address, per client, and a
flood of junk grants naming a victim's client_id, on the wire; the counter and the source address as units."""

from __future__ import annotations

import re
import timeit
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from portvakt.api.app import FastPath
from portvakt.api.ratelimit import SourceAddress, TokenLimits, issuer_of, peek_assertion
from portvakt.domain import usecases as uc
from portvakt.domain.clock import FixedClock
from portvakt.domain.models import IntegrationType
from portvakt.jose import PrivateKeyHandle, Signer
from portvakt.oauth.ratelimit import Gcra
from portvakt.settings import RateLimitSettings, Settings
from portvakt.storage.memory import MemoryStore
from portvakt.wiring import Overrides, assemble
from tests.api.test_token_rejections import refused
from tests.conftest import ISSUER, OP, VENDOR, seed

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass
class Registry:
    """One registry (a memory store with the conftest's vendor client) that several nodes may serve."""

    store: MemoryStore
    clock: FixedClock
    key: PrivateKeyHandle
    client_id: str

    def grant(self, key: PrivateKeyHandle | None = None, iss: str | None = None, kid: str | None = None) -> str:
        """A grant for the vendor's client (or `iss`), signed with its key (or `key`) under its kid (or `kid`)."""
        now = int(self.clock.now().timestamp())
        claims = {"aud": ISSUER, "iss": self.client_id if iss is None else iss, "scope": "brreg:test/read",
                  "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())}
        return Signer(key or self.key, alg="RS256", kid=kid or self.key.kid).sign(claims)

    def add_client(self, key: PrivateKeyHandle) -> str:
        """A second client of the vendor, with its own key."""
        now = self.clock.now()
        with self.store.begin() as uow:
            client = uc.new_client(uow, client_name="Second system", client_orgno=VENDOR,
                                   integration_type=IntegrationType.MASKINPORTEN, scopes=["brreg:test/read"],
                                   actor=OP, now=now)
            uc.replace_client_keys(uow, client.client_id, [(key.kid, key.public_jwk)], OP, now)
        return client.client_id


@dataclass
class Node:
    """One assembled token service on a Registry, and a client per source address."""

    app: FastPath
    registry: Registry
    clients: dict[tuple[str, ...], TestClient] = field(default_factory=dict)

    def http(self, address: str = "192.0.2.10", forwarded: str | None = None) -> TestClient:
        """A client whose TCP peer is `address` (and that sends X-Forwarded-For: `forwarded`)."""
        key = (address, forwarded or "")
        if key not in self.clients:
            headers = {"x-forwarded-for": forwarded} if forwarded else None
            self.clients[key] = TestClient(self.app, base_url="http://portvakt.test", client=(address, 40000),
                                           headers=headers)
        return self.clients[key]

    def post(self, assertion: str | None = None, *, address: str = "192.0.2.10", forwarded: str | None = None,
             ) -> httpx.Response:
        """POST /token with the JWT bearer grant `assertion` (None: no assertion at all)."""
        data = {"grant_type": JWT_BEARER, **({"assertion": assertion} if assertion is not None else {})}
        resp: httpx.Response = self.http(address, forwarded).post("/token", data=data)
        return resp

    def token(self, **kw: Any) -> httpx.Response:
        """POST /token with a fresh, valid grant of the vendor's client."""
        return self.post(self.registry.grant(), **kw)


def make_registry(key: PrivateKeyHandle) -> Registry:
    """A fresh memory registry seeded as the conftest's world."""
    store = MemoryStore()
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    return Registry(store, clock, key, seed(store, key, clock.now()))


def make_node(registry: Registry, redis_url: str | None = None, **limits: Any) -> Node:
    """A token service on `registry` with these PORTVAKT_RATELIMIT__* values (and Redis, if given)."""
    settings = Settings(issuer=ISSUER, data_dir="/nonexistent", redis_url=redis_url,
                        ratelimit=RateLimitSettings(**limits))
    app = assemble(settings, ("token",), Overrides(store=registry.store, clock=registry.clock, kek=b"test-kek"))
    return Node(app, registry)


def retry_after(resp: httpx.Response) -> int:
    """The 429 of MP-429, asserted; its Retry-After."""
    refused(resp, 429, "slow_down", "MP-429", "Too many requests.")
    assert resp.headers["pragma"] == "no-cache"
    return int(resp.headers["retry-after"])


@pytest.fixture
def registry(rsa_keys: list[PrivateKeyHandle]) -> Registry:
    """The registry every node of a test serves."""
    return make_registry(rsa_keys[0])


def test_an_address_over_its_limit_gets_429_before_its_body_is_read(registry: Registry) -> None:
    node = make_node(registry, per_address_per_minute=5)
    for _ in range(5):
        refused(node.post(), 400, "invalid_request", "MP-011")
    wait = retry_after(node.post())
    assert 6 <= wait <= 12, "5 a minute: the next slot frees 12 s after the first"
    not_a_form = node.http().post("/token", content=b"\xff" * 1000, headers={"content-type": "text/plain"})
    retry_after(not_a_form)  # refused before the body is parsed: 429, not MP-011
    assert node.token(address="192.0.2.11").status_code == 200, "another address has its own slots"
    assert node.token(address="2001:db8:0:1::1").status_code == 200


def test_an_ipv6_address_counts_with_its_64(registry: Registry) -> None:
    node = make_node(registry, per_address_per_minute=3)
    for host in ("2001:db8:0:1::1", "2001:db8:0:1::2", "2001:db8:0:1:ffff::9"):
        refused(node.post(address=host), 400, "invalid_request", "MP-011")
    retry_after(node.post(address="2001:db8:0:1::77"))
    refused(node.post(address="2001:db8:0:2::1"), 400, "invalid_request", "MP-011")


def test_a_client_over_its_limit_gets_429_and_another_client_does_not(registry: Registry,
                                                                     rsa_keys: list[PrivateKeyHandle]) -> None:
    node = make_node(registry, per_client_per_minute=3)
    other = registry.add_client(rsa_keys[1])
    for _ in range(3):
        assert node.token().status_code == 200
    wait = retry_after(node.token())
    assert 14 <= wait <= 20, "3 a minute: the next slot frees 20 s after the first"
    assert retry_after(node.token(address="198.51.100.7")) > 0, "the client's limit holds from any address"
    second = node.post(registry.grant(rsa_keys[1], iss=other, kid=rsa_keys[1].kid))
    assert second.status_code == 200, second.text


def test_junk_grants_naming_a_client_do_not_lock_it_out(registry: Registry,
                                                       rsa_keys: list[PrivateKeyHandle]) -> None:
    """The attacker knows the victim's client_id and kid, not its key; and has one of its grants, captured."""
    node = make_node(registry, per_client_per_minute=3)
    attacker = "203.0.113.66"
    for _ in range(30):
        refused(node.post(registry.grant(rsa_keys[1]), address=attacker), 400, "invalid_grant", "MP-124")
    for _ in range(5):
        refused(node.post(registry.grant(rsa_keys[1], kid="no-such-kid"), address=attacker), 400,
                "invalid_grant", "MP-126")
    captured = registry.grant()
    assert node.post(captured).status_code == 200, "the victim's first token"
    for _ in range(20):
        refused(node.post(captured, address=attacker), 400, "invalid_grant", "MP-012")
    assert node.token().status_code == 200
    assert node.token().status_code == 200, "junk and replays spent none of the victim's 3 slots"
    retry_after(node.token())
    retry_after(node.post(registry.grant(rsa_keys[1]), address=attacker))  # the victim is over its own limit now


def test_behind_a_trusted_proxy_the_rightmost_untrusted_address_counts(registry: Registry) -> None:
    node = make_node(registry, per_address_per_minute=2, trusted_proxies=["10.0.0.0/24"])
    for spoof in ("1.1.1.1", "1.1.1.2"):
        refused(node.post(address="10.0.0.5", forwarded=f"{spoof}, 203.0.113.5, 10.0.0.9"), 400,
                "invalid_request", "MP-011")
    retry_after(node.post(address="10.0.0.5", forwarded="1.1.1.3, 203.0.113.5"))
    refused(node.post(address="10.0.0.5", forwarded="203.0.113.6"), 400, "invalid_request", "MP-011")
    for _ in range(2):  # an untrusted peer's X-Forwarded-For is its own say: the peer counts
        refused(node.post(address="198.51.100.1", forwarded=f"192.0.2.{uuid.uuid4().int % 250}"), 400,
                "invalid_request", "MP-011")
    retry_after(node.post(address="198.51.100.1", forwarded="192.0.2.251"))


def test_limits_off_count_nothing(registry: Registry) -> None:
    node = make_node(registry, enabled=False, per_address_per_minute=1, per_client_per_minute=1)
    assert [node.token().status_code for _ in range(4)] == [200] * 4


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTVAKT_RATELIMIT__PER_CLIENT_PER_MINUTE", "77")
    monkeypatch.setenv("PORTVAKT_RATELIMIT__PER_ADDRESS_PER_MINUTE", "888")
    monkeypatch.setenv("PORTVAKT_RATELIMIT__TRUSTED_PROXIES", '["10.1.0.0/16", "::1"]')
    limits = Settings().ratelimit
    assert (limits.per_client_per_minute, limits.per_address_per_minute) == (77, 888)
    assert limits.trusted_proxies == ["10.1.0.0/16", "::1"]
    assert RateLimitSettings().model_dump() == {"enabled": True, "per_client_per_minute": 1200,
                                                "per_address_per_minute": 6000, "trusted_proxies": [],
                                                "redis_timeout_seconds": 0.1}
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        RateLimitSettings(trusted_proxies=["10.0.0.300"])


class FakeTime:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_gcra_lets_a_burst_through_then_one_per_interval() -> None:
    now = FakeTime()
    gcra = Gcra(now=now)
    limit = [("k", 4, 60.0)]
    assert [gcra.admit(limit) for _ in range(4)] == [0.0] * 4
    assert gcra.admit(limit) == pytest.approx(15.0)
    assert gcra.admit((), limit) == pytest.approx(15.0), "a check alone charges nothing"
    now.t += 14.9
    assert gcra.admit(limit) == pytest.approx(0.1)
    now.t += 0.1
    assert gcra.admit(limit) == 0.0
    assert gcra.admit(limit) == pytest.approx(15.0)
    now.t += 120
    assert [gcra.admit(limit) for _ in range(5)] == [0.0] * 4 + [pytest.approx(15.0)], "idle: a full burst again"


def test_gcra_charge_spends_a_slot_even_when_full_and_refuses_all_or_nothing() -> None:
    now = FakeTime()
    gcra = Gcra(now=now)
    gcra.charge([("c", 2, 60.0)] * 3)
    assert gcra.admit((), [("c", 2, 60.0)]) == pytest.approx(60.0)
    assert gcra.admit([("a", 10, 60.0)], [("c", 2, 60.0)]) > 0
    assert gcra.admit([("a", 1, 60.0)]) == 0.0, "the refused admit above charged 'a' nothing"


def test_gcra_keeps_at_most_max_keys() -> None:
    gcra = Gcra(now=FakeTime(), max_keys=2)
    for key in ("a", "b", "c"):
        gcra.admit([(key, 1, 60.0)])
    assert gcra.admit([("a", 1, 60.0)]) == 0.0, "the least recently used key was forgotten"
    assert gcra.admit([("c", 1, 60.0)]) > 0


def scope(peer: str | None, *forwarded: str) -> dict[str, Any]:
    return {"client": (peer, 1) if peer else None,
            "headers": [(b"x-forwarded-for", value.encode()) for value in forwarded]}


def test_source_address() -> None:
    plain = SourceAddress([])
    assert plain(scope("192.0.2.1", "1.1.1.1")) == "192.0.2.1"
    assert plain(scope(None)) == "unknown"
    assert plain(scope("2001:db8::1")) == plain(scope("2001:db8::ffff:1")) == "2001:db8::/64"
    assert plain(scope("::ffff:192.0.2.7")) == "192.0.2.7"
    proxied = SourceAddress(["10.0.0.1", "2001:db8:9::/48"])
    assert proxied(scope("10.0.0.1", "198.51.100.1, 203.0.113.9")) == "203.0.113.9"
    assert proxied(scope("10.0.0.1", "198.51.100.1", "203.0.113.9, 10.0.0.1")) == "203.0.113.9", "headers in order"
    assert proxied(scope("2001:db8:9::5", "[2001:db8:9::6], 10.0.0.1")) == "2001:db8:9::/64", "all trusted: left-most"
    assert proxied(scope("10.0.0.1")) == "10.0.0.1", "a trusted peer without the header is itself"
    assert proxied(scope("10.0.0.1", "not-an-address")) == "not-an-address"
    assert proxied(scope("10.0.0.2", "198.51.100.1")) == "10.0.0.2"


def claimed_client_of(form: list[tuple[str, str]], max_length: int) -> str | None:
    """What /token charges a request to: the iss of its one assertion, decoded once and not verified."""
    return issuer_of(peek_assertion(form, max_length))


def test_claimed_client_reads_iss_without_verifying(registry: Registry, rsa_keys: list[PrivateKeyHandle]) -> None:
    assert claimed_client_of([("assertion", registry.grant(rsa_keys[1]))], 16384) == registry.client_id
    assert claimed_client_of([("assertion", "a.b")], 16384) is None
    assert claimed_client_of([("assertion", registry.grant())] * 2, 16384) is None
    assert claimed_client_of([("assertion", registry.grant(iss=""))], 16384) is None
    assert claimed_client_of([], 16384) is None


@pytest.mark.timing
def test_the_limiter_costs_little_per_request(registry: Registry) -> None:
    """What one /token request pays for the limits in memory: its source, the address charged, the grant's iss
    peeked, the client checked and, once issued, charged (about 10 µs on the 2-core CI machine, against about 1 ms
    for the token's RS256 signature)."""
    limits = TokenLimits(RateLimitSettings(per_address_per_minute=10**7, per_client_per_minute=10**6))
    form = [("grant_type", JWT_BEARER), ("assertion", registry.grant())]
    addresses = [scope(f"192.0.{i // 250}.{i % 250}") for i in range(1000)]
    counter = iter(range(10**9))

    def one_request() -> None:
        address = limits.source(addresses[next(counter) % 1000])
        assert not limits.address_wait(address)
        client = claimed_client_of(form, 16384)
        assert client is not None and not limits.client_wait(client)
        limits.charge_local(client)

    def limits_only() -> None:
        address = limits.source(addresses[next(counter) % 1000])
        limits.address_wait(address)
        limits.client_wait(registry.client_id)
        limits.charge_local(registry.client_id)

    rounds = 20_000
    per_request = min(timeit.repeat(one_request, number=rounds, repeat=3)) / rounds
    counting = min(timeit.repeat(limits_only, number=rounds, repeat=3)) / rounds
    print(f"rate limits per /token request: {per_request * 1e6:.2f} µs (of which the counting "
          f"{counting * 1e6:.2f} µs, the iss peek the rest)")
    assert per_request < 100e-6
    assert counting < per_request


def test_mp_429_has_its_page_and_its_metric(registry: Registry) -> None:
    node = make_node(registry, per_address_per_minute=1)

    def refusals() -> float:
        text = node.http("192.0.2.77").get("/metrics").text
        found = re.search(r'^portvakt_token_errors_total\{code="MP-429"\} (\S+)$', text, re.M)
        assert found, "every MP code has its series"
        return float(found.group(1))

    before = refusals()
    node.post()
    retry_after(node.post())
    assert refusals() == before + 1
    page = node.http().get("/errors/MP-429")
    assert page.status_code == 200 and "Too many requests" in page.text
