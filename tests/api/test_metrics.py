"""GET /metrics (docs/decisions.md S10): the counters and histograms move with what /token does, labels are bounded
(route templates, MP codes), the instrumentation's cost per token is small, and with several workers every scrape
shows the sum of all of them."""

from __future__ import annotations

import time
import timeit
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from portvakt.api import metrics
from portvakt.domain.clock import FixedClock
from portvakt.jose import PrivateKeyHandle
from portvakt.oauth.delegation import DelegationUnavailable
from portvakt.settings import Settings
from portvakt.storage.memory import MemoryStore
from portvakt.wiring import Overrides, assemble
from tests.api.test_serve import Server, grant, post, registry
from tests.conftest import CONSUMER, ISSUER, World, seed

__all__ = ["registry"]


def sample(http: TestClient | httpx.Client, name: str, **labels: str) -> float:
    """The value of one sample of /metrics (0 when absent)."""
    r = http.get("/metrics")
    assert r.status_code == 200
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


class Lookup:
    """A delegation lookup answering what the test says."""

    def __init__(self) -> None:
        self.answer: bool | None = True

    def has_delegation(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        if self.answer is None:
            raise DelegationUnavailable("the Altinn side did not answer")
        return self.answer


@pytest.fixture
def delegating(rsa_keys: list[PrivateKeyHandle]) -> Iterator[tuple[World, Lookup]]:
    """The `world` server, asking a Lookup about delegations."""
    store = MemoryStore()
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock(now)
    client_id = seed(store, rsa_keys[0], now)
    lookup = Lookup()
    app = assemble(Settings(issuer=ISSUER, data_dir="/nonexistent"), ("token", "altinn"),
                   Overrides(store=store, clock=clock, kek=b"test-kek", delegations=lookup))
    with TestClient(app, base_url="http://portvakt.test") as http:
        yield World(store, clock, http, rsa_keys[0], client_id, app.runtime), lookup


def test_metrics_is_prometheus_text(world: World) -> None:
    r = world.http.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    names = {f.name for f in text_string_to_metric_families(r.text)}
    assert {"portvakt_tokens_issued", "portvakt_token_errors", "portvakt_request_duration_seconds",
            "portvakt_registry_cache_hits", "portvakt_registry_cache_misses", "portvakt_registry_staleness_seconds",
            "portvakt_delegation_lookups", "portvakt_replay_store_seconds"} <= names


def test_tokens_errors_and_replay_inserts_are_counted(world: World) -> None:
    issued = sample(world.http, "portvakt_tokens_issued_total", delegated="false")
    wrong_aud = sample(world.http, "portvakt_token_errors_total", code="MP-110")
    replayed = sample(world.http, "portvakt_token_errors_total", code="MP-012")
    inserts = sample(world.http, "portvakt_replay_store_seconds_count")
    g = world.grant()
    assert world.post(g).status_code == 200
    assert world.post(g).status_code == 400
    assert world.post(world.grant(aud="https://elsewhere.test/")).status_code == 400
    assert sample(world.http, "portvakt_tokens_issued_total", delegated="false") == issued + 1
    assert sample(world.http, "portvakt_token_errors_total", code="MP-110") == wrong_aud + 1
    assert sample(world.http, "portvakt_token_errors_total", code="MP-012") == replayed + 1
    assert sample(world.http, "portvakt_replay_store_seconds_count") == inserts + 2


def test_a_form_error_and_a_wrong_method_are_counted_too(world: World) -> None:
    before = sample(world.http, "portvakt_token_errors_total", code="MP-011")
    assert world.http.post("/token", content=b"x", headers={"content-type": "text/plain"}).status_code == 400
    assert world.http.get("/token").status_code == 405
    assert sample(world.http, "portvakt_token_errors_total", code="MP-011") == before + 2


def test_delegated_tokens_and_delegation_answers(delegating: tuple[World, Lookup]) -> None:
    world, lookup = delegating

    def delegated() -> int:
        g = world.grant(scope="brreg:test/delegable", consumer_org=CONSUMER)
        return int(world.post(g).status_code)

    yes = sample(world.http, "portvakt_delegation_lookups_total", result="delegated")
    no = sample(world.http, "portvakt_delegation_lookups_total", result="not_delegated")
    down = sample(world.http, "portvakt_delegation_lookups_total", result="unavailable")
    tokens = sample(world.http, "portvakt_tokens_issued_total", delegated="true")
    assert delegated() == 200
    lookup.answer = False
    assert delegated() == 403
    lookup.answer = None
    assert delegated() == 503
    assert sample(world.http, "portvakt_delegation_lookups_total", result="delegated") == yes + 1
    assert sample(world.http, "portvakt_delegation_lookups_total", result="not_delegated") == no + 1
    assert sample(world.http, "portvakt_delegation_lookups_total", result="unavailable") == down + 1
    assert sample(world.http, "portvakt_tokens_issued_total", delegated="true") == tokens + 1


def test_registry_cache_hits_and_misses(world: World) -> None:
    misses = sample(world.http, "portvakt_registry_cache_misses_total", kind="client")
    hits = sample(world.http, "portvakt_registry_cache_hits_total", kind="client")
    assert world.post(world.grant()).status_code == 200  # a new server: the client is read from the store
    assert world.post(world.grant()).status_code == 200
    assert sample(world.http, "portvakt_registry_cache_misses_total", kind="client") == misses + 1
    assert sample(world.http, "portvakt_registry_cache_hits_total", kind="client") == hits + 1
    assert sample(world.http, "portvakt_registry_cache_hits_total", kind="scope") >= 1


def test_staleness_gauge_is_the_registry_age(world: World) -> None:
    age = sample(world.http, "portvakt_registry_staleness_seconds")
    assert 0 <= age < 5


def test_request_durations_are_labelled_by_route_template(world: World) -> None:
    template = "/errors/{code}"
    before = sample(world.http, "portvakt_request_duration_seconds_count", endpoint=template, method="GET")
    for code in ("MP-110", "MP-126", "MP-999"):
        world.http.get(f"/errors/{code}")
    world.http.get(f"/no/such/{uuid.uuid4()}")
    world.http.get("/api/v1/clients/some-client-id")
    assert world.post(world.grant()).status_code == 200
    text = world.http.get("/metrics").text
    assert sample(world.http, "portvakt_request_duration_seconds_count", endpoint=template, method="GET") \
        == before + 3
    assert 'endpoint="/token",method="POST"' in text
    assert 'endpoint="unmatched"' in text
    assert 'endpoint="/api/v1/clients/{client_id}"' in text
    assert "MP-126" not in text.split("portvakt_request_duration_seconds", 1)[1]  # no raw path in any label
    assert "some-client-id" not in text and "/no/such" not in text


def test_odd_methods_share_one_label(world: World) -> None:
    world.http.request("PROPFIND", "/jwk")
    assert 'endpoint="/jwk",method="other"' in world.http.get("/metrics").text


@pytest.mark.timing
def test_instrumentation_costs_little_per_token() -> None:
    """What one issued token pays for metrics: the request histogram, three cache lookups, the replay timing and
    the issued counter (about 5-10 µs on the 2-core CI machine, against about 1 ms for the token's RS256 signature)."""

    def one_token() -> None:
        start = time.perf_counter()
        metrics.observe_lookup("client", True)
        metrics.observe_lookup("scope", True)
        metrics.observe_lookup("access", True)
        t = time.perf_counter()
        metrics.REPLAY_SECONDS.observe(time.perf_counter() - t)
        metrics._ISSUED[False].inc()
        metrics.observe_request("/token", "POST", time.perf_counter() - start)

    rounds = 20_000
    per_token = min(timeit.repeat(one_token, number=rounds, repeat=3)) / rounds
    print(f"metrics per token: {per_token * 1e6:.2f} µs")
    assert per_token < 50e-6


@pytest.mark.slow
def test_two_workers_report_one_sum(registry: tuple[Path, str, PrivateKeyHandle]) -> None:
    data, client_id, key = registry
    server = Server(data, "--workers", "2", "--only", "token")
    try:
        issued = 12
        for _ in range(issued):
            assert post(server.url, grant(server.url, client_id, key)).status_code == 200
        with httpx.Client(base_url=server.url, timeout=10) as http:
            seen = set()
            for _ in range(8):  # new connections: the scrapes land on both workers
                with httpx.Client(base_url=server.url, timeout=10) as fresh:
                    seen.add(sample(fresh, "portvakt_tokens_issued_total", delegated="false"))
            assert seen == {issued}
            assert sample(http, "portvakt_request_duration_seconds_count", endpoint="/token", method="POST") == issued
    finally:
        server.stop()
