"""Property tests: any body, query or path sent to /clients and /jwks gets a 2xx or a 4xx problem, never a 5xx."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.v1.test_clients import Api
from tests.conftest import VENDOR, World

SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=30) | st.sampled_from(["brreg:test/open", "altinn_virksys", "web", VENDOR, "\x00"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=10)
FIELDS = st.sampled_from(["client_name", "description", "Description", "client_orgno", "supplier_orgno", "client_uri",
                          "integration_type", "application_type", "token_endpoint_auth_method", "grant_types",
                          "scopes", "scope", "access_token_lifetime", "client_id", "active", "created",
                          "last_updated", "keys", "kty", "n", "e", "kid", "x5c"])
BODIES = st.dictionaries(FIELDS, JSON, max_size=6) | JSON
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _ok_or_problem(r: Any) -> None:
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json"), r.text
        assert r.json()["status"] == r.status_code


@FUZZ
@given(method=st.sampled_from(["POST", "PUT", "PATCH"]), body=BODIES)
def test_client_bodies(api: Api, world: World, method: str, body: Any) -> None:
    path = "/clients" if method == "POST" else f"/clients/{world.client_id}"
    _ok_or_problem(api(method, path, VENDOR, content=json.dumps(body), headers={"content-type": "application/json"}))


@FUZZ
@given(method=st.sampled_from(["POST", "PUT"]), body=BODIES,
       ctype=st.sampled_from(["application/json", "application/x-pem-file", "application/jwk-set+json"]))
def test_jwks_bodies(api: Api, world: World, method: str, body: Any, ctype: str) -> None:
    content = json.dumps(body) if ctype != "application/x-pem-file" or not isinstance(body, str) else body
    r = api(method, f"/clients/{world.client_id}/jwks", VENDOR, content=content.encode("utf-8", "surrogatepass"),
            headers={"content-type": ctype})
    _ok_or_problem(r)


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["limit", "after", "client_orgno", "integration_type", "inactive"]),
                              st.text(max_size=40), max_size=5),
       client_id=st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=120))
def test_queries_and_paths(api: Api, world: World, params: dict[str, str], client_id: str) -> None:
    """(A path with a newline never reaches /api/v1: the outer router answers its own 404.)"""
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    _ok_or_problem(api("GET", f"/clients?{query}", VENDOR))
    for sub in ("", "/jwks"):
        _ok_or_problem(api("GET", f"/clients/{quote(client_id, safe='')}{sub}", VENDOR))
