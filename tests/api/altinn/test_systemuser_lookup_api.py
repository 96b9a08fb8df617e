"""The token service's lookup and the vendor's lists on the wire (docs/protocol.md §6.2, §6.5): exactly Altinn's
fields and statuses, parameter names in any case, paging by the continuation token."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from portvakt.domain.audit import Actor
from portvakt.domain.models import SystemUserType
from portvakt.domain.systemregister import (
    REQUEST_READ,
    REQUEST_WRITE,
    SYSTEMREGISTER_ADMIN,
    SYSTEMREGISTER_WRITE,
    SYSTEMUSER_LOOKUP,
)
from portvakt.domain.systemusers import approve_request
from tests.altinn.systems import SYSTEM_ID
from tests.altinn.test_systemusers import CLIENT_ID, put_request, put_system
from tests.api.altinn.conftest import Altinn
from tests.conftest import CONSUMER, OPERATOR, OTHER, PROVIDER, VENDOR, World

BASE = "/authentication/api/v1/systemuser"
LOOKUP = f"{BASE}/byExternalId"


def approved(world: World, party: str = CONSUMER, external_ref: str = "", request_id: str | None = None,
             system_id: str = SYSTEM_ID) -> str:
    """A system user approved for `party`: its id."""
    request = put_request(world.store, world.clock.now(), party=party, external_ref=external_ref,
                          request_id=request_id, system_id=system_id)
    with world.store.begin() as uow:
        return approve_request(uow, request.request_id, party, SystemUserType.STANDARD,
                               Actor(party, "portvakt-portal", "someone"), world.clock.now()).system_user_id


@pytest.fixture
def system(world: World) -> None:
    put_system(world.store, world.clock.now())


def look(altinn: Altinn, query: str, scopes: tuple[str, ...] = (SYSTEMUSER_LOOKUP,)) -> Any:
    return altinn("GET", f"{LOOKUP}?{query}", OPERATOR, scopes)


def test_the_lookup_answers_the_external_dto(altinn: Altinn, world: World, system: None) -> None:
    user_id = approved(world)
    r = look(altinn, f"clientId={CLIENT_ID}&systemProviderOrgNo={VENDOR}&systemUserOwnerOrgNo={CONSUMER}")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert r.json() == {"id": user_id, "integrationTitle": "Regnskap Pluss", "systemId": SYSTEM_ID,
                        "productName": SYSTEM_ID, "reporteeOrgNo": CONSUMER, "created": r.json()["created"],
                        "isDeleted": False, "supplierName": "Vendor", "supplierOrgno": VENDOR,
                        "externalRef": CONSUMER, "userType": "standard"}


def test_parameter_names_in_any_case_and_the_external_ref(altinn: Altinn, world: World, system: None) -> None:
    own = approved(world)
    named = approved(world, external_ref="ref-2", request_id="named")
    base = f"clientid={CLIENT_ID}&SYSTEMPROVIDERORGNO={VENDOR}&systemuserownerorgno={CONSUMER}"
    assert look(altinn, base).json()["id"] == own
    assert look(altinn, base + "&externalRef=").json()["id"] == own
    assert look(altinn, base + f"&EXTERNALREF={CONSUMER}").json()["id"] == own
    assert look(altinn, base + "&externalref=ref-2").json()["id"] == named
    r = altinn("GET", f"{BASE}/byexternalid?{base}", OPERATOR, (SYSTEMUSER_LOOKUP,))
    assert r.status_code == 200 and r.json()["id"] == own


@pytest.mark.parametrize("query", [
    f"clientId=another&systemProviderOrgNo={VENDOR}&systemUserOwnerOrgNo={CONSUMER}",
    f"clientId={CLIENT_ID}&systemProviderOrgNo={OTHER}&systemUserOwnerOrgNo={CONSUMER}",
    f"clientId={CLIENT_ID}&systemProviderOrgNo={VENDOR}&systemUserOwnerOrgNo={OTHER}",
    f"clientId={CLIENT_ID}&systemProviderOrgNo={VENDOR}&systemUserOwnerOrgNo={CONSUMER}&externalRef=nope",
    f"clientId={CLIENT_ID.upper()}&systemProviderOrgNo={VENDOR}&systemUserOwnerOrgNo={CONSUMER}",
])
def test_no_match_is_404_without_a_body(altinn: Altinn, world: World, system: None, query: str) -> None:
    approved(world)
    r = look(altinn, query)
    assert (r.status_code, r.content, r.headers["cache-control"]) == (404, b"", "no-store")


@pytest.mark.parametrize(("query", "paths"), [
    ("", ["/clientId", "/systemProviderOrgNo", "/systemUserOwnerOrgNo"]),
    (f"clientId=&systemProviderOrgNo={VENDOR}&systemUserOwnerOrgNo={CONSUMER}", ["/clientId"]),
    (f"clientId={CLIENT_ID}&systemUserOwnerOrgNo={CONSUMER}", ["/systemProviderOrgNo"]),
])
def test_a_missing_parameter_is_400(altinn: Altinn, world: World, query: str, paths: list[str]) -> None:
    r = look(altinn, query)
    body = r.json()
    assert (r.status_code, body["code"]) == (400, "STD-00000")
    assert [(e["code"], e["paths"]) for e in body["validationErrors"]] == [("STD.VLD-00000", [p]) for p in paths]


@pytest.mark.parametrize("query", [
    f"clientId={CLIENT_ID}&systemProviderOrgNo=123&systemUserOwnerOrgNo={CONSUMER}",
    f"clientId={'x' * 301}&systemProviderOrgNo={VENDOR}&systemUserOwnerOrgNo={CONSUMER}",
])
def test_a_malformed_parameter_is_400(altinn: Altinn, world: World, query: str) -> None:
    r = look(altinn, query)
    assert r.status_code == 400 and r.json()["validationErrors"][0]["code"] == "STD.VLD-00002"
    assert "x" * 50 not in r.text


def test_the_lookup_needs_its_scope(altinn: Altinn, world: World) -> None:
    query = f"clientId={CLIENT_ID}&systemProviderOrgNo={VENDOR}&systemUserOwnerOrgNo={CONSUMER}"
    assert look(altinn, query, (REQUEST_READ,)).status_code == 403
    assert altinn("GET", f"{LOOKUP}?{query}", None).status_code == 401


def test_the_lookup_skips_a_deleted_system(altinn: Altinn, world: World, system: None) -> None:
    approved(world)
    put_system(world.store, world.clock.now(), deleted=True)
    r = look(altinn, f"clientId={CLIENT_ID}&systemProviderOrgNo={VENDOR}&systemUserOwnerOrgNo={CONSUMER}")
    assert r.status_code == 404


# The vendor's lists (docs/protocol.md §6.2).

def test_byquery_finds_the_vendors_system_user(altinn: Altinn, world: World, system: None) -> None:
    own = approved(world)
    named = approved(world, external_ref="ref-2", request_id="named")
    path = f"{BASE}/vendor/byquery?system-id={SYSTEM_ID}&orgno={CONSUMER}"
    r = altinn("GET", path, VENDOR, (REQUEST_WRITE,))
    assert r.status_code == 200 and r.json()["id"] == own and r.json()["productName"] == "Regnskap Pluss"
    assert altinn("GET", path + "&external-ref=ref-2", VENDOR, (REQUEST_WRITE,)).json()["id"] == named
    missing = altinn("GET", path + "&external-ref=nope", VENDOR, (REQUEST_WRITE,))
    assert (missing.status_code, missing.json()["code"]) == (404, "AUTH-00015")
    theirs = altinn("GET", path, OTHER, (REQUEST_WRITE,))
    assert (theirs.status_code, theirs.json()["code"]) == (404, "AUTH-00011")
    assert altinn("GET", path, VENDOR, (REQUEST_READ,)).status_code == 403
    bad = altinn("GET", f"{BASE}/vendor/byquery?orgno={CONSUMER}", VENDOR, (REQUEST_WRITE,))
    assert bad.status_code == 400 and bad.json()["validationErrors"][0]["paths"] == ["/system-id"]


def test_bysystem_pages_by_fifty(altinn: Altinn, world: World, system: None) -> None:
    ids = [approved(world, external_ref=f"ref-{i:02d}", request_id=f"r{i:02d}") for i in range(53)]
    path = f"{BASE}/vendor/bysystem/{SYSTEM_ID}"
    first = altinn("GET", path, VENDOR, (SYSTEMREGISTER_WRITE,))
    assert first.status_code == 200
    page = first.json()
    assert [u["id"] for u in page["data"]] == ids[:50] and page["data"][0]["productName"] == "Regnskap Pluss"
    next_url = page["links"]["next"]
    token = next_url.split("token=")[1]
    with world.store.read() as uow:
        fiftieth = uow.get_system_user(ids[49])
    assert fiftieth is not None
    assert base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)) == str(fiftieth.seq).encode()
    second = altinn("GET", next_url.replace("http://portvakt.test", ""), VENDOR, (SYSTEMREGISTER_WRITE,)).json()
    assert [u["id"] for u in second["data"]] == ids[50:] and second["links"] == {}


def test_bysystem_refusals(altinn: Altinn, world: World, system: None) -> None:
    approved(world)
    path = f"{BASE}/vendor/bysystem/{SYSTEM_ID}"
    theirs = altinn("GET", path, OTHER, (SYSTEMREGISTER_WRITE,))
    assert (theirs.status_code, theirs.json()["code"]) == (404, "AUTH-00011")
    assert len(altinn("GET", path, PROVIDER, (SYSTEMREGISTER_ADMIN,)).json()["data"]) == 1
    assert altinn("GET", path, VENDOR, (REQUEST_WRITE,)).status_code == 403
    for token in ("not-base64!", "eyJ4IjoxfQ", "LTE", "x" * 100):
        r = altinn("GET", f"{path}?token={token}", VENDOR, (SYSTEMREGISTER_WRITE,))
        assert r.status_code == 400 and r.json()["validationErrors"][0]["paths"] == ["/token"], token
    put_system(world.store, world.clock.now(), deleted=True)
    gone = altinn("GET", path, VENDOR, (SYSTEMREGISTER_WRITE,))
    assert (gone.status_code, gone.json()["code"]) == (404, "AUTH-00011")
