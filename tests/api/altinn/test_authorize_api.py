"""The decision point on the wire (docs/protocol.md §6.6): XACML JSON in (keys in any case, categories as objects or
one-element lists), Permit or NotApplicable out, bounded input, and a 400 for anything malformed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portvakt.domain.audit import Actor
from portvakt.domain.clientroles import register_client_relationship, remove_client_relationship
from portvakt.domain.models import AgentClient, ClientRole, SystemUserType
from portvakt.domain.systemregister import AUTHORIZE, SYSTEMUSER_LOOKUP
from portvakt.domain.systemusers import approve_request, delete_system_user
from tests.altinn.systems import CLIENT_PACKAGE, OWN
from tests.altinn.test_systemusers import put_request, put_system
from tests.api.altinn.conftest import Altinn
from tests.conftest import CONSUMER, OTHER, PROVIDER, World

PATH = "/authorization/api/v1/authorize"
SUBJECT = "urn:altinn:systemuser:uuid"
ACTION = "urn:oasis:names:tc:xacml:1.0:action:action-id"
RESOURCE = "urn:altinn:resource"
PACKAGE = "urn:altinn:accesspackage"
PARTY = "urn:altinn:organization:identifier-no"
OK = {"Value": "urn:oasis:names:tc:xacml:1.0:status:ok"}


def xacml(user: str, *, action: str | None = "read", resource: str | None = "ske-krav-og-betalinger",
          party: str = CONSUMER, package: str | None = None) -> dict[str, Any]:
    """A decision request as the Altinn guide for API providers shows it."""
    res = [{"AttributeId": RESOURCE, "Value": resource}] if resource else []
    if package:
        res.append({"AttributeId": PACKAGE, "Value": package})
    res.append({"AttributeId": PARTY, "Value": party})
    act = [{"AttributeId": ACTION, "Value": action, "DataType": "http://www.w3.org/2001/XMLSchema#string"}] \
        if action else []
    return {"Request": {"ReturnPolicyIdList": True,
                        "AccessSubject": [{"Attribute": [{"AttributeId": SUBJECT, "Value": user}]}],
                        "Action": [{"Attribute": act}], "Resource": [{"Attribute": res}]}}


def ask(altinn: Altinn, body: Any, orgno: str = OTHER, scopes: tuple[str, ...] = (AUTHORIZE,)) -> Any:
    if isinstance(body, dict | list):
        return altinn("POST", PATH, orgno, scopes, json=body)
    return altinn("POST", PATH, orgno, scopes, content=body, headers={"content-type": "application/json"})


def decision(altinn: Altinn, body: Any) -> str:
    r = ask(altinn, body)
    assert r.status_code == 200, r.text
    (result,) = r.json()["Response"]
    assert result["Status"] == {"StatusCode": OK} and r.headers["cache-control"] == "no-store"
    return str(result["Decision"])


def _approve(world: World, *, agent: bool = False, party: str = CONSUMER) -> str:
    request = put_request(world.store, world.clock.now(), agent=agent, party=party)
    kind = SystemUserType.AGENT if agent else SystemUserType.STANDARD
    with world.store.begin() as uow:
        return approve_request(uow, request.request_id, party, kind, Actor(party, "portvakt-portal", "someone"),
                               world.clock.now()).system_user_id


@pytest.fixture
def user(world: World) -> str:
    put_system(world.store, world.clock.now())
    return _approve(world)


def test_the_answer_is_permit_or_not_applicable(altinn: Altinn, user: str) -> None:
    r = ask(altinn, xacml(user))
    assert r.status_code == 200
    assert r.json() == {"Response": [{"Decision": "Permit", "Status": {"StatusCode": OK}}]}
    assert decision(altinn, xacml(user, action="write")) == "NotApplicable"
    assert decision(altinn, xacml(user, resource="app_ttd_demo", action="anything")) == "Permit"
    assert decision(altinn, xacml(user, resource="another")) == "NotApplicable"
    assert decision(altinn, xacml(user, party=OTHER)) == "NotApplicable"
    assert decision(altinn, xacml(user, resource=None, package=OWN)) == "Permit"
    assert decision(altinn, xacml(user, resource=None, package=CLIENT_PACKAGE)) == "NotApplicable"
    assert decision(altinn, xacml("00000000-0000-4000-8000-000000000000")) == "NotApplicable"


def test_keys_in_any_case_and_categories_as_objects(altinn: Altinn, user: str) -> None:
    body = {"request": {"accesssubject": {"attribute": {"attributeid": SUBJECT, "value": user}},
                        "ACTION": {"Attribute": [{"AttributeID": ACTION, "VALUE": "read"}]},
                        "resource": {"attribute": [{"attributeId": RESOURCE.upper(), "value": "app_ttd_demo"},
                                                   {"attributeId": PARTY, "value": CONSUMER},
                                                   {"attributeId": "urn:altinn:org", "value": "ttd"}]}}}
    assert decision(altinn, body) == "Permit"


def test_deleted_user_and_deleted_system_are_not_applicable(altinn: Altinn, world: World, user: str) -> None:
    put_system(world.store, world.clock.now(), deleted=True)
    assert decision(altinn, xacml(user)) == "NotApplicable"
    put_system(world.store, world.clock.now())
    assert decision(altinn, xacml(user)) == "Permit"
    with world.store.begin() as uow:
        delete_system_user(uow, CONSUMER, user, Actor(CONSUMER, "portvakt-portal", "someone"), world.clock.now())
    assert decision(altinn, xacml(user)) == "NotApplicable"


def test_an_agent_acts_only_for_its_clients(altinn: Altinn, world: World) -> None:
    put_system(world.store, world.clock.now())
    agent = _approve(world, agent=True, party=PROVIDER)
    asked = xacml(agent, resource=None, package=CLIENT_PACKAGE, party=CONSUMER)
    assert decision(altinn, asked) == "NotApplicable"
    assert decision(altinn, xacml(agent, resource=None, package=CLIENT_PACKAGE, party=PROVIDER)) == "NotApplicable"
    with world.store.begin() as uow:
        uow.put_agent_client(AgentClient(agent, CONSUMER, world.clock.now()))
    assert decision(altinn, asked) == "NotApplicable"  # the consumer never registered the firm as its accountant
    with world.store.begin() as uow:
        register_client_relationship(uow, CONSUMER, PROVIDER, ClientRole.REGNSKAPSFORER, Actor.operator(),
                                     world.clock.now())
    assert decision(altinn, asked) == "Permit"
    with world.store.begin() as uow:
        uow.delete_agent_client(agent, CONSUMER)
    assert decision(altinn, asked) == "NotApplicable"
    with world.store.begin() as uow:
        uow.put_agent_client(AgentClient(agent, CONSUMER, world.clock.now()))
    assert decision(altinn, asked) == "Permit"
    with world.store.begin() as uow:
        remove_client_relationship(uow, CONSUMER, PROVIDER, ClientRole.REGNSKAPSFORER, Actor.operator(),
                                   world.clock.now())
    assert decision(altinn, asked) == "NotApplicable"  # a relationship ended stops the decision at once


def _with_category(user: str, name: str, value: Any) -> dict[str, Any]:
    body = xacml(user)
    body["Request"][name] = value
    return body


@pytest.mark.parametrize(("make", "code", "path"), [
    (lambda u: [1], "STD.VLD-00002", "/"),
    (lambda u: {"Request": []}, "STD.VLD-00000", "/Request"),
    (lambda u: {"Nothing": {}}, "STD.VLD-00000", "/Request"),
    (lambda u: _with_category(u, "Action", None), "STD.VLD-00000", "/Request/Action"),
    (lambda u: _with_category(u, "Action", [{"Attribute": []}, {"Attribute": []}]), "STD.VLD-00002",
     "/Request/Action"),
    (lambda u: _with_category(u, "Action", "read"), "STD.VLD-00002", "/Request/Action"),
    (lambda u: xacml(u, action=None), "STD.VLD-00000", f"/Request/Action/{ACTION}"),
    (lambda u: xacml(u, resource=None), "STD.VLD-00000", "/Request/Resource"),
    (lambda u: xacml(u, party="123"), "STD.VLD-00002", f"/Request/Resource/{PARTY}"),
    (lambda u: _with_category(u, "AccessSubject", {"Attribute": [{"AttributeId": "urn:altinn:userid",
                                                                   "Value": "1"}]}),
     "STD.VLD-00000", f"/Request/AccessSubject/{SUBJECT}"),
    (lambda u: _with_category(u, "AccessSubject", {"Attribute": [{"AttributeId": SUBJECT, "Value": u},
                                                                   {"AttributeId": SUBJECT, "Value": "other"}]}),
     "STD.VLD-00002", "/Request/AccessSubject/Attribute/1"),
    (lambda u: _with_category(u, "AccessSubject", {"Attribute": [{"AttributeId": SUBJECT, "Value": 7}]}),
     "STD.VLD-00002", "/Request/AccessSubject/Attribute/0/Value"),
    (lambda u: _with_category(u, "AccessSubject", {"Attribute": [{"AttributeId": SUBJECT, "Value": "x" * 301}]}),
     "STD.VLD-00002", "/Request/AccessSubject/Attribute/0/Value"),
    (lambda u: _with_category(u, "AccessSubject", {"Attribute": ["x"]}), "STD.VLD-00002",
     "/Request/AccessSubject/Attribute/0"),
    (lambda u: {"Request": {**xacml(u)["Request"], "action": {}}}, "STD.VLD-00002", "/Request/Action"),
    (lambda u: _with_category(u, "Resource", {"Attribute": [{"AttributeId": f"urn:x:{i}", "Value": "v"}
                                                              for i in range(40)]}),
     "STD.VLD-00002", "/Request/Resource"),
])
def test_a_malformed_request_is_400(altinn: Altinn, user: str, make: Any, code: str, path: str) -> None:
    r = ask(altinn, make(user))
    assert r.status_code == 400, r.text
    body = r.json()
    assert (body["code"], [(e["code"], e["paths"]) for e in body["validationErrors"]]) == (
        "STD-00000", [(code, [path])])


def test_not_json_and_too_large(altinn: Altinn, user: str) -> None:
    r = ask(altinn, b"{not json")
    assert r.status_code == 400 and r.json()["validationErrors"][0]["code"] == "STD.VLD-00001"
    big = json.dumps({**xacml(user), "padding": "x" * 20_000}).encode()
    assert ask(altinn, big).status_code == 413


def test_the_caller_needs_the_scope(altinn: Altinn, user: str) -> None:
    assert ask(altinn, xacml(user), scopes=(SYSTEMUSER_LOOKUP,)).status_code == 403
    assert altinn("POST", PATH, None, json=xacml(user)).status_code == 401
    assert ask(altinn, b"{not json", scopes=()).status_code == 403
