"""System-user requests on the wire (docs/protocol.md §6.2): create (standard and agent) with every refusal in the
order of the spec, the idempotent re-POST, reads by id, by key and by system (paged), and delete."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from portvakt.api.altinn.app import create_altinn_app
from portvakt.api.bearer import TokenGate
from portvakt.domain.models import SystemUser, SystemUserType
from portvakt.domain.systemregister import REQUEST_READ, REQUEST_WRITE, SYSTEMREGISTER_WRITE
from portvakt.oauth.bearer import local_validator
from tests.api.altinn.conftest import Altinn
from tests.api.altinn.test_systemregister_api import ANY, CLIENT_PACKAGE, OWN_PACKAGE, READ, body, new_client
from tests.conftest import CONSUMER, ISSUER, OTHER, PROVIDER, VENDOR, World

BASE = "/authentication/api/v1/systemuser/request"
REGISTER = "/authentication/api/v1/systemregister/vendor"
RW = (REQUEST_WRITE, REQUEST_READ)
SYSTEM_ID = f"{VENDOR}_regnskap"
AGENT_SYSTEM = f"{VENDOR}_byra"
SIGNING = "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"
UNREGISTERED = "920000002"


@pytest.fixture
def systems(altinn: Altinn, world: World) -> None:
    """The vendor's visible system (two rights, an own package) and its invisible one for agents."""
    r = altinn("POST", REGISTER, VENDOR, (SYSTEMREGISTER_WRITE,), json=body(world))
    assert r.status_code == 200, r.text
    agent = body(world, id=AGENT_SYSTEM, isVisible=False, clientId=[new_client(world)], allowedRedirectUrls=[],
                 accessPackages=[{"urn": OWN_PACKAGE}, {"urn": CLIENT_PACKAGE}, {"urn": SIGNING}])
    r = altinn("POST", REGISTER, VENDOR, (SYSTEMREGISTER_WRITE,), json=agent)
    assert r.status_code == 200, r.text


def ask(altinn: Altinn, path: str = "/vendor", orgno: str = VENDOR, **over: Any) -> Any:
    """POST a request (standard unless the path says agent) for the consumer."""
    standard = {"systemId": SYSTEM_ID, "partyOrgNo": CONSUMER, "rights": [READ]}
    agent = {"systemId": AGENT_SYSTEM, "partyOrgNo": CONSUMER, "accessPackages": [{"urn": CLIENT_PACKAGE}]}
    sent = {**(agent if path.endswith("agent") else standard), **over}
    return altinn("POST", BASE + path, orgno, RW, json={k: v for k, v in sent.items() if v is not ...})


def problem(r: Any, status: int) -> str:
    """The code of an Altinn problem."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return str(r.json()["code"])


def test_create_answers_201_with_location_and_the_request(altinn: Altinn, world: World, systems: None) -> None:
    r = ask(altinn, redirectUrl="https://vendor.test/done?state=1", externalRef=" ref-1 ")
    assert r.status_code == 201, r.text
    got = r.json()
    rid = got.pop("id")
    assert uuid.UUID(rid)
    assert r.headers["location"] == f"http://portvakt.test{BASE}/vendor/{rid}"
    assert datetime.fromisoformat(got.pop("created")) == world.clock.now()
    assert got == {"integrationTitle": "Regnskap", "externalRef": "ref-1", "systemId": SYSTEM_ID,
                   "partyOrgNo": CONSUMER, "rights": [READ], "accessPackages": [], "status": "New",
                   "redirectUrl": "https://vendor.test/done?state=1",
                   "confirmUrl": f"http://portvakt.test/portal/systemuser/request?id={rid}",
                   "escalated": False, "timedOut": False}


def test_nulls_are_left_out_and_the_external_ref_defaults_to_the_party(altinn: Altinn, systems: None) -> None:
    got = ask(altinn, integrationTitle="Mitt regnskap", rights=None, accessPackages=[{"urn": OWN_PACKAGE}]).json()
    assert "redirectUrl" not in got and got["externalRef"] == CONSUMER
    assert got["integrationTitle"] == "Mitt regnskap" and got["rights"] == [] and got["accessPackages"] == [
        {"urn": OWN_PACKAGE}]


def test_keys_bind_without_regard_to_case(altinn: Altinn, systems: None) -> None:
    r = altinn("POST", BASE + "/vendor", VENDOR, RW, json={
        "SystemId": SYSTEM_ID, "partyorgno": CONSUMER, "Rights": [{"Action": "read", "Resource": [
            {"ID": "urn:altinn:resource", "VALUE": "ske-krav-og-betalinger"}]}], "EXTERNALREF": "x"})
    assert r.status_code == 201, r.text
    assert r.json()["rights"] == [READ] and r.json()["externalRef"] == "x"


def test_a_re_post_answers_the_existing_request_with_200(altinn: Altinn, systems: None) -> None:
    first = ask(altinn)
    again = ask(altinn, rights=[ANY], integrationTitle="Another title")
    assert again.status_code == 200 and "location" not in again.headers
    assert again.json() == first.json()
    agent = ask(altinn, "/vendor/agent", systemId=SYSTEM_ID, accessPackages=[{"urn": OWN_PACKAGE}])
    assert problem(agent, 400) == "AUTH-00065"  # another type has its own key: not the standard request


def test_the_agent_request_has_no_rights_and_its_own_confirm_page(altinn: Altinn, systems: None) -> None:
    r = ask(altinn, "/vendor/agent", rights=[READ])
    assert r.status_code == 201, r.text
    got = r.json()
    assert "rights" not in got and got["accessPackages"] == [{"urn": CLIENT_PACKAGE}]
    assert got["confirmUrl"] == f"http://portvakt.test/portal/systemuser/agentrequest?id={got['id']}"
    assert r.headers["location"].endswith(f"{BASE}/vendor/agent/{got['id']}")


def put_system_user(world: World, external_ref: str, vendor: str = VENDOR, system_id: str = SYSTEM_ID) -> None:
    """An active system user of the consumer, written straight into the store."""
    at = world.clock.now()
    with world.store.begin() as uow:
        uow.put_system_user(SystemUser(str(uuid.uuid4()), SystemUserType.STANDARD, system_id, vendor, CONSUMER,
                                       external_ref, "t", at, at))


def test_an_active_system_user_with_the_key_is_auth_00004(altinn: Altinn, world: World, systems: None) -> None:
    put_system_user(world, CONSUMER)
    assert problem(ask(altinn), 400) == "AUTH-00004"
    assert ask(altinn, externalRef="other").status_code == 201


@pytest.mark.parametrize(("path", "over", "status", "code"), [
    ("/vendor", {"systemId": f"{VENDOR}_nope"}, 404, "AUTH-00011"),
    ("/vendor", {"systemId": "not a system"}, 404, "AUTH-00011"),
    ("/vendor", {"partyOrgNo": UNREGISTERED}, 400, "AUTH-00000"),
    ("/vendor", {"partyOrgNo": "123"}, 400, "AUTH-00000"),
    ("/vendor", {"redirectUrl": "https://vendor.test/elsewhere"}, 400, "AUTH-00021"),
    ("/vendor", {"redirectUrl": "https://evil.test/done"}, 400, "AUTH-00021"),
    ("/vendor", {"redirectUrl": "https://vendor.test:8443/done"}, 400, "AUTH-00021"),
    ("/vendor", {"redirectUrl": "http://vendor.test/done"}, 400, "AUTH-00021"),
    ("/vendor", {"rights": [{"resource": [{"id": "urn:altinn:resource", "value": "nope"}]}]}, 400, "AUTH-00001"),
    ("/vendor", {"rights": [{**READ, "action": "write"}]}, 400, "AUTH-00001"),
    ("/vendor", {"rights": ...}, 400, "AUTH-00001"),
    ("/vendor", {"rights": [], "accessPackages": []}, 400, "AUTH-00059"),
    ("/vendor", {"accessPackages": [{"urn": SIGNING}]}, 400, "AUTH-00063"),
    ("/vendor", {"systemId": AGENT_SYSTEM, "rights": None, "accessPackages": [{"urn": CLIENT_PACKAGE}]}, 400,
     "AUTH-00064"),
    ("/vendor", {"systemId": AGENT_SYSTEM, "rights": None, "redirectUrl": "https://vendor.test/done"}, 400,
     "AUTH-00026"),
    ("/vendor/agent", {"accessPackages": ...}, 400, "AUTH-00058"),
    ("/vendor/agent", {"accessPackages": []}, 400, "AUTH-00058"),
    ("/vendor/agent", {"accessPackages": [{"urn": "urn:altinn:accesspackage:ansvarlig-revisor"}]}, 400, "AUTH-00063"),
    ("/vendor/agent", {"accessPackages": [{"urn": OWN_PACKAGE}]}, 400, "AUTH-00065"),
])
def test_each_refusal_has_its_status_and_code(altinn: Altinn, systems: None, path: str, over: dict[str, Any],
                                              status: int, code: str) -> None:
    assert problem(ask(altinn, path, **over), status) == code


def test_the_query_of_a_redirect_url_is_ignored(altinn: Altinn, systems: None) -> None:
    assert ask(altinn, redirectUrl="https://vendor.test/done?x=1&y=2").status_code == 201
    assert ask(altinn, redirectUrl="https://VENDOR.test:443/done", externalRef="2").status_code == 201


def test_another_vendors_system_is_auth_00011(altinn: Altinn, systems: None) -> None:
    assert problem(ask(altinn, orgno=OTHER), 404) == "AUTH-00011"
    assert problem(ask(altinn, "/vendor/agent", orgno=OTHER), 404) == "AUTH-00011"


def test_the_scopes_are_separate(altinn: Altinn, systems: None) -> None:
    rid = ask(altinn).json()["id"]
    assert altinn("GET", f"{BASE}/vendor/{rid}", VENDOR, (REQUEST_WRITE,)).status_code == 403
    assert altinn("POST", f"{BASE}/vendor", VENDOR, (REQUEST_READ,), json={}).status_code == 403
    assert altinn("DELETE", f"{BASE}/vendor/{rid}", VENDOR, (REQUEST_READ,)).status_code == 403
    assert altinn("GET", f"{BASE}/vendor/{rid}", None).status_code == 401


def test_reads_by_id_are_the_vendors_own_and_of_their_type(altinn: Altinn, systems: None) -> None:
    standard = ask(altinn).json()
    agent = ask(altinn, "/vendor/agent").json()
    assert altinn("GET", f"{BASE}/vendor/{standard['id']}", VENDOR, RW).json() == standard
    assert altinn("GET", f"{BASE}/vendor/agent/{agent['id']}", VENDOR, RW).json() == agent
    assert problem(altinn("GET", f"{BASE}/vendor/agent/{standard['id']}", VENDOR, RW), 400) == "AUTH-00025"
    assert problem(altinn("GET", f"{BASE}/vendor/{agent['id']}", VENDOR, RW), 404) == "AUTH-00010"
    assert problem(altinn("GET", f"{BASE}/vendor/{standard['id']}", OTHER, RW), 404) == "AUTH-00010"
    assert problem(altinn("GET", f"{BASE}/vendor/{uuid.uuid4()}", VENDOR, RW), 404) == "AUTH-00010"


def test_reads_by_external_ref(altinn: Altinn, systems: None) -> None:
    standard = ask(altinn, externalRef="ref-7").json()
    agent = ask(altinn, "/vendor/agent").json()
    got = altinn("GET", f"{BASE}/vendor/byexternalref/{SYSTEM_ID}/{CONSUMER}/ref-7", VENDOR, RW)
    assert got.status_code == 200 and got.json() == standard
    got = altinn("GET", f"{BASE}/vendor/agent/byexternalref/{AGENT_SYSTEM}/{CONSUMER}/{CONSUMER}", VENDOR, RW)
    assert got.json() == agent
    missing = altinn("GET", f"{BASE}/vendor/byexternalref/{SYSTEM_ID}/{CONSUMER}/ref-8", VENDOR, RW)
    assert problem(missing, 404) == "AUTH-00010"
    foreign = altinn("GET", f"{BASE}/vendor/byexternalref/{SYSTEM_ID}/{CONSUMER}/ref-7", OTHER, RW)
    assert problem(foreign, 404) == "AUTH-00011"


def test_a_system_lists_its_requests_fifty_a_page(altinn: Altinn, world: World, systems: None) -> None:
    made = []
    for n in range(53):
        world.clock.advance(1)
        made.append(ask(altinn, externalRef=f"ref-{n:02d}").json()["id"])
    ask(altinn, "/vendor/agent")
    first = altinn("GET", f"{BASE}/vendor/bysystem/{SYSTEM_ID}", VENDOR, RW)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [r["id"] for r in page["data"]] == made[:50]
    following = page["links"]["next"]
    token = following.split("?token=", 1)[1]
    assert following == f"http://portvakt.test{BASE}/vendor/bysystem/{SYSTEM_ID}?token={token}"
    assert json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) == made[49]
    second = altinn("GET", following.removeprefix("http://portvakt.test"), VENDOR, RW).json()
    assert [r["id"] for r in second["data"]] == made[50:] and second["links"] == {}
    agents = altinn("GET", f"{BASE}/vendor/agent/bysystem/{AGENT_SYSTEM}", VENDOR, RW).json()
    assert len(agents["data"]) == 1 and "rights" not in agents["data"][0] and agents["links"] == {}
    assert problem(altinn("GET", f"{BASE}/vendor/bysystem/{SYSTEM_ID}", OTHER, RW), 404) == "AUTH-00011"


@pytest.mark.parametrize("token", ["!!!", "bm90IGpzb24", base64.urlsafe_b64encode(b'"nope"').decode(),
                                   base64.urlsafe_b64encode(b"42").decode()])
def test_a_bad_continuation_token_is_400(altinn: Altinn, systems: None, token: str) -> None:
    r = altinn("GET", f"{BASE}/vendor/bysystem/{SYSTEM_ID}", VENDOR, RW, params={"token": token})
    assert r.status_code == 400 and r.json()["validationErrors"][0]["code"] == "AUTH.VLD-00094"


def test_delete_is_202_and_only_the_vendors_own(altinn: Altinn, world: World, systems: None) -> None:
    rid = ask(altinn).json()["id"]
    assert problem(altinn("DELETE", f"{BASE}/vendor/{rid}", OTHER, RW), 404) == "AUTH-00010"
    r = altinn("DELETE", f"{BASE}/vendor/{rid}", VENDOR, RW)
    assert r.status_code == 202 and r.content == b""
    assert problem(altinn("GET", f"{BASE}/vendor/{rid}", VENDOR, RW), 404) == "AUTH-00010"
    assert problem(altinn("DELETE", f"{BASE}/vendor/{rid}", VENDOR, RW), 404) == "AUTH-00010"
    again = ask(altinn)
    assert again.status_code == 201 and again.json()["id"] != rid
    agent = ask(altinn, "/vendor/agent").json()["id"]
    assert altinn("DELETE", f"{BASE}/vendor/{agent}", VENDOR, RW).status_code == 202
    with world.store.read() as uow:
        actions = [e.action for e in uow.list_audit(org=VENDOR, entity_key=rid)]
    assert actions == ["systemuserrequest.delete", "systemuserrequest.create"]


def test_a_request_times_out_after_180_days(altinn: Altinn, world: World, systems: None) -> None:
    rid = ask(altinn).json()["id"]
    world.clock.advance(timedelta(days=180).total_seconds())
    assert altinn("GET", f"{BASE}/vendor/{rid}", VENDOR, RW).json()["timedOut"] is False
    world.clock.advance(1)
    got = altinn("GET", f"{BASE}/vendor/{rid}", VENDOR, RW).json()
    assert got["timedOut"] is True and got["status"] == "New"


def test_the_portal_and_public_urls_are_configurable(world: World, systems: None,
                                                     token_for: Callable[..., str]) -> None:
    gate = TokenGate(local_validator(world.runtime.keyring, ISSUER, world.clock), frozenset())
    app = create_altinn_app(world.store, world.clock, gate, public_url="https://altinn.example",
                            portal_url="https://portal.example/app")
    with TestClient(app) as client:
        r = client.post(BASE + "/vendor", json={"systemId": SYSTEM_ID, "partyOrgNo": PROVIDER, "rights": [READ]},
                        headers={"authorization": f"Bearer {token_for(VENDOR, *RW)}"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert r.json()["confirmUrl"] == f"https://portal.example/app/systemuser/request?id={rid}"
    assert r.headers["location"] == f"https://altinn.example/authentication/api/v1/systemuser/request/vendor/{rid}"
