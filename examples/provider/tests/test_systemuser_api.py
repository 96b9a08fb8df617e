"""The system-user API against real tokens from a local Maskinporten and its real decision point: a system user
that holds the right reads its owner's report; another party, another right, a deleted system user, a token without
a system user and an unreachable decision point are refused for those reasons."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import systemuser_api
from fastapi.testclient import TestClient

from portvakt.client import fetch_token
from portvakt.resource import AltinnAuthorization
from portvakt.resource.testing import ManualClock, pointed_at
from portvakt.testing import Client, Maskinporten, Org, Token

AUTHORIZE = systemuser_api.AUTHORIZE


@dataclass
class World:
    """A vendor's system with a client, two customers with a system user each (one holding the API's right, one
    another right), an organisation that is no customer, and the API provider's client for the decision point."""

    vendor: Org
    vendor_client: Client
    customer: Org
    customer_user: str
    narrow: Org
    narrow_user: str
    stranger: Org
    provider_client: Client


def approved_system_user(maskinporten: Maskinporten, system_id: str, customer: Org, vendor: Org,
                         resource: str) -> str:
    """The vendor asks `customer` for a system user with a right on `resource`, and the customer approves it
    (through the domain's use cases on the test server's store, until the test kit seeds system users)."""
    from portvakt.domain.audit import Actor
    from portvakt.domain.models import SystemRight, SystemUserType
    from portvakt.domain.systemuser_requests import RequestSpec, create_request
    from portvakt.domain.systemusers import approve_request

    actor, now = Actor.operator("example"), maskinporten.runtime.clock.now()
    right = SystemRight(resource=(("urn:altinn:resource", resource),))
    with maskinporten.runtime.store.begin() as uow:
        asked = create_request(uow, RequestSpec(system_id, customer.orgno, rights=(right,)), SystemUserType.STANDARD,
                               vendor.orgno, actor, now)
        user = approve_request(uow, asked.request.request_id, customer.orgno, SystemUserType.STANDARD, actor, now)
    return user.system_user_id


def registered_system(maskinporten: Maskinporten, vendor: Org, client: Client) -> str:
    """The vendor's system in the system register, naming its client and offering two rights."""
    from portvakt.domain.audit import Actor
    from portvakt.domain.models import SystemRight
    from portvakt.domain.systemregister import SystemSpec, Writer, register_system

    rights = tuple(SystemRight(resource=(("urn:altinn:resource", r),)) for r in (systemuser_api.RESOURCE, "other_one"))
    spec = SystemSpec(system_id=f"{vendor.orgno}_reporting", vendor_id=f"0192:{vendor.orgno}",
                      name={"nb": "Rapportering", "en": "Reporting"}, description={"nb": "Et fagsystem"},
                      rights=rights, client_ids=(client.client_id,))
    with maskinporten.runtime.store.begin() as uow:
        system = register_system(uow, spec, Writer(vendor.orgno), Actor.operator("example"),
                                 maskinporten.runtime.clock.now())
    return system.system_id


@pytest.fixture(scope="module")
def world(maskinporten: Maskinporten) -> World:
    api = maskinporten.scope(systemuser_api.SCOPE)
    vendor, customer, narrow, stranger, provider = (maskinporten.org() for _ in range(5))
    maskinporten.grant_access(api, vendor)  # a system user's token is the vendor's: its scopes are checked for it
    maskinporten.grant_access(AUTHORIZE, provider)
    vendor_client = maskinporten.client(vendor, [api])
    system_id = registered_system(maskinporten, vendor, vendor_client)
    return World(vendor, vendor_client,
                 customer, approved_system_user(maskinporten, system_id, customer, vendor, systemuser_api.RESOURCE),
                 narrow, approved_system_user(maskinporten, system_id, narrow, vendor, "other_one"),
                 stranger, maskinporten.client(provider, [AUTHORIZE]))


@pytest.fixture
def clock(maskinporten: Maskinporten) -> Iterator[ManualClock]:
    """The API's validator (built for Maskinporten at import) trusting the local one for the test."""
    with pointed_at(systemuser_api.validator, maskinporten) as moved:
        yield moved


def decision_point(maskinporten: Maskinporten, world: World, base_url: str | None = None) -> AltinnAuthorization:
    """The test server's decision point, asked with the provider's own token."""
    def source() -> str:
        return maskinporten.token(world.provider_client, AUTHORIZE).access_token

    return AltinnAuthorization(base_url or maskinporten.url, source, http=httpx.Client(trust_env=False))


@pytest.fixture
def api(maskinporten: Maskinporten, world: World, clock: ManualClock) -> Iterator[TestClient]:
    pdp = decision_point(maskinporten, world)
    systemuser_api.app.dependency_overrides[systemuser_api.decision_point] = lambda: pdp
    yield TestClient(systemuser_api.app)
    systemuser_api.app.dependency_overrides.clear()
    pdp.close()


def system_user_token(maskinporten: Maskinporten, world: World, owner: Org) -> Token:
    """A real token for the system user `owner` approved: the grant names it in authorization_details."""
    body = fetch_token(world.vendor_client.signer(), systemuser_api.SCOPE, token_endpoint=maskinporten.token_endpoint,
                       systemuser_org=owner.orgno, client=httpx.Client(trust_env=False))
    return Token.from_response(body)


def test_a_system_user_with_the_right_reads_its_owners_report(maskinporten: Maskinporten, world: World,
                                                              api: TestClient) -> None:
    resp = api.get(f"/reports/{world.customer.orgno}", headers=system_user_token(maskinporten, world,
                                                                                 world.customer).headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["system_user_id"], body["vendor"]) == (world.customer_user, world.vendor.orgno)
    assert body["system_id"] == f"{world.vendor.orgno}_reporting"


def test_it_may_not_read_another_partys_report(maskinporten: Maskinporten, world: World, api: TestClient) -> None:
    token = system_user_token(maskinporten, world, world.customer)
    resp = api.get(f"/reports/{world.stranger.orgno}", headers=token.headers)
    assert resp.status_code == 403
    assert resp.json()["detail"] == f"the system user may not read {systemuser_api.RESOURCE} for {world.stranger}"


def test_a_system_user_with_another_right_is_refused(maskinporten: Maskinporten, world: World,
                                                     api: TestClient) -> None:
    token = system_user_token(maskinporten, world, world.narrow)
    assert token.claims["authorization_details"][0]["systemuser_id"] == [world.narrow_user]
    assert api.get(f"/reports/{world.narrow.orgno}", headers=token.headers).status_code == 403


def test_a_token_without_a_system_user_is_refused(maskinporten: Maskinporten, world: World, api: TestClient) -> None:
    token = maskinporten.token(world.vendor_client, systemuser_api.SCOPE)
    resp = api.get(f"/reports/{world.vendor.orgno}", headers=token.headers)
    assert resp.status_code == 403
    assert resp.json()["detail"].startswith("this API answers system users only")


def test_no_token_and_a_bad_orgno_are_refused_before_the_decision_point(maskinporten: Maskinporten, world: World,
                                                                       api: TestClient) -> None:
    resp = api.get(f"/reports/{world.customer.orgno}")
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == 'Bearer realm="reelle"'
    token = system_user_token(maskinporten, world, world.customer)
    assert api.get("/reports/12345", headers=token.headers).status_code == 422


def test_an_unreachable_decision_point_is_503_never_permitted(maskinporten: Maskinporten, world: World,
                                                              clock: ManualClock) -> None:
    down = decision_point(maskinporten, world, "http://127.0.0.1:9/")
    systemuser_api.app.dependency_overrides[systemuser_api.decision_point] = lambda: down
    try:
        token = system_user_token(maskinporten, world, world.customer)
        resp = TestClient(systemuser_api.app).get(f"/reports/{world.customer.orgno}", headers=token.headers)
    finally:
        systemuser_api.app.dependency_overrides.clear()
    assert resp.status_code == 503
    assert resp.headers["retry-after"] == "5"
    assert "not available" in resp.json()["detail"]


def test_after_the_customer_deletes_it_a_token_still_held_is_refused(maskinporten: Maskinporten, world: World,
                                                                     api: TestClient) -> None:
    from portvakt.domain.audit import Actor
    from portvakt.domain.systemusers import delete_system_user

    token = system_user_token(maskinporten, world, world.narrow)
    with maskinporten.runtime.store.begin() as uow:
        assert delete_system_user(uow, world.narrow.orgno, world.narrow_user, Actor.operator("example"),
                                  maskinporten.runtime.clock.now()) is not None
    assert api.get(f"/reports/{world.narrow.orgno}", headers=token.headers).status_code == 403
