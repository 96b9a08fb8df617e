"""Decision F15: the test kit's server builds /api/v1 and the Altinn side on their first request, not at start; the
first request gets the real app, and the metrics name its routes by template as if it had been built at start."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from portvakt.api.deferred import Deferred
from portvakt.testing import Maskinporten

FRESH = """
import sys, httpx
from portvakt.testing import Maskinporten
with Maskinporten() as mp:
    before = sorted(m for m in ("portvakt.api.v1.app", "portvakt.api.altinn.app") if m in sys.modules)
    v1 = httpx.get(mp.url + "api/v1/clients").status_code
    altinn = httpx.get(mp.url + "authentication/api/v1/systemregister").status_code
    after = sorted(m for m in ("portvakt.api.v1.app", "portvakt.api.altinn.app") if m in sys.modules)
print(before, v1, altinn, after)
"""


def test_a_fresh_server_builds_its_apis_on_their_first_request() -> None:
    out = subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split("\n")[0] == "[] 401 401 ['portvakt.api.altinn.app', 'portvakt.api.v1.app']", out


def sample(text: str, name: str, **labels: str) -> float:
    """One sample of a /metrics page (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


def test_requests_to_a_deferred_app_are_named_by_their_route_template() -> None:
    with Maskinporten() as mp, httpx.Client(base_url=mp.url) as http:
        assert http.get("/api/v1/clients/not-a-client").status_code == 401
        assert http.get("/accessmanagement/api/v1/maskinporten/delegations/9").status_code in (401, 404, 405)
        page = http.get("/metrics").text
    count = "portvakt_request_duration_seconds_count"
    assert sample(page, count, endpoint="/api/v1/clients/{client_id}", method="GET") >= 1
    assert not any(s.labels.get("endpoint", "").endswith("not-a-client")
                   for f in text_string_to_metric_families(page) for s in f.samples)


def test_parallel_first_requests_build_the_app_once_and_tell_once() -> None:
    builds: list[float] = []
    told: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        return None

    def build() -> Any:
        builds.append(time.perf_counter())
        time.sleep(0.05)
        return inner

    deferred = Deferred(build)
    deferred.then(lambda: told.append("first"))
    assert deferred.router is None
    threads = [threading.Thread(target=deferred.app) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and told == ["first"]
    deferred.then(lambda: told.append("late"))
    assert told == ["first", "late"], "a callback given after the build runs at once"
    assert deferred.app() is inner
