"""Agents' clients on the wire (docs/protocol.md §6.4): the facilitator's agent system users, the clients it adds
and removes, and every refusal's status and code."""

from __future__ import annotations

from typing import Any

import pytest

from portvakt.domain.audit import Actor
from portvakt.domain.clientroles import register_client_relationship
from portvakt.domain.delegations import DELEGATIONS_WRITE
from portvakt.domain.models import ClientRole
from tests.altinn.systems import CLIENT_PACKAGE, SYSTEM_ID
from tests.altinn.test_systemusers import put_request, put_system
from tests.api.altinn.conftest import Altinn
from tests.api.altinn.test_systemusers_api import approve, portal
from tests.conftest import CONSUMER, OPERATOR, OTHER, PROVIDER, VENDOR, World

BASE = "/authentication/api/v1/enduser/systemuser"
FIRM = PROVIDER


@pytest.fixture
def agent(altinn: Altinn, world: World) -> str:
    """An agent system user of the firm, approved through the API: its id. The consumer and OTHER have registered
    the firm as their accountant (VENDOR and the operator have not)."""
    put_system(world.store, world.clock.now())
    with world.store.begin() as uow:
        for client in (CONSUMER, OTHER):
            register_client_relationship(uow, client, FIRM, ClientRole.REGNSKAPSFORER, Actor.operator(),
                                         world.clock.now())
    request = put_request(world.store, world.clock.now(), agent=True, party=FIRM)
    assert approve(altinn, request.request_id, party=FIRM, agent=True).status_code == 200
    with world.store.read() as uow:
        (user,) = uow.list_system_users(owner_orgno=FIRM)
    return user.system_user_id


def firm(altinn: Altinn, method: str, path: str, **kwargs: Any) -> Any:
    return portal(altinn, method, f"{BASE}{path}", party=FIRM, **kwargs)


def codes(r: Any) -> tuple[int, list[str]]:
    body = r.json()
    return r.status_code, [e["code"] for e in body["validationErrors"]] if "validationErrors" in body else [
        body["code"]]


def test_the_agents_list(altinn: Altinn, world: World, agent: str) -> None:
    standard = put_request(world.store, world.clock.now(), party=FIRM, request_id="standard", external_ref="own")
    assert approve(altinn, standard.request_id, party=FIRM).status_code == 200
    r = firm(altinn, "GET", f"/agents?party={FIRM}")
    assert r.status_code == 200
    (only,) = r.json()
    assert (only["id"], only["userType"], only["systemInternalId"], only["reporteeOrgNo"]) == (
        agent, "agent", f"internal-{SYSTEM_ID}", FIRM)
    assert only["accessPackages"] == [{"urn": CLIENT_PACKAGE}] and only["rights"] == []
    assert firm(altinn, "GET", f"/agents?party={CONSUMER}").status_code == 403
    assert codes(firm(altinn, "GET", "/agents")) == (400, ["STD.VLD-00000"])


def test_add_list_available_and_remove(altinn: Altinn, world: World, agent: str) -> None:
    r = firm(altinn, "POST", f"/clients?agent={agent}&client={CONSUMER}")
    assert (r.status_code, r.json()) == (200, {"agent": agent, "client": CONSUMER})
    assert firm(altinn, "POST", f"/clients?agent={agent}&client={CONSUMER}").status_code == 200  # idempotent
    listed = firm(altinn, "GET", f"/clients?agent={agent}").json()
    assert listed == {"links": {}, "systemUserInformation": {"systemUserId": agent, "systemUserOwnerOrg": FIRM},
                      "data": [{"clientId": CONSUMER, "clientOrganizationNumber": CONSUMER,
                                "clientOrganizationName": "Consumer"}]}
    offered = firm(altinn, "GET", f"/clients/available?agent={agent}").json()
    assert [c["clientId"] for c in offered["data"]] == [OTHER]  # VENDOR and OPERATOR have no relationship
    r = firm(altinn, "DELETE", f"/clients?agent={agent}&client={CONSUMER}")
    assert (r.status_code, r.json()) == (200, {"agent": agent, "client": CONSUMER})
    assert firm(altinn, "GET", f"/clients?agent={agent}").json()["data"] == []
    with world.store.read() as uow:
        actions = [e.action for e in uow.list_audit(org=CONSUMER, entity_kind="agentclient")]
        persons = {e.actor_person for e in uow.list_audit(org=CONSUMER, entity_kind="agentclient")}
    assert sorted(actions) == ["agentclient.add", "agentclient.remove"] and persons == {"ida@consumer.test"}


@pytest.mark.parametrize(("query", "expected"), [
    ("client=310838128", (400, ["AUTH.VLD-00014"])),
    ("agent=nope&client=310838128", (400, ["AUTH.VLD-00014"])),
    ("agent={agent}", (400, ["AUTH.VLD-00016"])),
    ("agent={agent}&client=123456785", (404, ["AUTH-00079"])),
    ("agent={agent}&client=abc", (404, ["AUTH-00079"])),
    ("agent={agent}&client=" + FIRM, (400, ["AUTH-00028"])),
    ("agent={agent}&client=" + VENDOR, (400, ["AUTH-00080"])),
    ("agent={agent}&client=" + OPERATOR, (400, ["AUTH-00080"])),
])
def test_add_refusals(altinn: Altinn, agent: str, query: str, expected: tuple[int, list[str]]) -> None:
    assert codes(firm(altinn, "POST", "/clients?" + query.format(agent=agent))) == expected


def test_a_standard_system_user_takes_no_clients(altinn: Altinn, world: World, agent: str) -> None:
    standard = put_request(world.store, world.clock.now(), party=FIRM, request_id="standard", external_ref="own")
    assert approve(altinn, standard.request_id, party=FIRM).status_code == 200
    with world.store.read() as uow:
        (user,) = [u for u in uow.list_system_users(owner_orgno=FIRM) if u.system_user_id != agent]
    for method, path in (("POST", f"/clients?agent={user.system_user_id}&client={CONSUMER}"),
                         ("GET", f"/clients?agent={user.system_user_id}"),
                         ("GET", f"/clients/available?agent={user.system_user_id}")):
        assert codes(firm(altinn, method, path)) == (400, ["AUTH.VLD-00015"])


def test_remove_refusals(altinn: Altinn, agent: str) -> None:
    assert codes(firm(altinn, "DELETE", f"/clients?agent={agent}&client={OTHER}")) == (400, ["AUTH-00038"])
    assert codes(firm(altinn, "DELETE", f"/clients?agent={agent}")) == (400, ["AUTH.VLD-00016"])
    assert codes(firm(altinn, "DELETE", f"/clients?client={OTHER}")) == (400, ["AUTH.VLD-00014"])


def test_only_the_portal_acting_for_the_owner(altinn: Altinn, agent: str) -> None:
    path = f"{BASE}/clients?agent={agent}&client={CONSUMER}"
    assert portal(altinn, "POST", path, party=CONSUMER).status_code == 403
    assert portal(altinn, "GET", f"{BASE}/clients?agent={agent}", party=OTHER).status_code == 403
    assert portal(altinn, "POST", path, party=None, person=None).status_code == 403
    assert altinn("POST", path, FIRM, (DELEGATIONS_WRITE,)).status_code == 403
    assert altinn("POST", path, None).status_code == 401
    assert firm(altinn, "GET", f"/clients?agent={agent}").json()["data"] == []
