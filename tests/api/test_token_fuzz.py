"""Property tests: malformed forms and JWTs sent to /token never get a 5xx, always an OAuth error body."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import World

SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=20))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
CLAIM_NAMES = st.sampled_from(["iss", "aud", "iat", "exp", "jti", "scope", "resource", "consumer_org", "pid",
                               "iss_onbehalfof", "authorization_details"])
HEADERS = st.fixed_dictionaries({}, optional={"alg": st.sampled_from(["RS256", "none", "HS256", "RS512", 1, None]),
                                              "kid": JSON, "x5c": JSON, "crit": JSON, "typ": JSON})


def seg(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def assert_oauth_error_or_token(resp: Any) -> None:
    assert resp.status_code < 500, resp.text
    body = resp.json()
    assert ("access_token" in body) if resp.status_code == 200 else {"error", "error_description",
                                                                     "error_uri"} <= set(body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=st.lists(st.tuples(st.sampled_from(["grant_type", "assertion", "scope", "client_id", "x"]),
                               st.text(max_size=60)), max_size=5))
def test_arbitrary_forms(world: World, form: list[tuple[str, str]]) -> None:
    resp = world.http.post("/token", content=urlencode(form),
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert_oauth_error_or_token(resp)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300))
def test_arbitrary_bodies(world: World, body: bytes) -> None:
    resp = world.http.post("/token", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert_oauth_error_or_token(resp)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=HEADERS, updates=st.dictionaries(CLAIM_NAMES, JSON, max_size=4), drop=st.sets(CLAIM_NAMES, max_size=3),
       signature=st.text(alphabet="ABCxyz012-_", max_size=50))
def test_mutated_grants(world: World, header: dict[str, Any], updates: dict[str, Any], drop: set[str],
                        signature: str) -> None:
    claims = world.claims()
    claims.update(updates)
    for name in drop:
        claims.pop(name, None)
    assert_oauth_error_or_token(world.post(f"{seg(header)}.{seg(claims)}.{signature}"))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(updates=st.dictionaries(CLAIM_NAMES, JSON, max_size=3))
def test_validly_signed_grants_with_odd_claims(world: World, updates: dict[str, Any]) -> None:
    from portvakt.jose import Signer

    claims = world.claims()
    claims.update(updates)
    assert_oauth_error_or_token(world.post(Signer(world.key).sign(claims)))
