"""HttpDelegationLookup against httpx.MockTransport: caching, TTLs, fail-closed and no leaked token (docs/protocol.md
§4.2)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from portvakt.altinn import HttpDelegationLookup
from portvakt.altinn.http import MAX_ANSWER_BYTES
from portvakt.oauth.delegation import DelegationUnavailable
from tests.altinn.conftest import DELEGABLE
from tests.conftest import CONSUMER, VENDOR

BASE = "https://altinn.example/"
SECRET = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.c2ln"
Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def entry(scope: str = DELEGABLE, consumer: str = CONSUMER, supplier: str = VENDOR) -> dict[str, Any]:
    """One lookup entry in the shape of docs/protocol.md §4.2."""
    return {"consumer_org": consumer, "supplier_org": supplier, "delegation_scheme_Id": "s-1",
            "scopes": [scope], "created": "2024-01-15T12:00:00Z", "resourceid": "s-1"}


class Altinn:
    """A scripted Altinn side that counts calls and records requests."""

    def __init__(self, answer: Any = None, status: int = 200) -> None:
        self.answer: Any = [entry()] if answer is None else answer
        self.status = status
        self.requests: list[httpx.Request] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
        if isinstance(self.answer, bytes):
            return httpx.Response(self.status, content=self.answer)
        return httpx.Response(self.status, json=self.answer)


def lookup(handler: Handler, clock: FakeClock | None = None, **kw: Any) -> HttpDelegationLookup:
    return HttpDelegationLookup(BASE, lambda: SECRET, http=httpx.Client(transport=httpx.MockTransport(handler)),
                                clock=clock or FakeClock(), **kw)


def test_asks_the_lookup_endpoint_with_the_bearer_token() -> None:
    altinn = Altinn()
    assert lookup(altinn).has_delegation(CONSUMER, VENDOR, DELEGABLE)
    request = altinn.requests[0]
    assert request.method == "GET" and request.url.path == "/accessmanagement/api/v1/maskinporten/delegations"
    assert dict(request.url.params) == {"supplierorg": VENDOR, "consumerorg": CONSUMER, "scope": DELEGABLE}
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert request.extensions["timeout"]["read"] == 2.0


@pytest.mark.parametrize("answer", [[], [entry("brreg:other")], [entry(consumer=VENDOR, supplier=CONSUMER)]])
def test_no_matching_entry_is_not_delegated(answer: list[Any]) -> None:
    assert not lookup(Altinn(answer)).has_delegation(CONSUMER, VENDOR, DELEGABLE)


def test_positive_answer_is_cached_until_positive_ttl() -> None:
    """A revocation takes effect within positive_ttl (default 30 s)."""
    altinn, clock = Altinn(), FakeClock()
    lk = lookup(altinn, clock)
    for _ in range(5):
        assert lk.has_delegation(CONSUMER, VENDOR, DELEGABLE)
    assert len(altinn.requests) == 1
    altinn.answer = []  # revoked on the Altinn side
    clock.t += 29.9
    assert lk.has_delegation(CONSUMER, VENDOR, DELEGABLE)
    clock.t += 0.2
    assert not lk.has_delegation(CONSUMER, VENDOR, DELEGABLE)
    assert len(altinn.requests) == 2


def test_negative_answer_is_cached_only_briefly() -> None:
    altinn, clock = Altinn([]), FakeClock()
    lk = lookup(altinn, clock)
    assert not lk.has_delegation(CONSUMER, VENDOR, DELEGABLE)
    assert not lk.has_delegation(CONSUMER, VENDOR, DELEGABLE)
    assert len(altinn.requests) == 1
    altinn.answer = [entry()]  # delegated just now
    clock.t += 3.0
    assert lk.has_delegation(CONSUMER, VENDOR, DELEGABLE)
    assert len(altinn.requests) == 2


def test_each_triple_is_cached_separately() -> None:
    altinn = Altinn()
    lk = lookup(altinn)
    lk.has_delegation(CONSUMER, VENDOR, DELEGABLE)
    lk.has_delegation(CONSUMER, VENDOR, "brreg:other")
    lk.has_delegation(VENDOR, CONSUMER, DELEGABLE)
    assert len(altinn.requests) == 3


def test_zero_ttls_disable_the_cache() -> None:
    altinn = Altinn()
    lk = lookup(altinn, positive_ttl=0, negative_ttl=0)
    lk.has_delegation(CONSUMER, VENDOR, DELEGABLE)
    lk.has_delegation(CONSUMER, VENDOR, DELEGABLE)
    assert len(altinn.requests) == 2


def test_cache_size_is_bounded() -> None:
    altinn = Altinn([])
    lk = lookup(altinn, max_entries=2)
    for scope in ("a:1", "a:2", "a:3", "a:1"):
        lk.has_delegation(CONSUMER, VENDOR, scope)
    assert len(lk._cache) <= 2


def raising(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


@pytest.mark.parametrize(("handler", "text"), [
    (raising(httpx.ReadTimeout("timed out")), "did not answer within 2.0 s"),
    (raising(httpx.ConnectTimeout("timed out")), "did not answer within"),
    (raising(httpx.ConnectError("connection refused")), "cannot reach"),
    (Altinn(status=500), "HTTP 500"), (Altinn(status=503), "HTTP 503"), (Altinn(status=404), "HTTP 404"),
    (Altinn(status=400), "HTTP 400"), (Altinn(status=302), "HTTP 302"),
    (Altinn(status=401), "delegations.admin"), (Altinn(status=403), "delegations.admin"),
    (Altinn(b"<html>oops</html>"), "JSON array"), (Altinn({"consumer_org": CONSUMER}), "JSON array"),
    (Altinn([{"consumer_org": CONSUMER}]), "JSON array"), (Altinn([entry() | {"scopes": "x"}]), "JSON array"),
    (Altinn(["x"]), "JSON array"), (Altinn(b"[" * 100_000), "JSON array"),
    (Altinn(b" " * MAX_ANSWER_BYTES + b"[]"), f"more than {MAX_ANSWER_BYTES} bytes"),
])
def test_failures_fail_closed_never_cached_never_leak(handler: Handler, text: str,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    """Timeouts, connection errors, 5xx, 401/403 and unreadable answers: DelegationUnavailable, not "no"."""
    lk = lookup(handler)
    for _ in range(2):
        with pytest.raises(DelegationUnavailable) as caught:
            lk.has_delegation(CONSUMER, VENDOR, DELEGABLE)
        assert text in str(caught.value)
        assert SECRET not in str(caught.value) and SECRET not in caplog.text
    if isinstance(handler, Altinn):
        assert len(handler.requests) == 2, "a failure is never cached"


def test_token_source_failure_is_unavailable_without_its_message(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> str:
        raise RuntimeError(f"keyring exploded holding {SECRET}")

    lk = HttpDelegationLookup(BASE, broken, http=httpx.Client(transport=httpx.MockTransport(Altinn())))
    with pytest.raises(DelegationUnavailable) as caught:
        lk.has_delegation(CONSUMER, VENDOR, DELEGABLE)
    assert SECRET not in str(caught.value) and SECRET not in caplog.text


def test_concurrent_callers_all_get_the_answer() -> None:
    altinn = Altinn()
    lk = lookup(altinn)
    scopes = [f"brreg:s{i % 7}" for i in range(400)]
    altinn.answer = [entry(s) for s in set(scopes)]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda s: lk.has_delegation(CONSUMER, VENDOR, s), scopes))
    assert all(answers) and 7 <= len(altinn.requests) <= 400


@pytest.mark.parametrize("kw", [{"timeout": 0}, {"positive_ttl": -1}, {"negative_ttl": -1}, {"max_entries": 0}])
def test_bad_settings_are_refused(kw: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        HttpDelegationLookup(BASE, lambda: SECRET, **kw)


def test_base_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        HttpDelegationLookup("altinn.example", lambda: SECRET)
    lk = HttpDelegationLookup("http://altinn.example/base/", lambda: SECRET)
    assert lk.url == "http://altinn.example/base/accessmanagement/api/v1/maskinporten/delegations"
    lk.close()

