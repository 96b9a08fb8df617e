"""The login throttle shared by two portal nodes through one Redis (docs/security.md, Login brute force): a brute
force spread over the nodes is stopped as if it hit one; with Redis down each node throttles alone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from portvakt.domain.clock import SystemClock
from portvakt.jose import PrivateKeyHandle
from portvakt.settings import Settings
from portvakt.sms import DevOutbox
from portvakt.storage.memory import MemoryStore
from portvakt.wiring import Overrides, assemble
from tests.redis_server import RedisServer, dead_url

from .stack import CHEAP_HASHER, CSRF, ISSUER, PEOPLE, PORTAL_URL, Recorder, portal_config_for, seed


class Nodes:
    """One token service and Altinn side, and two portal nodes in front of it that share `redis_url`."""

    def __init__(self, tmp: Path, key: PrivateKeyHandle, redis_url: str) -> None:
        store = MemoryStore()
        clock = SystemClock()
        seed(store, key, clock.now())
        settings = Settings(issuer=ISSUER, data_dir=tmp, redis_url=redis_url)
        server = assemble(settings, ("token", "altinn"),
                          Overrides(store=store, clock=clock, kek=b"test-kek", hasher=CHEAP_HASHER))
        key_file = tmp / "portal-key.pem"
        key_file.write_bytes(key.to_pem())
        self.recorder = Recorder(httpx.ASGITransport(app=server))
        self.browsers: list[TestClient] = []
        for _ in range(2):
            front = assemble(settings, ("portal",), Overrides(portal_config=portal_config_for(key_file),
                                                              outbox=DevOutbox(), portal_transport=self.recorder,
                                                              clock=clock))
            self.browsers.append(TestClient(front, base_url=PORTAL_URL))

    def login(self, node: int, username: str = "ida@vendor.test", password: str | None = None) -> httpx.Response:
        """Log in through node `node`'s form."""
        browser = self.browsers[node]
        found = CSRF.search(browser.get("/portal/login").text)
        assert found
        data = {"username": username, "password": password or PEOPLE[username][0], "csrf_token": found.group(1)}
        resp: httpx.Response = browser.post("/portal/login", data=data, follow_redirects=False)
        return resp

    def close(self) -> None:
        """Close the browsers."""
        for browser in self.browsers:
            browser.close()


@pytest.fixture
def make_nodes(tmp_path: Path, rsa_keys: list[PrivateKeyHandle]) -> Iterator[Callable[[str], Nodes]]:
    """make_nodes(redis_url) -> two portal nodes on one server; closed afterwards."""
    made: list[Nodes] = []

    def make(url: str) -> Nodes:
        made.append(Nodes(tmp_path, rsa_keys[2], url))
        return made[-1]

    yield make
    for nodes in made:
        nodes.close()


def test_a_brute_force_spread_over_two_portal_nodes_is_stopped(make_nodes: Callable[[str], Nodes],
                                                                redis_server: RedisServer) -> None:
    redis_server.client().flushall()
    nodes = make_nodes(redis_server.url)
    for node in (0, 1, 0, 1, 0):
        assert nodes.login(node, password="guess-guess").status_code == 401
    for node in (0, 1):
        locked = nodes.login(node)
        assert locked.status_code == 429, "the right password too, on either node"
        assert 290 <= int(locked.headers["retry-after"]) <= 300
    assert len(nodes.recorder.api_calls("POST", "/portal/login")) == 5, "locked attempts never reach the API"
    assert nodes.login(1, "multi@vendor.test").status_code == 303, "another username from the address still may"
    assert redis_server.client().dbsize() > 0


def test_with_redis_down_each_portal_node_throttles_alone(make_nodes: Callable[[str], Nodes]) -> None:
    nodes = make_nodes(dead_url())
    for _ in range(5):
        assert nodes.login(0, password="guess-guess").status_code == 401
    assert nodes.login(0).status_code == 429, "node 0's own window holds"
    assert nodes.login(1).status_code == 303, "node 1 counted none of them: the cost of Redis being away"
