"""The owners API against real tokens from a local Maskinporten, and its refusals for the real reasons: no token,
expired, another scope, another audience, another consumer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import owners_api
import pytest
from fastapi.testclient import TestClient

from portvakt.resource.testing import ManualClock, expire, parse_challenge, pointed_at
from portvakt.testing import Client, Maskinporten, Org, Token, TokenRefused


@dataclass
class World:
    """Brreg's API, a reporting entity with its own client, and a vendor acting for a customer by delegation."""

    entity: Org
    entity_client: Client
    customer: Org
    vendor: Org
    vendor_client: Client


@pytest.fixture(scope="module")
def world(maskinporten: Maskinporten) -> World:
    api = maskinporten.scope(owners_api.SCOPE, delegable=True)
    other = maskinporten.scope("brreg:reelle/offentlig")
    entity, customer, vendor = maskinporten.org(), maskinporten.org(), maskinporten.org()
    for org in (entity, customer):
        maskinporten.grant_access(api, org)
    maskinporten.grant_access(other, entity)
    maskinporten.delegate(api, customer, vendor)
    return World(entity, maskinporten.client(entity, [api, other]), customer, vendor,
                 maskinporten.client(vendor, [api]))


@pytest.fixture
def clock(maskinporten: Maskinporten) -> Iterator[ManualClock]:
    """The API's own validator (built for Maskinporten at import) trusting the local one for the test."""
    with pointed_at(owners_api.validator, maskinporten) as moved:
        yield moved


@pytest.fixture
def api(clock: ManualClock) -> TestClient:
    return TestClient(owners_api.app)


def own_token(maskinporten: Maskinporten, world: World, scope: str = owners_api.SCOPE,
              resource: str | None = owners_api.AUDIENCE) -> Token:
    return maskinporten.token(world.entity_client, scope, resource=resource)


def test_the_entity_reads_its_own_owners(maskinporten: Maskinporten, world: World, api: TestClient) -> None:
    resp = api.get(f"/owners/{world.entity.orgno}", headers=own_token(maskinporten, world).headers)
    assert resp.status_code == 200
    assert resp.json()["supplier"] is None


def test_a_vendor_reads_for_the_customer_that_delegated(maskinporten: Maskinporten, world: World,
                                                        api: TestClient) -> None:
    token = maskinporten.token(world.vendor_client, owners_api.SCOPE, consumer_org=world.customer,
                               resource=owners_api.AUDIENCE)
    resp = api.get(f"/owners/{world.customer.orgno}", headers=token.headers)
    assert resp.status_code == 200
    assert resp.json()["supplier"] == world.vendor.orgno


def test_no_token_gets_a_bare_challenge(world: World, api: TestClient) -> None:
    resp = api.get(f"/owners/{world.entity.orgno}")
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == 'Bearer realm="reelle"'


def test_an_expired_token_is_refused(maskinporten: Maskinporten, world: World, api: TestClient,
                                     clock: ManualClock) -> None:
    token = own_token(maskinporten, world)
    expire(clock, token)
    resp = api.get(f"/owners/{world.entity.orgno}", headers=token.headers)
    assert resp.status_code == 401
    challenge = parse_challenge(resp.headers["www-authenticate"])
    assert challenge["error"] == "invalid_token"
    assert challenge["error_description"].startswith("the access token has expired")


def test_another_scope_is_refused_403(maskinporten: Maskinporten, world: World, api: TestClient) -> None:
    token = own_token(maskinporten, world, scope="brreg:reelle/offentlig")
    resp = api.get(f"/owners/{world.entity.orgno}", headers=token.headers)
    assert resp.status_code == 403
    assert parse_challenge(resp.headers["www-authenticate"])["error"] == "insufficient_scope"


def test_a_token_for_another_audience_is_refused(maskinporten: Maskinporten, world: World, api: TestClient) -> None:
    for resource in (None, "https://other.api.example/"):
        token = own_token(maskinporten, world, resource=resource)
        resp = api.get(f"/owners/{world.entity.orgno}", headers=token.headers)
        assert resp.status_code == 401
        assert "another audience" in parse_challenge(resp.headers["www-authenticate"])["error_description"]


def test_another_consumer_is_refused_by_the_apis_own_rule(maskinporten: Maskinporten, world: World,
                                                          api: TestClient) -> None:
    resp = api.get(f"/owners/{world.customer.orgno}", headers=own_token(maskinporten, world).headers)
    assert resp.status_code == 403
    assert resp.json()["detail"].startswith("the token's consumer is another organisation")


def test_after_the_customer_revokes_the_vendor_gets_no_token(maskinporten: Maskinporten, world: World) -> None:
    maskinporten.revoke(owners_api.SCOPE, world.customer, world.vendor)
    with pytest.raises(TokenRefused) as refused:
        maskinporten.token(world.vendor_client, owners_api.SCOPE, consumer_org=world.customer)
    assert refused.value.code == "MP-251"
    maskinporten.delegate(owners_api.SCOPE, world.customer, world.vendor)


def test_a_rotated_signing_key_is_fetched_by_the_apis_cache(maskinporten: Maskinporten, world: World,
                                                            api: TestClient) -> None:
    assert api.get(f"/owners/{world.entity.orgno}", headers=own_token(maskinporten, world).headers).status_code == 200
    kid = maskinporten.rotate_keys()
    token = own_token(maskinporten, world)
    assert token.header["kid"] == kid
    assert api.get(f"/owners/{world.entity.orgno}", headers=token.headers).status_code == 200
