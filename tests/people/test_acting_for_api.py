"""/api/v1 with the portal's token: Portvakt-Acting-For / Portvakt-Person make the caller the person's
organisation and put the person in the audit trail; without them the portal is the operator's client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from portvakt.domain.portal_client import PORTAL_CLIENT_SCOPES
from tests.api.v1.conftest import ALL_DCR, api, token_for
from tests.conftest import CONSUMER, OPERATOR, VENDOR, World

__all__ = ["api", "token_for"]
Api = Callable[..., Any]
IDA = "ida@vendor.test"
#: The portal's own client_id (PORTVAKT_PORTAL__CLIENT_ID): only its tokens may act for an organisation.
PORTAL = "portvakt-portal"
AS_VENDOR = {"Portvakt-Acting-For": VENDOR, "Portvakt-Person": IDA}
SYSTEM = {"client_name": "Turboskatt", "integration_type": "altinn_virksys", "scopes": ["brreg:test/open"]}


def test_the_portal_creates_a_system_for_the_vendor_as_the_person(api: Api, world: World) -> None:
    r = api("POST", "/clients", OPERATOR, PORTAL_CLIENT_SCOPES, client_id=PORTAL, json=SYSTEM, headers=AS_VENDOR)
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["client_orgno"], made["supplier_orgno"]) == (VENDOR, None)
    with world.store.read() as uow:
        event = uow.list_audit(org=VENDOR, entity_kind="client", entity_key=made["client_id"])[0]
    assert (event.actor_orgno, event.actor_client_id, event.actor_person) == (VENDOR, PORTAL, IDA)
    listed = api("GET", "/clients", OPERATOR, PORTAL_CLIENT_SCOPES, client_id=PORTAL, headers=AS_VENDOR,
                 params={"integration_type": "altinn_virksys"})
    assert [c["client_id"] for c in listed.json()] == [made["client_id"]]


def test_the_audit_trail_shows_the_person_to_the_own_organisation_only(api: Api) -> None:
    r = api("POST", "/clients", OPERATOR, PORTAL_CLIENT_SCOPES, client_id=PORTAL, json=SYSTEM, headers=AS_VENDOR)
    key = r.json()["client_id"]
    own = api("GET", "/audit", VENDOR, ("idporten:dcr.read",), params={"entity_key": key}).json()
    assert [(e["actor_person"], e["actor_client_id"]) for e in own] == [(IDA, PORTAL)]
    supplied = api("POST", "/clients", OPERATOR, PORTAL_CLIENT_SCOPES, client_id=PORTAL,
                   json={**SYSTEM, "client_orgno": CONSUMER}, headers=AS_VENDOR).json()
    assert supplied["client_orgno"] == CONSUMER and supplied["supplier_orgno"] == VENDOR
    seen = api("GET", "/audit", CONSUMER, ("idporten:dcr.read",), params={"entity_key": supplied["client_id"]}).json()
    assert [(e["actor_orgno"], e["actor_person"], e["actor_client_id"]) for e in seen] == [(VENDOR, None, None)]


def test_without_the_portal_scope_the_headers_are_forbidden(api: Api) -> None:
    for headers in (AS_VENDOR, {"Portvakt-Acting-For": VENDOR}, {"Portvakt-Person": IDA}):
        r = api("POST", "/clients", CONSUMER, ALL_DCR, json=SYSTEM, headers=headers)
        assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["detail"].startswith("only the portal's own client")
    assert api("GET", "/clients", CONSUMER, ALL_DCR, headers=AS_VENDOR).status_code == 403


@pytest.mark.parametrize(("headers", "field"), [
    ({"Portvakt-Acting-For": "314330898", "Portvakt-Person": IDA}, "Portvakt-Acting-For"),
    ({"Portvakt-Acting-For": "not a number", "Portvakt-Person": IDA}, "Portvakt-Acting-For"),
    ({"Portvakt-Person": IDA}, "Portvakt-Acting-For"),
    ({"Portvakt-Acting-For": VENDOR, "Portvakt-Person": "-"}, "Portvakt-Person"),
])
def test_bad_headers_are_a_400_problem(api: Api, headers: dict[str, str], field: str) -> None:
    r = api("GET", "/clients", OPERATOR, PORTAL_CLIENT_SCOPES, client_id=PORTAL, headers=headers)
    assert r.status_code == 400 and r.json()["type"] == "/problems/invalid"
    assert r.json()["errors"][0]["field"] == field


def test_without_headers_the_portal_is_the_operators_supplier_client(api: Api) -> None:
    """docs/protocol.md §4.4: with dcr.supplier the portal creates a client for the vendor, exactly as before."""
    r = api("POST", "/clients", OPERATOR, PORTAL_CLIENT_SCOPES, client_id=PORTAL,
            json={**SYSTEM, "client_orgno": VENDOR})
    assert r.status_code == 201, r.text
    assert (r.json()["client_orgno"], r.json()["supplier_orgno"]) == (VENDOR, OPERATOR)
    own = api("GET", "/audit", OPERATOR, ("idporten:dcr.read",), params={"entity_key": r.json()["client_id"]}).json()
    assert [(e["actor_orgno"], e["actor_person"]) for e in own] == [(OPERATOR, None)]
