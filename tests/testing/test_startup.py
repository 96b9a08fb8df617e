"""Start-up speed of the test kit's server: a fixture that takes seconds is a fixture nobody uses. Measured alone
(`timing`), after the server's modules and the template are loaded by a first start; bench/fixture_startup.py
measures the rest (a fresh process, the first run ever, through pytest)."""

from __future__ import annotations

import statistics
import time

import httpx
import pytest

from portvakt.testing import Maskinporten

pytestmark = pytest.mark.timing


def test_a_warm_start_takes_well_under_300_ms() -> None:
    Maskinporten().start().stop()
    times = []
    for _ in range(7):
        start = time.perf_counter()
        server = Maskinporten().start()
        times.append(time.perf_counter() - start)
        server.stop(wait=False)
    assert statistics.median(times) < 0.3, times


def test_teardown_without_waiting_returns_at_once() -> None:
    server = Maskinporten().start()
    start = time.perf_counter()
    server.stop(wait=False)
    assert time.perf_counter() - start < 0.05


def test_requests_on_a_kept_alive_connection_are_not_held_by_nagle() -> None:
    """The server's connections have TCP_NODELAY: without it, a response written in two parts waits for the client's
    delayed ACK, 40 ms for every request after the first on a kept-alive connection."""
    with Maskinporten() as server, httpx.Client(base_url=server.url) as http:
        assert http.get("/jwk").status_code == 200
        times = []
        for _ in range(9):
            start = time.perf_counter()
            assert http.get("/jwk").status_code == 200
            times.append(time.perf_counter() - start)
    assert statistics.median(times) < 0.025, times
