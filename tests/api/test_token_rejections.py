"""One test on the wire per rejection branch of POST /token (docs/protocol.md §7), with the exact error and MP code."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from datetime import timedelta

import pytest

from portvakt.domain.models import IntegrationType
from tests.conftest import CONSUMER, ISSUER, VENDOR, World

TRACE = re.compile(r" \(trace_id: [0-9a-f]{32}\)$")


def refused(resp: object, status: int, error: str, code: str, text: str | None = None) -> dict[str, str]:
    """Assert the RFC 6749 §5.2 body with Maskinporten's MP code and trace id."""
    r = resp  # httpx.Response
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["cache-control"] == "no-store"  # type: ignore[attr-defined]
    body: dict[str, str] = r.json()  # type: ignore[attr-defined]
    assert body["error"] == error
    assert body["error_uri"] == f"{ISSUER}errors/{code}"
    assert TRACE.search(body["error_description"])
    if text is not None:
        assert body["error_description"].startswith(text), body["error_description"]
    return body


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_unsupported_grant_type(world: World) -> None:
    r = world.http.post("/token", data={"grant_type": "client_credentials", "assertion": world.grant()})
    refused(r, 400, "unsupported_grant_type", "MP-010")


def test_missing_grant_type(world: World) -> None:
    r = world.http.post("/token", data={"assertion": world.grant()})
    refused(r, 400, "invalid_request", "MP-011", "Invalid assertion. Invalid parameter value")


def test_missing_assertion(world: World) -> None:
    refused(world.post(None), 400, "invalid_request", "MP-011")


def test_repeated_parameter(world: World) -> None:
    g = world.grant()
    r = world.http.post("/token", content=f"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
                        f"&assertion={g}&assertion={g}",
                        headers={"content-type": "application/x-www-form-urlencoded"})
    refused(r, 400, "invalid_request", "MP-011")


def test_wrong_content_type(world: World) -> None:
    r = world.http.post("/token", json={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"})
    refused(r, 400, "invalid_request", "MP-011")


@pytest.mark.parametrize("assertion", ["not-a-jwt", "a.b.c", "....", "eyJhbGciOiJSUzI1NiJ9.e30"])
def test_malformed_assertion(world: World, assertion: str) -> None:
    refused(world.post(assertion), 400, "invalid_request", "MP-011")


@pytest.mark.parametrize("alg", ["none", "HS256", "ES256", "PS256", "EdDSA"])
def test_algorithm_not_allowed(world: World, alg: str) -> None:
    header = b64({"alg": alg, "kid": world.key.kid})
    forged = f"{header}.{b64(world.claims())}.{'A' * 43 if alg != 'none' else ''}"
    refused(world.post(forged), 400, "invalid_grant", "MP-125")


def test_x5c_not_an_array(world: World) -> None:
    g = world.grant(header={"x5c": "MIIB"})
    refused(world.post(g), 400, "invalid_grant", "MP-123", "Invalid JWT header x5c")


def test_unknown_client(world: World) -> None:
    refused(world.post(world.grant(iss="no-such-client")), 400, "invalid_grant", "MP-100",
            "Invalid assertion. Client authentication failed. Client not found")


def test_inactive_client(world: World) -> None:
    with world.change() as uow:
        c = uow.get_client(world.client_id)
        uow.put_client(replace(c, active=False))
        uow.record_change("client", world.client_id)
    refused(world.post(world.grant()), 400, "invalid_grant", "MP-100")


def test_wrong_audience(world: World) -> None:
    refused(world.post(world.grant(aud="https://maskinporten.no/")), 400, "invalid_grant", "MP-110",
            "Invalid assertion. Client authentication failed. Invalid JWT claim aud")


def test_audience_without_trailing_slash_and_as_array_are_accepted(world: World) -> None:
    assert world.post(world.grant(aud=ISSUER.rstrip("/"))).status_code == 200
    assert world.post(world.grant(aud=["https://other.example/", ISSUER])).status_code == 200


def test_unknown_kid(world: World) -> None:
    refused(world.post(world.grant(kid="not-registered")), 400, "invalid_grant", "MP-126",
            "Invalid assertion. Client authentication failed. Unknown key identifier (kid) for client.")


def test_kid_required_when_client_has_keys(world: World) -> None:
    from portvakt.jose import Signer

    g = Signer(world.key, kid="x").sign(world.claims())  # replace header without kid
    header = b64({"alg": "RS256"})
    _, payload, sig = g.split(".")
    refused(world.post(f"{header}.{payload}.{sig}"), 400, "invalid_grant", "MP-127")


def test_x5c_on_client_without_keys_is_not_trusted(world: World) -> None:
    with world.change() as uow:
        c = uow.get_client(world.client_id)
        uow.put_client(replace(c, keys=()))
        uow.record_change("client", world.client_id)
    header = b64({"alg": "RS256", "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOC"]})
    _, payload, sig = world.grant().split(".")
    refused(world.post(f"{header}.{payload}.{sig}"), 400, "invalid_grant", "MP-120")


def test_expired_key(world: World) -> None:
    with world.change() as uow:
        c = uow.get_client(world.client_id)
        old = c.keys[0]
        uow.put_client(replace(c, keys=(replace(old, expires=world.clock.now() - timedelta(seconds=1)),)))
        uow.record_change("client", world.client_id)
    refused(world.post(world.grant()), 400, "invalid_grant", "MP-121",
            "Invalid assertion. Client authentication failed. Expired key")


def test_bad_signature(world: World, rsa_keys: list) -> None:  # type: ignore[type-arg]
    g = world.grant(key=rsa_keys[1], kid=world.key.kid)
    refused(world.post(g), 400, "invalid_grant", "MP-124")


def test_tampered_payload(world: World) -> None:
    h, _, s = world.grant().split(".")
    refused(world.post(f"{h}.{b64(world.claims(scope='brreg:test/open'))}.{s}"), 400, "invalid_grant", "MP-124")


def test_expired_grant(world: World) -> None:
    now = int(world.clock.now().timestamp())
    refused(world.post(world.grant(iat=now - 100, exp=now - 1)), 400, "invalid_grant", "MP-130", "JWT is expired")


def test_iat_in_the_future(world: World) -> None:
    now = int(world.clock.now().timestamp())
    refused(world.post(world.grant(iat=now + 11, exp=now + 60)), 400, "invalid_grant", "MP-131",
            "Issue time is after now")
    assert world.post(world.grant(iat=now + 10, exp=now + 60)).status_code == 200


def test_grant_lives_too_long(world: World) -> None:
    now = int(world.clock.now().timestamp())
    refused(world.post(world.grant(iat=now, exp=now + 121)), 400, "invalid_grant", "MP-132")
    assert world.post(world.grant(iat=now, exp=now + 120)).status_code == 200


def test_replay(world: World) -> None:
    g = world.grant()
    assert world.post(g).status_code == 200
    refused(world.post(g), 400, "invalid_grant", "MP-012", "Grant is used before")


def test_replay_of_same_jti_in_a_new_grant(world: World) -> None:
    assert world.post(world.grant(jti="fixed")).status_code == 200
    refused(world.post(world.grant(jti="fixed", iat=int(world.clock.now().timestamp()) - 1)),
            400, "invalid_grant", "MP-012")


def test_replay_without_jti(world: World) -> None:
    g = world.grant(jti=None)
    assert world.post(g).status_code == 200
    refused(world.post(g), 400, "invalid_grant", "MP-012")


def test_refused_request_does_not_use_up_the_grant(world: World) -> None:
    """A grant refused for scope leaves nothing behind: the replay check runs last."""
    jti = "reusable"
    refused(world.post(world.grant(jti=jti, scope="brreg:test/virksys")), 400, "invalid_scope", "MP-200")
    assert world.post(world.grant(jti=jti)).status_code == 200


def test_scope_not_on_client(world: World) -> None:
    refused(world.post(world.grant(scope="brreg:test/read brreg:test/virksys")), 400, "invalid_scope", "MP-200",
            "Token request contains invalid scopes for client, brreg:test/virksys")


def test_unknown_scope(world: World) -> None:
    refused(world.post(world.grant(scope="nope:nothing")), 400, "invalid_scope", "MP-200")


def test_inactive_scope(world: World) -> None:
    with world.change() as uow:
        s = uow.get_scope("brreg:test/read")
        uow.put_scope(replace(s, active=False))
        uow.record_change("scope", s.name)
    refused(world.post(world.grant()), 400, "invalid_scope", "MP-200")


def test_scope_not_allowed_for_integration_type(world: World) -> None:
    with world.change() as uow:
        c = uow.get_client(world.client_id)
        uow.put_client(replace(c, scopes=(*c.scopes, "brreg:test/virksys")))
        uow.record_change("client", world.client_id)
    refused(world.post(world.grant(scope="brreg:test/virksys")), 400, "invalid_scope", "MP-201")


def test_no_access(world: World) -> None:
    with world.change() as uow:
        uow.delete_access("brreg:test/read", VENDOR)
        uow.record_change("access", f"brreg:test/read|{VENDOR}")
    refused(world.post(world.grant()), 403, "forbidden", "MP-250",
            "Consumer has not been granted access to the scope brreg:test/read")


def test_requested_access_is_not_access(world: World) -> None:
    from portvakt.domain import usecases as uc
    from portvakt.domain.models import AccessState
    from tests.conftest import OP

    with world.change() as uow:
        uc.set_access(uow, "brreg:test/read", VENDOR, AccessState.REQUESTED, OP, world.clock.now())
    refused(world.post(world.grant()), 403, "forbidden", "MP-250")


@pytest.mark.parametrize(("claim", "value"), [
    ("iss", None), ("scope", None), ("aud", None), ("exp", None), ("iat", None), ("exp", "soon"),
    ("iat", True), ("scope", ""), ("scope", ["a"]), ("jti", 7), ("consumer_org", "123"),
    ("resource", 5), ("resource", []), ("pid", "1234"), ("aud", []),
])
def test_bad_claims(world: World, claim: str, value: object) -> None:
    claims = world.claims()
    if value is None:
        del claims[claim]
    else:
        claims[claim] = value
    from portvakt.jose import Signer

    refused(world.post(Signer(world.key).sign(claims)), 400, "invalid_request", "MP-011")


def test_virksys_client_without_key(world: World) -> None:
    with world.change() as uow:
        c = uow.get_client(world.client_id)
        uow.put_client(replace(c, integration_type=IntegrationType.ALTINN_VIRKSYS, keys=()))
        uow.record_change("client", world.client_id)
    refused(world.post(world.grant()), 400, "invalid_grant", "MP-128")


def test_consumer_org_is_own_org(world: World) -> None:
    refused(world.post(world.grant(scope="brreg:test/delegable", consumer_org=VENDOR)), 400, "invalid_request",
            "MP-260", "Validation of JWT claim failed: The combination consumer_org in claim and delegation "
            "scope on client is invalid")


def test_consumer_org_on_scope_without_delegation_source(world: World) -> None:
    refused(world.post(world.grant(consumer_org=CONSUMER)), 400, "invalid_scope", "MP-261")


def test_consumer_org_without_delegation(world: World) -> None:
    refused(world.post(world.grant(scope="brreg:test/delegable", consumer_org=CONSUMER)), 403, "forbidden",
            "MP-251", f"Consumer {CONSUMER} has not delegated access to the scope brreg:test/delegable to "
            f"supplier {VENDOR}")


def test_error_uri_explains_the_error(world: World) -> None:
    body = refused(world.post(world.grant(aud="x")), 400, "invalid_grant", "MP-110")
    page = world.http.get(body["error_uri"].removeprefix("http://portvakt.test") + "?lang=en")
    assert page.status_code == 200
    assert "MP-110" in page.text and "issuer identifier" in page.text
    assert "MP-110" in world.http.get(body["error_uri"].removeprefix("http://portvakt.test")).text  # Bokmål first
    assert world.http.get("/errors/MP-999").status_code == 404
