"""The portal's system-user calls on the wire (docs/protocol.md §6.2, §6.3): the confirm read, approve and reject
(standard and agent), and the customer's list, read and delete, with every refusal's status and code."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from portvakt.domain.delegations import DELEGATIONS_WRITE
from portvakt.domain.models import AgentClient, SystemUserType
from portvakt.domain.portal_client import PORTAL_CLIENT_SCOPES
from portvakt.domain.systemregister import SYSTEMUSER_LOOKUP
from tests.altinn.systems import CLIENT_PACKAGE, OWN, SYSTEM_ID
from tests.altinn.test_systemusers import CLIENT_ID, put_request, put_system
from tests.api.altinn.conftest import Altinn
from tests.conftest import CONSUMER, OPERATOR, OTHER, PROVIDER, VENDOR, World

BASE = "/authentication/api/v1/systemuser"
IDA = "ida@consumer.test"


def portal(altinn: Altinn, method: str, path: str, party: str | None = CONSUMER, person: str | None = IDA,
           **kwargs: Any) -> Any:
    """A call with the portal's token, acting for `party` as `person` (None: no acting-for headers)."""
    headers = dict(kwargs.pop("headers", {}))
    if party is not None:
        headers["Portvakt-Acting-For"] = party
    if person is not None:
        headers["Portvakt-Person"] = person
    return altinn(method, path, OPERATOR, PORTAL_CLIENT_SCOPES, client_id="portvakt-portal", headers=headers,
                  **kwargs)


def approve(altinn: Altinn, request_id: str, party: str = CONSUMER, agent: bool = False,
            verb: str = "approve") -> Any:
    middle = "agent/" if agent else ""
    return portal(altinn, "POST", f"{BASE}/request/{middle}{party}/{request_id}/{verb}", party=party)


def code_of(r: Any) -> tuple[int, str]:
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json") and body["traceId"]
    return r.status_code, body["code"]


@pytest.fixture
def system(world: World) -> None:
    put_system(world.store, world.clock.now())


def test_confirm_shows_who_asks_for_what(altinn: Altinn, world: World, system: None) -> None:
    request = put_request(world.store, world.clock.now())
    r = portal(altinn, "GET", f"{BASE}/request/confirm/{request.request_id}", party=None, person=None)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body == {
        "id": request.request_id, "integrationTitle": "Regnskap Pluss", "externalRef": CONSUMER,
        "systemId": SYSTEM_ID, "partyOrgNo": CONSUMER,
        "rights": [{"action": "read", "resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]},
                   {"resource": [{"id": "urn:altinn:resource", "value": "app_ttd_demo"}]}],
        "accessPackages": [{"urn": OWN}], "status": "New", "redirectUrl": "https://vendor.test/back",
        "escalated": False, "created": body["created"], "timedOut": False, "userType": "standard",
        "vendorOrgNo": VENDOR, "vendorName": "Vendor",
        "systemName": {"nb": "Regnskap Pluss", "en": "Accounting Plus"}, "systemDescription": {"nb": "Fører regnskap"}}


def test_confirm_of_an_agent_request_has_no_rights_and_says_timed_out(altinn: Altinn, world: World,
                                                                       system: None) -> None:
    request = put_request(world.store, world.clock.now() - timedelta(days=200), agent=True, party=PROVIDER)
    body = portal(altinn, "GET", f"{BASE}/request/confirm/{request.request_id}").json()
    assert "rights" not in body and body["accessPackages"] == [{"urn": CLIENT_PACKAGE}]
    assert (body["userType"], body["timedOut"], body["partyOrgNo"]) == ("agent", True, PROVIDER)


def test_confirm_refusals(altinn: Altinn, world: World, system: None) -> None:
    gone = put_request(world.store, world.clock.now(), deleted=True)
    for request_id in ("no-such-request", gone.request_id, "bad%20shape"):
        assert code_of(portal(altinn, "GET", f"{BASE}/request/confirm/{request_id}")) == (404, "AUTH-00010")
    path = f"{BASE}/request/confirm/{gone.request_id}"
    assert altinn("GET", path, CONSUMER, PORTAL_CLIENT_SCOPES).status_code == 403  # the scope without the client
    assert altinn("GET", path, None).status_code == 401


def test_approve_answers_true_and_the_confirm_read_shows_it(altinn: Altinn, world: World, system: None) -> None:
    request = put_request(world.store, world.clock.now())
    r = approve(altinn, request.request_id)
    assert (r.status_code, r.json()) == (200, True)
    body = portal(altinn, "GET", f"{BASE}/request/confirm/{request.request_id}").json()
    assert body["status"] == "Accepted" and body["redirectUrl"] == "https://vendor.test/back"
    users = portal(altinn, "GET", f"{BASE}/{CONSUMER}").json()
    assert len(users) == 1 and users[0]["externalRef"] == CONSUMER
    with world.store.read() as uow:
        made = uow.get_system_user(users[0]["id"])
    assert made is not None and made.created_by == IDA and made.request_id == request.request_id
    assert code_of(approve(altinn, request.request_id)) == (409, "AUTH-00013")
    assert code_of(approve(altinn, request.request_id, verb="reject")) == (409, "AUTH-00013")


def test_reject_answers_true(altinn: Altinn, world: World, system: None) -> None:
    request = put_request(world.store, world.clock.now())
    r = approve(altinn, request.request_id, verb="reject")
    assert (r.status_code, r.json()) == (200, True)
    assert portal(altinn, "GET", f"{BASE}/request/confirm/{request.request_id}").json()["status"] == "Rejected"
    assert portal(altinn, "GET", f"{BASE}/{CONSUMER}").json() == []


def test_agent_requests_go_the_agent_path(altinn: Altinn, world: World, system: None) -> None:
    agent = put_request(world.store, world.clock.now(), agent=True, party=PROVIDER)
    standard = put_request(world.store, world.clock.now(), party=PROVIDER, request_id="standard")
    assert code_of(approve(altinn, agent.request_id, party=PROVIDER)) == (400, "AUTH-00025")
    assert code_of(approve(altinn, standard.request_id, party=PROVIDER, agent=True)) == (400, "AUTH-00025")
    assert code_of(approve(altinn, standard.request_id, party=PROVIDER, agent=True, verb="reject")) == (
        400, "AUTH-00025")
    r = approve(altinn, agent.request_id, party=PROVIDER, agent=True)
    assert (r.status_code, r.json()) == (200, True)
    assert code_of(approve(altinn, "x" * 30, party=PROVIDER, agent=True, verb="reject")) == (404, "AUTH-00010")
    users = portal(altinn, "GET", f"{BASE}/{PROVIDER}", party=PROVIDER).json()
    assert [(u["userType"], u["rights"], u["accessPackages"]) for u in users] == [
        ("agent", [], [{"urn": CLIENT_PACKAGE}])]


def test_decisions_need_the_portal_acting_for_the_requests_party(altinn: Altinn, world: World,
                                                                 system: None) -> None:
    request = put_request(world.store, world.clock.now())
    path = f"{BASE}/request/{CONSUMER}/{request.request_id}/approve"
    assert portal(altinn, "POST", path, party=OTHER).status_code == 403
    assert portal(altinn, "POST", path, party=None, person=None).status_code == 403
    assert altinn("POST", path, CONSUMER, (DELEGATIONS_WRITE,)).status_code == 403
    assert altinn("POST", path, None).status_code == 401
    other_path = f"{BASE}/request/{OTHER}/{request.request_id}/approve"
    assert code_of(portal(altinn, "POST", other_path, party=OTHER)) == (403, "AUTH-00041")
    assert code_of(approve(altinn, "no-such-request")) == (404, "AUTH-00010")
    with world.store.read() as uow:
        assert uow.list_system_users() == []


def test_a_deleted_system_refuses_approval(altinn: Altinn, world: World) -> None:
    put_system(world.store, world.clock.now())
    request = put_request(world.store, world.clock.now())
    put_system(world.store, world.clock.now(), deleted=True)
    assert code_of(approve(altinn, request.request_id)) == (404, "AUTH-00011")


def test_the_customers_list_and_read(altinn: Altinn, world: World, system: None) -> None:
    approve(altinn, put_request(world.store, world.clock.now(), external_ref="ref-1").request_id)
    other = put_request(world.store, world.clock.now(), party=OTHER, request_id="other")
    approve(altinn, other.request_id, party=OTHER)
    users = portal(altinn, "GET", f"{BASE}/{CONSUMER}").json()
    assert users == [{
        "id": users[0]["id"], "integrationTitle": "Regnskap Pluss", "systemId": SYSTEM_ID,
        "productName": "Regnskap Pluss", "reporteeOrgNo": CONSUMER, "created": users[0]["created"],
        "isDeleted": False, "supplierName": "Vendor", "supplierOrgno": VENDOR, "externalRef": "ref-1",
        "userType": "standard",
        "rights": [{"action": "read", "resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]},
                   {"resource": [{"id": "urn:altinn:resource", "value": "app_ttd_demo"}]}],
        "accessPackages": [{"urn": OWN}]}]
    one = portal(altinn, "GET", f"{BASE}/{CONSUMER}/{users[0]['id']}")
    assert (one.status_code, one.json()) == (200, users[0])
    theirs = portal(altinn, "GET", f"{BASE}/{OTHER}", party=OTHER).json()[0]["id"]
    assert code_of(portal(altinn, "GET", f"{BASE}/{CONSUMER}/{theirs}")) == (404, "AUTH-00015")
    assert portal(altinn, "GET", f"{BASE}/{OTHER}").status_code == 403
    assert portal(altinn, "GET", f"{BASE}/{OTHER}/{theirs}").status_code == 403
    assert altinn("GET", f"{BASE}/{CONSUMER}", CONSUMER, (DELEGATIONS_WRITE,)).status_code == 403


def test_delete_answers_1_then_0_and_the_lookup_stops(altinn: Altinn, world: World, system: None) -> None:
    approve(altinn, put_request(world.store, world.clock.now()).request_id)
    user_id = portal(altinn, "GET", f"{BASE}/{CONSUMER}").json()[0]["id"]
    lookup = (f"{BASE}/byExternalId?clientId={CLIENT_ID}&systemProviderOrgNo={VENDOR}"
              f"&systemUserOwnerOrgNo={CONSUMER}")
    assert altinn("GET", lookup, OPERATOR, (SYSTEMUSER_LOOKUP,)).status_code == 200
    assert portal(altinn, "DELETE", f"{BASE}/{OTHER}/{user_id}", party=OTHER).json() == 0
    r = portal(altinn, "DELETE", f"{BASE}/{CONSUMER}/{user_id}")
    assert (r.status_code, r.json()) == (202, 1)
    r = portal(altinn, "DELETE", f"{BASE}/{CONSUMER}/{user_id}")
    assert (r.status_code, r.json()) == (404, 0)
    assert altinn("GET", lookup, OPERATOR, (SYSTEMUSER_LOOKUP,)).status_code == 404
    assert portal(altinn, "GET", f"{BASE}/{CONSUMER}").json() == []


def test_an_agent_with_clients_is_not_deleted(altinn: Altinn, world: World, system: None) -> None:
    approve(altinn, put_request(world.store, world.clock.now(), agent=True, party=PROVIDER).request_id,
            party=PROVIDER, agent=True)
    with world.store.read() as uow:
        (agent,) = uow.list_system_users(owner_orgno=PROVIDER)
    assert agent.user_type is SystemUserType.AGENT
    with world.store.begin() as uow:
        uow.put_agent_client(AgentClient(agent.system_user_id, CONSUMER, world.clock.now()))
    r = portal(altinn, "DELETE", f"{BASE}/{PROVIDER}/{agent.system_user_id}", party=PROVIDER)
    assert code_of(r) == (400, "AUTH-00035")
