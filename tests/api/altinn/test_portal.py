"""The Altinn side for the portal: people log in, their roles are read back, organisations looked up,
and the portal acts for a person's organisation with Portvakt-Acting-For / Portvakt-Person."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from portvakt.domain.delegations import DELEGATIONS_WRITE
from portvakt.domain.people import add_person, deactivate_person, revoke_role
from portvakt.domain.policy import PORTAL
from portvakt.domain.portal_client import PORTAL_CLIENT_SCOPES
from tests.api.altinn.conftest import DW, Altinn
from tests.conftest import CONSUMER, OPERATOR, OTHER, VENDOR, World
from tests.people.conftest import IDA_ROLES, OP, PASSWORD, fast_hasher

LOGIN = "/accessmanagement/api/v1/portal/login"
PEOPLE = "/accessmanagement/api/v1/portal/people"
ORGS = "/accessmanagement/api/v1/organisations"
IDA = "ida@vendor.test"
PORTAL_CLIENT_ID = "portvakt-portal"
ACT = {"Portvakt-Acting-For": CONSUMER, "Portvakt-Person": IDA}


@pytest.fixture
def ida(world: World) -> str:
    """A person in the world's store: integration responsible (vendor) and access manager (consumer)."""
    with world.store.begin() as uow:
        add_person(uow, fast_hasher(), username=IDA, name="Ida Ærlig", mobile="+4791234567", password=PASSWORD,
                   roles=IDA_ROLES, actor=OP, now=world.clock.now())
    return IDA


def portal(altinn: Altinn, method: str, path: str, **kwargs: Any) -> Any:
    """A call with the portal's token (the operator's portal client, PORTVAKT_PORTAL__CLIENT_ID, its scopes)."""
    return altinn(method, path, OPERATOR, PORTAL_CLIENT_SCOPES, client_id=PORTAL_CLIENT_ID, **kwargs)


EXPECTED = {"username": IDA, "name": "Ida Ærlig", "mobile": "+4791234567",
            "roles": [{"orgno": CONSUMER, "org_name": "Consumer", "role": "access_manager"},
                      {"orgno": VENDOR, "org_name": "Vendor", "role": "integration_responsible"}]}


def test_login_answers_the_person_and_its_roles(altinn: Altinn, ida: str) -> None:
    r = portal(altinn, "POST", LOGIN, json={"username": "IDA@Vendor.test", "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json() == EXPECTED
    assert r.headers["cache-control"] == "no-store"


def test_a_failed_login_has_one_generic_answer(altinn: Altinn, world: World, ida: str) -> None:
    with world.store.begin() as uow:
        add_person(uow, fast_hasher(), username="gone", name="Gone", mobile="+4791234567", password=PASSWORD,
                   roles=(), actor=OP, now=world.clock.now())
        deactivate_person(uow, "gone", OP, world.clock.now())
    answers = [portal(altinn, "POST", LOGIN, json=body) for body in (
        {"username": IDA, "password": PASSWORD + "x"}, {"username": "nobody", "password": PASSWORD},
        {"username": "gone", "password": PASSWORD}, {"username": "no such shape!", "password": PASSWORD})]
    for r in answers:
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
        assert r.json() == {"type": "/problems/login-failed", "title": "Login failed", "status": 401,
                            "detail": "wrong username or password"}
        assert PASSWORD not in r.text


def test_login_needs_the_portal_token(altinn: Altinn, ida: str) -> None:
    body = {"username": IDA, "password": PASSWORD}
    r = altinn("POST", LOGIN, VENDOR, DW, json=body)
    assert r.status_code == 403 and PORTAL in r.json()["detail"]
    assert altinn("POST", LOGIN, None, json=body).status_code == 401


@pytest.mark.parametrize("body", [{"username": IDA}, {"username": IDA, "password": "p" * 1025},
                                  {"username": IDA, "password": PASSWORD, "extra": 1}, {"username": 1, "password": 2}])
def test_a_malformed_login_is_400_without_the_password(altinn: Altinn, ida: str, body: dict[str, Any]) -> None:
    r = portal(altinn, "POST", LOGIN, json=body)
    assert r.status_code == 400 and r.json()["type"] == "/problems/invalid"
    assert PASSWORD not in r.text and "ppppppppppppppppppppppppppppp" not in r.text


def test_login_logs_no_password(altinn: Altinn, ida: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    portal(altinn, "POST", LOGIN, json={"username": IDA, "password": PASSWORD})
    portal(altinn, "POST", LOGIN, json={"username": IDA, "password": "wrong but long"})
    assert "logged in" in caplog.text and "login refused" in caplog.text
    assert PASSWORD not in caplog.text and "wrong but long" not in caplog.text and "$argon2" not in caplog.text


def test_login_rehashes_with_the_servers_parameters(altinn: Altinn, world: World, ida: str) -> None:
    with world.store.read() as uow:
        before = uow.get_person(IDA)
    assert portal(altinn, "POST", LOGIN, json={"username": IDA, "password": PASSWORD}).status_code == 200
    with world.store.read() as uow:
        after = uow.get_person(IDA)
    assert before is not None and after is not None
    assert "m=1024" in before.password_hash and "m=65536,t=3,p=4" in after.password_hash


def test_person_is_read_back_with_current_roles(altinn: Altinn, world: World, ida: str) -> None:
    assert portal(altinn, "GET", f"{PEOPLE}/{IDA}").json() == EXPECTED
    with world.store.begin() as uow:
        revoke_role(uow, IDA, IDA_ROLES[0], OP, world.clock.now())
    r = portal(altinn, "GET", f"{PEOPLE}/{IDA}")
    assert r.status_code == 200 and [x["orgno"] for x in r.json()["roles"]] == [CONSUMER]
    with world.store.begin() as uow:
        deactivate_person(uow, IDA, OP, world.clock.now())
    for name in (IDA, "nobody", "NO SUCH SHAPE", "x" * 300):
        r = portal(altinn, "GET", f"{PEOPLE}/{name}")
        assert r.status_code == 404 and r.json()["type"] == "/problems/not-found"
    assert altinn("GET", f"{PEOPLE}/{IDA}", VENDOR, DW).status_code == 403


def test_organisation_lookup(altinn: Altinn) -> None:
    r = altinn("GET", f"{ORGS}/{VENDOR}", CONSUMER, DW)
    assert r.status_code == 200 and r.json() == {"orgno": VENDOR, "name": "Vendor"}
    assert altinn("GET", f"{ORGS}/889640782", CONSUMER, DW).status_code == 404
    for bad in ("123456789", "abc", "3143308970"):
        r = altinn("GET", f"{ORGS}/{bad}", CONSUMER, DW)
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "orgno"
    assert altinn("GET", f"{ORGS}/{VENDOR}", None).status_code == 401


def test_the_portal_delegates_for_the_consumer_on_behalf_of_a_person(altinn: Altinn, world: World,
                                                                     scheme: dict[str, Any], ida: str) -> None:
    body = {"scheme_id": scheme["scheme_id"], "supplier_org": VENDOR}
    r = portal(altinn, "POST", "/accessmanagement/api/v1/delegations", json=body, headers=ACT)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["consumer_org"] == CONSUMER and made["created_by"] == IDA
    with world.store.read() as uow:
        event = uow.list_audit(org=CONSUMER, entity_kind="delegation")[0]
    assert (event.actor_orgno, event.actor_client_id, event.actor_person) == (CONSUMER, PORTAL_CLIENT_ID, IDA)
    listed = portal(altinn, "GET", "/accessmanagement/api/v1/delegations", headers=ACT).json()
    assert [d["delegation_id"] for d in listed] == [made["delegation_id"]]
    gone = portal(altinn, "DELETE", f"/accessmanagement/api/v1/delegations/{made['delegation_id']}", headers=ACT)
    assert gone.status_code == 200 and gone.json()["revoked_by"] == IDA


def test_without_the_portal_scope_acting_for_is_forbidden(altinn: Altinn, scheme: dict[str, Any]) -> None:
    body = {"scheme_id": scheme["scheme_id"], "supplier_org": VENDOR}
    r = altinn("POST", "/accessmanagement/api/v1/delegations", OTHER, (DELEGATIONS_WRITE,), json=body,
               headers=ACT)
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert "portal's own client" in r.json()["detail"]
    r = altinn("GET", "/accessmanagement/api/v1/maskinporten/schemes", OTHER, headers={"Portvakt-Person": IDA})
    assert r.status_code == 403


@pytest.mark.parametrize(("headers", "field"), [
    ({"Portvakt-Acting-For": "123456789", "Portvakt-Person": IDA}, "Portvakt-Acting-For"),
    ({"Portvakt-Acting-For": CONSUMER}, "Portvakt-Person"),
    ({"Portvakt-Acting-For": CONSUMER, "Portvakt-Person": "Ida Aerlig"}, "Portvakt-Person"),
    ({"Portvakt-Acting-For": CONSUMER, "Portvakt-Person": "ida\xe6@x".encode("latin-1")}, "Portvakt-Person"),
])
def test_bad_acting_for_headers_are_400(altinn: Altinn, headers: dict[str, Any], field: str) -> None:
    r = portal(altinn, "GET", "/accessmanagement/api/v1/delegations", headers=headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == field


def test_a_portal_token_without_headers_acts_as_the_operator(altinn: Altinn, world: World,
                                                             scheme: dict[str, Any]) -> None:
    body = {"scheme_id": scheme["scheme_id"], "supplier_org": VENDOR}
    r = portal(altinn, "POST", "/accessmanagement/api/v1/delegations", json=body)
    assert r.status_code == 201 and r.json()["consumer_org"] == OPERATOR
    assert r.json()["created_by"] == PORTAL_CLIENT_ID

