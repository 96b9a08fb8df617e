"""The system register on the wire (docs/protocol.md §6.1): Altinn's paths, camelCase shapes with nulls left out,
keys bound without regard to case, and every refusal with its status and code."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from portvakt.domain import usecases as uc
from portvakt.domain.models import IntegrationType
from portvakt.domain.portal_client import PORTAL_CLIENT_SCOPES
from portvakt.domain.systemregister import SYSTEMREGISTER_ADMIN, SYSTEMREGISTER_WRITE
from tests.api.altinn.conftest import Altinn
from tests.conftest import OP, OPERATOR, OTHER, VENDOR, World

BASE = "/authentication/api/v1/systemregister"
WRITE = (SYSTEMREGISTER_WRITE,)
SYSTEM_ID = f"{VENDOR}_regnskap"
READ = {"action": "read", "resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}
ANY = {"resource": [{"id": "urn:altinn:resource", "value": "app_ttd_demo"}]}
OWN_PACKAGE = "urn:altinn:accesspackage:skattnaering"
CLIENT_PACKAGE = "urn:altinn:accesspackage:regnskapsforer-lonn"


def body(world: World, **over: Any) -> dict[str, Any]:
    """A valid system of the vendor naming its client."""
    system: dict[str, Any] = {
        "id": SYSTEM_ID, "vendor": {"authority": "iso6523-actorid-upis", "ID": f"0192:{VENDOR}"},
        "name": {"nb": "Regnskap", "en": "Accounting"}, "description": {"nb": "Et regnskapssystem"},
        "rights": [READ, ANY], "accessPackages": [{"urn": OWN_PACKAGE}], "clientId": [world.client_id],
        "isVisible": True, "allowedRedirectUrls": ["https://vendor.test/done"]}
    system.update(over)
    return system


def codes(r: Any) -> list[str]:
    """The validation codes of a 400 validation problem."""
    assert r.status_code == 400, r.text
    doc = r.json()
    assert doc["code"] == "STD-00000" and doc["title"] == "One or more validation errors occurred."
    assert r.headers["content-type"].startswith("application/problem+json")
    return [e["code"] for e in doc["validationErrors"]]


def problem(r: Any, status: int) -> str:
    """The code of an Altinn problem."""
    assert r.status_code == status, r.text
    doc = r.json()
    assert doc["status"] == status and doc["traceId"]
    return str(doc["code"])


def new_client(world: World, orgno: str = VENDOR) -> str:
    """Another maskinporten client of `orgno`."""
    with world.store.begin() as uow:
        client = uc.new_client(uow, client_name="Another", client_orgno=orgno,
                               integration_type=IntegrationType.MASKINPORTEN, scopes=[], actor=OP,
                               now=world.clock.now())
    return client.client_id


def portal(altinn: Altinn, method: str, path: str, **kwargs: Any) -> Any:
    """A call with the portal's own token."""
    return altinn(method, path, OPERATOR, PORTAL_CLIENT_SCOPES, client_id="portvakt-portal", **kwargs)


@pytest.fixture
def registered(altinn: Altinn, world: World) -> str:
    """The vendor's system, registered through the API; its internal id."""
    r = altinn("POST", f"{BASE}/vendor", VENDOR, WRITE, json=body(world))
    assert r.status_code == 200, r.text
    return str(r.json())


def test_create_answers_the_internal_id_and_reads_back_camel_case(altinn: Altinn, world: World,
                                                                   registered: str) -> None:
    assert uuid.UUID(registered)
    r = altinn("GET", f"{BASE}/vendor/{SYSTEM_ID}", VENDOR, WRITE)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "id": SYSTEM_ID, "vendor": {"authority": "iso6523-actorid-upis", "ID": f"0192:{VENDOR}"},
        "name": {"nb": "Regnskap", "en": "Accounting"}, "description": {"nb": "Et regnskapssystem"},
        "rights": [READ, ANY], "accessPackages": [{"urn": OWN_PACKAGE}], "clientId": [world.client_id],
        "isVisible": True, "allowedRedirectUrls": ["https://vendor.test/done"], "isDeleted": False}
    assert "action" not in r.json()["rights"][1]


def test_keys_bind_without_regard_to_case_and_strings_are_trimmed(altinn: Altinn, world: World) -> None:
    loose = {"ID": f" {SYSTEM_ID} ", "Vendor": {"id": f"0192:{VENDOR}"}, "NAME": {"nb": " Regnskap "},
             "Description": {"nb": "Beskrivelse"}, "accesspackages": [{"URN": OWN_PACKAGE}],
             "clientid": [f" {world.client_id}"], "Rights": [{"Action": "read", "Resource": [
                 {"Id": "urn:altinn:resource", "Value": " ske-krav-og-betalinger "}]}],
             "allowedredirecturls": ["https://vendor.test/done"], "IsVisible": False, "unknownKey": 1}
    assert altinn("POST", f"{BASE}/vendor", VENDOR, WRITE, json=loose).status_code == 200
    got = altinn("GET", f"{BASE}/vendor/{SYSTEM_ID}", VENDOR, WRITE).json()
    assert got["name"] == {"nb": "Regnskap"} and got["clientId"] == [world.client_id]
    assert got["rights"] == [READ] and got["isVisible"] is False


def test_a_key_given_twice_in_different_case_is_refused(altinn: Altinn, world: World) -> None:
    r = altinn("POST", f"{BASE}/vendor", VENDOR, WRITE, json={**body(world), "ID": SYSTEM_ID})
    assert codes(r) == ["STD.VLD-00002"]


def test_a_duplicate_id_says_already_exists(altinn: Altinn, world: World, registered: str) -> None:
    r = altinn("POST", f"{BASE}/vendor", VENDOR, WRITE, json=body(world, clientId=[]))
    assert codes(r) == ["AUTH.VLD-00002"]
    assert "already exists" in r.json()["validationErrors"][0]["title"]
    assert r.json()["validationErrors"][0]["paths"] == ["/registersystemrequest/systemid"]


def test_a_vendor_without_0192_is_the_only_error(altinn: Altinn, world: World) -> None:
    bad = body(world, id="bad id", vendor={"ID": f"9908:{VENDOR}"}, rights=[{"resource": [{"id": "x", "value": "y"}]}])
    assert codes(altinn("POST", f"{BASE}/vendor", VENDOR, WRITE, json=bad)) == ["AUTH.VLD-00000"]
    assert codes(altinn("POST", f"{BASE}/vendor", VENDOR, WRITE,
                        json=body(world, vendor={"ID": "0192:123"}))) == ["AUTH.VLD-00000"]


def test_another_vendors_system_is_403_before_validation_errors(altinn: Altinn, world: World) -> None:
    r = altinn("POST", f"{BASE}/vendor", OTHER, WRITE, json=body(world, id="bad id", clientId=["nope", "nope"]))
    assert r.status_code == 403


def test_the_admin_scope_registers_for_another_vendor(altinn: Altinn, world: World) -> None:
    r = altinn("POST", f"{BASE}/vendor", OTHER, (SYSTEMREGISTER_ADMIN,), json=body(world))
    assert r.status_code == 200, r.text
    events = altinn("GET", f"{BASE}/vendor/{SYSTEM_ID}/changelog", VENDOR, WRITE).json()
    assert [(e["changeType"], e["changedByOrgNumber"]) for e in events] == [("create", OTHER)]


@pytest.mark.parametrize(("over", "expected"), [
    ({"id": f"{VENDOR}_two words"}, ["AUTH.VLD-00013"]),
    ({"id": f"{OTHER}_regnskap"}, ["AUTH.VLD-00001"]),
    ({"id": "regnskap"}, ["AUTH.VLD-00001"]),
    ({"allowedRedirectUrls": ["http://vendor.test/done"]}, ["AUTH.VLD-00005"]),
    ({"allowedRedirectUrls": ["/relative"]}, ["AUTH.VLD-00005"]),
    ({"allowedRedirectUrls": ["https://user@vendor.test/"]}, ["AUTH.VLD-00005"]),
    ({"rights": [{"resource": [{"id": "urn:altinn:app", "value": "x"}]}]}, ["AUTH.VLD-00009"]),
    ({"rights": [{"resource": [{"id": "urn:altinn:resource", "value": "has space"}]}]}, ["AUTH.VLD-00003"]),
    ({"rights": [READ, READ]}, ["AUTH.VLD-00006"]),
    ({"accessPackages": [{"urn": "urn:altinn:accesspackage:nope"}]}, ["AUTH.VLD-00008"]),
    ({"accessPackages": [{"urn": OWN_PACKAGE}, {"urn": OWN_PACKAGE}]}, ["AUTH.VLD-00007"]),
    ({"accessPackages": [{"urn": CLIENT_PACKAGE}]}, ["AUTH.VLD-00018"]),
    ({"name": {"en": "Accounting"}}, ["AUTH.VLD-00091"]),
    ({"name": {"nb": "Regnskap", "de": "Buchhaltung"}}, ["AUTH.VLD-00091"]),
    ({"clientId": ["not-a-client"]}, ["AUTH.VLD-00090"]),
])
def test_each_rule_has_its_code(altinn: Altinn, world: World, over: dict[str, Any], expected: list[str]) -> None:
    assert codes(altinn("POST", f"{BASE}/vendor", VENDOR, WRITE, json=body(world, **over))) == expected


def test_errors_are_collected(altinn: Altinn, world: World) -> None:
    bad = body(world, id=f"{OTHER}_x", allowedRedirectUrls=["ftp://x"], rights=[READ, READ])
    assert codes(altinn("POST", f"{BASE}/vendor", VENDOR, WRITE, json=bad)) == [
        "AUTH.VLD-00001", "AUTH.VLD-00005", "AUTH.VLD-00006"]


def test_http_is_allowed_for_localhost_only(altinn: Altinn, world: World) -> None:
    urls = ["http://localhost:8080/cb", "http://127.0.0.1/cb", "http://[::1]:9000/"]
    assert altinn("POST", f"{BASE}/vendor", VENDOR, WRITE, json=body(world, allowedRedirectUrls=urls)).status_code \
        == 200


def test_client_ids_are_the_vendors_own_and_once(altinn: Altinn, world: World, registered: str) -> None:
    others = new_client(world, OTHER)
    second = body(world, id=f"{VENDOR}_second")
    assert codes(altinn("POST", f"{BASE}/vendor", VENDOR, WRITE, json=second)) == ["AUTH.VLD-00004"]
    assert codes(altinn("POST", f"{BASE}/vendor", VENDOR, WRITE, json={**second, "clientId": [others]})) == [
        "AUTH.VLD-00090"]
    mine = new_client(world)
    assert codes(altinn("POST", f"{BASE}/vendor", VENDOR, WRITE,
                        json={**second, "clientId": [mine, mine.upper()]})) == ["AUTH.VLD-00011", "AUTH.VLD-00090"]
    assert altinn("POST", f"{BASE}/vendor", VENDOR, WRITE, json={**second, "clientId": [mine]}).status_code == 200


def test_update_replaces_the_system(altinn: Altinn, world: World, registered: str) -> None:
    changed = body(world, name={"nb": "Nytt navn"}, rights=[READ], clientId=[])
    r = altinn("PUT", f"{BASE}/vendor/{SYSTEM_ID}", VENDOR, WRITE, json=changed)
    assert (r.status_code, r.json()) == (200, {"succeeded": True})
    got = altinn("GET", f"{BASE}/vendor/{SYSTEM_ID}", VENDOR, WRITE).json()
    assert got["name"] == {"nb": "Nytt navn"} and got["rights"] == [READ] and got["clientId"] == []


def test_update_refusals(altinn: Altinn, world: World, registered: str) -> None:
    path = f"{BASE}/vendor/{SYSTEM_ID}"
    assert codes(altinn("PUT", path, VENDOR, WRITE, json=body(world, id=f"{VENDOR}_other"))) == ["AUTH.VLD-00012"]
    assert altinn("PUT", path, OTHER, WRITE, json=body(world)).status_code == 403
    assert problem(altinn("PUT", f"{BASE}/vendor/{VENDOR}_nope", VENDOR, WRITE, json=body(world)), 404) == \
        "AUTH-00011"
    other_vendor = body(world, vendor={"ID": f"0192:{OTHER}"})
    assert problem(altinn("PUT", path, VENDOR, (SYSTEMREGISTER_ADMIN,), json=other_vendor), 404) == "AUTH-00011"
    assert altinn("PUT", path, VENDOR, WRITE, json=body(world)).status_code == 200  # its own client id is no clash


def test_rights_and_packages_are_replaced_and_checked(altinn: Altinn, world: World, registered: str) -> None:
    rights = f"{BASE}/vendor/{SYSTEM_ID}/rights"
    packages = f"{BASE}/vendor/{SYSTEM_ID}/accesspackages"
    assert altinn("PUT", rights, VENDOR, WRITE, json=[ANY]).json() == {"succeeded": True}
    assert codes(altinn("PUT", rights, VENDOR, WRITE, json=[ANY, ANY])) == ["AUTH.VLD-00006"]
    assert altinn("PUT", packages, VENDOR, WRITE, json=[]).json() == {"succeeded": True}
    assert codes(altinn("PUT", packages, VENDOR, WRITE, json=[{"urn": CLIENT_PACKAGE}])) == ["AUTH.VLD-00018"]
    assert altinn("PUT", rights, OTHER, WRITE, json=[ANY]).status_code == 403
    got = altinn("GET", f"{BASE}/vendor/{SYSTEM_ID}", VENDOR, WRITE).json()
    assert got["rights"] == [ANY] and got["accessPackages"] == []


def test_delete_is_soft_frees_client_ids_and_ends_changes(altinn: Altinn, world: World, registered: str) -> None:
    path = f"{BASE}/vendor/{SYSTEM_ID}"
    assert altinn("DELETE", path, VENDOR, WRITE).json() == {"succeeded": True}
    assert altinn("DELETE", path, VENDOR, WRITE).json() == {"succeeded": True}
    assert altinn("GET", path, VENDOR, WRITE).json()["isDeleted"] is True
    assert codes(altinn("PUT", path, VENDOR, WRITE, json=body(world))) == ["AUTH.VLD-00093"]
    assert codes(altinn("PUT", f"{path}/rights", VENDOR, WRITE, json=[])) == ["AUTH.VLD-00093"]
    assert altinn("POST", f"{BASE}/vendor", VENDOR, WRITE,
                  json=body(world, id=f"{VENDOR}_next")).status_code == 200
    assert codes(altinn("POST", f"{BASE}/vendor", VENDOR, WRITE, json=body(world, clientId=[]))) == [
        "AUTH.VLD-00002"]
    assert [s["systemId"] for s in altinn("GET", f"{BASE}/vendor", VENDOR, WRITE).json()] == [f"{VENDOR}_next"]


def test_changelog_lists_every_change_oldest_first(altinn: Altinn, world: World, registered: str) -> None:
    path = f"{BASE}/vendor/{SYSTEM_ID}"
    altinn("PUT", path, VENDOR, WRITE, json=body(world))
    altinn("PUT", f"{path}/rights", VENDOR, WRITE, json=[READ])
    altinn("PUT", f"{path}/accesspackages", VENDOR, WRITE, json=[])
    altinn("DELETE", path, VENDOR, WRITE)
    r = altinn("GET", f"{path}/changelog", VENDOR, WRITE)
    assert r.status_code == 200, r.text
    entries = r.json()
    assert [e["changeType"] for e in entries] == ["create", "update", "rightsupdate", "accesspackageupdate",
                                                  "delete"]
    assert {e["systemInternalId"] for e in entries} == {registered}
    assert entries[0]["changedByOrgNumber"] == VENDOR and entries[0]["clientId"] == f"admin-{VENDOR}"
    assert entries[-1]["changedData"]["deleted"] is True
    assert altinn("GET", f"{path}/changelog", OTHER, WRITE).status_code == 403


def test_the_vendor_paths_need_a_register_scope(altinn: Altinn, world: World, registered: str) -> None:
    assert altinn("GET", f"{BASE}/vendor", VENDOR, ()).status_code == 403
    r = altinn("GET", f"{BASE}/vendor", None)
    assert r.status_code == 401 and r.json()["type"] == "/problems/unauthorized"
    assert altinn("GET", f"{BASE}/vendor", VENDOR, (SYSTEMREGISTER_ADMIN,)).status_code == 200


def test_the_vendors_list_is_its_own(altinn: Altinn, world: World, registered: str) -> None:
    mine = altinn("GET", f"{BASE}/vendor", VENDOR, WRITE).json()
    assert [(s["systemId"], s["systemVendorOrgNumber"], s["systemVendorOrgName"]) for s in mine] == [
        (SYSTEM_ID, VENDOR, "Vendor")]
    assert altinn("GET", f"{BASE}/vendor", OTHER, WRITE).json() == []
    assert altinn("GET", f"{BASE}/vendor/{SYSTEM_ID}", OTHER, WRITE).status_code == 403


def test_the_portal_reads_systems_not_deleted(altinn: Altinn, world: World, registered: str) -> None:
    listed = portal(altinn, "GET", BASE)
    assert listed.status_code == 200, listed.text
    assert listed.json() == [{
        "systemId": SYSTEM_ID, "systemVendorOrgNumber": VENDOR, "systemVendorOrgName": "Vendor",
        "name": {"nb": "Regnskap", "en": "Accounting"}, "description": {"nb": "Et regnskapssystem"},
        "rights": [READ, ANY], "accessPackages": [{"urn": OWN_PACKAGE}], "isVisible": True}]
    assert portal(altinn, "GET", f"{BASE}/{SYSTEM_ID}").json()["systemId"] == SYSTEM_ID
    assert portal(altinn, "GET", f"{BASE}/{SYSTEM_ID}/rights").json() == [READ, ANY]
    assert portal(altinn, "GET", f"{BASE}/{SYSTEM_ID}/accesspackages").json() == [{"urn": OWN_PACKAGE}]
    assert altinn("GET", BASE, VENDOR, WRITE).status_code == 403
    altinn("DELETE", f"{BASE}/vendor/{SYSTEM_ID}", VENDOR, WRITE)
    assert portal(altinn, "GET", BASE).json() == []
    assert problem(portal(altinn, "GET", f"{BASE}/{SYSTEM_ID}"), 404) == "AUTH-00011"
    assert problem(portal(altinn, "GET", f"{BASE}/not%20an%20id"), 404) == "AUTH-00011"


def test_bad_bodies_are_fast_400s(altinn: Altinn, world: World) -> None:
    r = altinn("POST", f"{BASE}/vendor", VENDOR, WRITE, content=b"{not json",
               headers={"content-type": "application/json"})
    assert codes(r) == ["STD.VLD-00001"]
    r = altinn("POST", f"{BASE}/vendor", VENDOR, WRITE, content=b"\xff\xfe{",
               headers={"content-type": "application/json"})
    assert codes(r) == ["STD.VLD-00001"]
    assert altinn("POST", f"{BASE}/vendor", VENDOR, WRITE, json=body(world, rights=[ANY] * 5000)).status_code == 413
    many = body(world, rights=[ANY] * 101)
    start = time.perf_counter()
    assert codes(altinn("POST", f"{BASE}/vendor", VENDOR, WRITE, json=many)) == ["STD.VLD-00002"]
    assert time.perf_counter() - start < 2
    assert codes(altinn("POST", f"{BASE}/vendor", VENDOR, WRITE, json=body(world, id="x" * 201))) == [
        "STD.VLD-00002"]
    missing = {k: v for k, v in body(world).items() if k != "vendor"}
    r = altinn("POST", f"{BASE}/vendor", VENDOR, WRITE, json=missing)
    assert codes(r) == ["STD.VLD-00002"] and r.json()["validationErrors"][0]["paths"] == ["/vendor"]


def test_the_trace_id_is_the_request_id(altinn: Altinn, world: World) -> None:
    r = altinn("GET", f"{BASE}/vendor/{VENDOR}_nope", VENDOR, WRITE, headers={"x-request-id": "trace-me-1"})
    assert problem(r, 404) == "AUTH-00011"
    assert r.json()["traceId"] == "trace-me-1"
