"""Failure injection on POST /token (portvakt.testing.failures): the wire form of the real endpoint's refusals
(docs/protocol.md §1.5), delays, dropped connections, and arming that ends with its block."""

from __future__ import annotations

import re
import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from portvakt.client import MaskinportenAuth, TokenError
from portvakt.oauth.mp_codes import MP_CODES
from portvakt.testing import Client, Maskinporten, TokenRefused
from portvakt.wire.protocol import JWT_BEARER

TRACE = re.compile(r" \(trace_id: [0-9a-f]{32}\)$")


@pytest.fixture(scope="module")
def vendor_client(mp: Maskinporten) -> Client:
    """A client with one scope it may use."""
    vendor = mp.org()
    api = mp.scope("kitfail:read")
    mp.grant_access(api, vendor)
    return mp.client(vendor, [api])


def post(mp: Maskinporten, client: Client, timeout: float = 10.0) -> httpx.Response:
    """One POST /token with a fresh grant for kitfail:read."""
    return httpx.post(mp.token_endpoint, timeout=timeout, trust_env=False,
                      data={"grant_type": JWT_BEARER, "assertion": client.signer().grant("kitfail:read")})


def shape(resp: httpx.Response) -> dict[str, Any]:
    """The headers every /token answer has, with the per-answer values replaced by their form."""
    h = resp.headers
    return {"content-type": h["content-type"], "cache-control": h["cache-control"], "pragma": h["pragma"],
            "content-length": int(h["content-length"]) == len(resp.content),
            "x-request-id": bool(re.fullmatch(r"[0-9a-f]{32}", h["x-request-id"]))}


def test_an_outage_answers_503_mp503_in_the_real_wire_form(mp: Maskinporten, vendor_client: Client) -> None:
    real = httpx.post(mp.token_endpoint, data={"grant_type": "password"}, trust_env=False)  # a real refusal
    assert real.status_code == 400
    with mp.failing("outage") as failure:
        resp = post(mp, vendor_client)
    assert failure.hits == 1
    assert resp.status_code == 503
    assert shape(resp) == shape(real)
    assert resp.headers["retry-after"] == "5"
    body = resp.json()
    assert set(body) == {"error", "error_description", "error_uri"}
    assert body["error"] == "temporarily_unavailable"
    assert TRACE.sub("", body["error_description"]) == MP_CODES["MP-503"].text
    assert body["error_uri"] == f"{mp.issuer}errors/MP-503"
    assert httpx.get(body["error_uri"]).status_code == 200


def test_an_mp_code_answers_its_status_error_and_text(mp: Maskinporten, vendor_client: Client) -> None:
    with mp.failing("MP-250", suffix="kitfail:read"):
        resp = post(mp, vendor_client)
    assert resp.status_code == 403
    body = resp.json()
    assert body["error"] == "forbidden"
    assert TRACE.sub("", body["error_description"]) == MP_CODES["MP-250"].text + "kitfail:read"
    assert "retry-after" not in resp.headers
    with mp.failing("MP-429"):
        limited = post(mp, vendor_client)
    assert (limited.status_code, limited.json()["error"], limited.headers["retry-after"]) == (429, "slow_down", "1")
    with mp.failing("MP-290", retry_after=2):
        unavailable = post(mp, vendor_client)
    assert (unavailable.status_code, unavailable.headers["retry-after"]) == (503, "2")


def test_the_token_helper_reads_the_injected_code(mp: Maskinporten, vendor_client: Client) -> None:
    with mp.failing("MP-130"), pytest.raises(TokenRefused) as refused:
        mp.token(vendor_client, "kitfail:read")
    assert (refused.value.status, refused.value.error, refused.value.code) == (400, "invalid_grant", "MP-130")


def test_times_fails_the_next_requests_then_the_real_endpoint_answers(mp: Maskinporten,
                                                                      vendor_client: Client) -> None:
    before = mp.token_requests
    with mp.failing("outage", times=2, retry_after=1) as failure:
        assert [post(mp, vendor_client).status_code for _ in range(3)] == [503, 503, 200]
        assert failure.hits == 2
        assert not failure.active
    assert mp.token_requests - before == 3


def test_the_block_end_disarms_and_other_endpoints_never_fail(mp: Maskinporten, vendor_client: Client) -> None:
    with mp.failing("outage") as failure:
        assert failure.active
        assert httpx.get(mp.jwks_uri).status_code == 200
        assert httpx.get(mp.metadata_url).status_code == 200
    assert not failure.active
    assert post(mp, vendor_client).status_code == 200


def test_arming_a_new_failure_replaces_the_old(mp: Maskinporten, vendor_client: Client) -> None:
    first = mp.failing("outage")
    second = mp.failing("MP-250")
    assert not first.active
    assert post(mp, vendor_client).status_code == 403
    first.disarm()  # no longer armed: disarming it leaves the second in place
    assert second.active
    mp.reset_failures()
    assert not second.active
    assert post(mp, vendor_client).status_code == 200


def test_a_delay_slows_the_real_answer(mp: Maskinporten, vendor_client: Client) -> None:
    with mp.failing(delay=0.4):
        start = time.monotonic()
        resp = post(mp, vendor_client)
        elapsed = time.monotonic() - start
    assert resp.status_code == 200
    assert elapsed >= 0.4


def test_a_delay_longer_than_the_clients_timeout_times_out(mp: Maskinporten, vendor_client: Client) -> None:
    with mp.failing(delay=5, times=1) as failure:
        with pytest.raises(httpx.ReadTimeout):
            post(mp, vendor_client, timeout=0.3)
        assert failure.hits == 1
        assert post(mp, vendor_client).status_code == 200


def test_a_delay_then_a_failure(mp: Maskinporten, vendor_client: Client) -> None:
    with mp.failing("outage", delay=0.2):
        start = time.monotonic()
        assert post(mp, vendor_client).status_code == 503
        assert time.monotonic() - start >= 0.2


def test_a_dropped_connection_gets_no_answer(mp: Maskinporten, vendor_client: Client) -> None:
    with mp.failing("drop", times=1):
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            post(mp, vendor_client)
        assert post(mp, vendor_client).status_code == 200


def test_the_vendor_library_sees_the_outage(mp: Maskinporten, vendor_client: Client) -> None:
    auth = MaskinportenAuth(vendor_client.signer(), "kitfail:read", token_endpoint=mp.token_endpoint)
    with mp.failing("outage"), pytest.raises(TokenError) as refused:
        auth.token()
    assert refused.value.status == 503
    assert refused.value.body["error"] == "temporarily_unavailable"
    assert auth.token()


def test_what_may_fail_is_checked(mp: Maskinporten) -> None:
    with pytest.raises(ValueError, match="unknown failure 'MP-999'"):
        mp.failing("MP-999")
    with pytest.raises(ValueError, match="say what should fail"):
        mp.failing()
    with pytest.raises(ValueError, match="times >= 1"):
        mp.failing("outage", times=0)


def test_stopping_cuts_a_delay_short(vendor_client: Client) -> None:
    with Maskinporten() as server:
        vendor = server.org()
        api = server.scope(f"kitstop{uuid.uuid4().hex[:6]}:read", owner=vendor)
        client = server.client(vendor, [api], key=vendor_client.key)
        server.failing(delay=60)
        errors: list[BaseException] = []

        def call() -> None:
            try:
                httpx.post(server.token_endpoint, timeout=30, trust_env=False,
                           data={"grant_type": JWT_BEARER, "assertion": client.signer().grant(str(api))})
            except httpx.HTTPError as exc:
                errors.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.2)
        start = time.monotonic()
    assert time.monotonic() - start < 5
    caller.join(10)
    assert not caller.is_alive()
