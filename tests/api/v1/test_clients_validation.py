"""Every validation rule of /api/v1/clients (docs/protocol.md §3.2): 400 `/problems/invalid` naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from portvakt.domain import usecases as uc
from portvakt.domain.models import AccessState
from tests.api.v1.test_clients import WRITE, Api, create, invalid
from tests.conftest import CONSUMER, OP, OTHER, VENDOR, World

JWT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def post(api: Api, token: tuple[str, ...] = (WRITE,), **fields: Any) -> Any:
    return api("POST", "/clients", VENDOR, token, json={"client_name": "x", **fields})


@pytest.mark.parametrize(("fields", "field"), [
    ({"client_name": ""}, "client_name"),
    ({"client_name": "   "}, "client_name"),
    ({"client_name": 42}, "client_name"),
    ({"client_name": "x" * 201}, "client_name"),
    ({"description": "x" * 2001}, "description"),
    ({"description": None}, "description"),
    ({"client_uri": "ftp://nope"}, "client_uri"),
    ({"integration_type": "idporten"}, "integration_type"),
    ({"application_type": "native"}, "application_type"),
    ({"token_endpoint_auth_method": "client_secret_basic"}, "token_endpoint_auth_method"),
    ({"grant_types": ["client_credentials"]}, "grant_types"),
    ({"grant_types": [JWT, "refresh_token"]}, "grant_types"),
    ({"grant_types": []}, "grant_types"),
    ({"access_token_lifetime": -1}, "access_token_lifetime"),
    ({"access_token_lifetime": "120"}, "access_token_lifetime"),
    ({"access_token_lifetime": True}, "access_token_lifetime"),
    ({"scopes": "brreg:test/open"}, "scopes"),
    ({"scopes": ["brreg:nope"]}, "scopes"),
    ({"scopes": ["brreg:test/virksys"]}, "scopes"),
    ({"scopes": ["brreg:test/open"], "scope": ["brreg:test/read"]}, "scopes"),
    ({"client_id": "my-own-id"}, "client_id"),
    ({"created": "2020-01-01T00:00:00Z"}, "created"),
    ({"active": False}, "active"),
    ({"supplier_orgno": CONSUMER}, "supplier_orgno"),
])
def test_create_rule(api: Api, fields: dict[str, Any], field: str) -> None:
    invalid(post(api, **fields), field)


def test_client_name_is_required(api: Api) -> None:
    invalid(api("POST", "/clients", VENDOR, (WRITE,), json={"scopes": []}), "client_name")


def test_scope_must_be_accessible_to_the_client_org(api: Api) -> None:
    """brreg:test/read is APPROVED for VENDOR only: OTHER may not register it."""
    body = invalid(api("POST", "/clients", OTHER, (WRITE,), json={"client_name": "x", "scopes": ["brreg:test/read"]}),
                   "scopes")
    assert OTHER in body["detail"] and "brreg:test/read" in body["detail"]


def test_scope_not_allowed_for_the_integration_type_names_it(api: Api) -> None:
    body = invalid(post(api, scopes=["brreg:test/virksys"]), "scopes")
    assert "integration type maskinporten" in body["detail"]


def test_delegation_scope_needs_no_access(api: Api) -> None:
    """docs/protocol.md §3.2: a supplier registers a delegable scope without ACL access of its own."""
    with_delegation = post(api, scopes=["brreg:test/delegable"])
    assert with_delegation.status_code == 201


@pytest.mark.parametrize(("fields", "field"), [
    ({"application_type": "browser"}, "application_type"),
    ({"token_endpoint_auth_method": "none"}, "token_endpoint_auth_method"),
    ({"grant_types": ["client_credentials"]}, "grant_types"),
])
def test_altinn_virksys_combination_is_fixed(api: Api, fields: dict[str, Any], field: str) -> None:
    body = invalid(post(api, integration_type="altinn_virksys", **fields), field)
    assert field in body["detail"] and "altinn_virksys" in body["detail"] and "fixed" in body["detail"]
    assert "private_key_jwt" in body["detail"] and "web" in body["detail"]


def test_supplier_client_orgno_must_be_valid(api: Api) -> None:
    invalid(post(api, ("idporten:dcr.supplier",), client_orgno="123456789"), "client_orgno")
    invalid(post(api, ("idporten:dcr.supplier",), client_orgno="974760674"), "client_orgno")
    invalid(post(api, ("idporten:dcr.supplier",), client_orgno="889640782"), "client_orgno")  # valid, unknown


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_integration_type_cannot_change(api: Api, world: World, method: str) -> None:
    r = api(method, f"/clients/{world.client_id}", VENDOR, (WRITE,),
            json={"client_name": "x", "integration_type": "altinn_virksys"})
    body = invalid(r, "integration_type")
    assert "cannot change" in body["detail"]


@pytest.mark.parametrize(("fields", "field"), [
    ({"client_orgno": CONSUMER}, "client_orgno"),
    ({"client_id": "another"}, "client_id"),
    ({"supplier_orgno": CONSUMER}, "supplier_orgno"),
    ({"created": "2001-01-01T00:00:00Z"}, "created"),
    ({"last_updated": "2001-01-01T00:00:00Z"}, "last_updated"),
    ({"active": False}, "active"),
    ({"client_name": None}, "client_name"),
    ({"application_type": "native"}, "application_type"),
    ({"scopes": ["brreg:test/virksys"]}, "scopes"),
])
def test_patch_rule(api: Api, world: World, fields: dict[str, Any], field: str) -> None:
    invalid(api("PATCH", f"/clients/{world.client_id}", VENDOR, (WRITE,), json=fields), field)


@pytest.mark.parametrize(("query", "field"), [
    ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=x", "limit"),
    ("client_orgno=12345", "client_orgno"), ("integration_type=idporten", "integration_type"),
    ("inactive=maybe", "inactive"), ("after=" + "x" * 101, "after"),
])
def test_list_query_rule(api: Api, query: str, field: str) -> None:
    invalid(api("GET", f"/clients?{query}", VENDOR), field)


@pytest.mark.parametrize("content", [b"[]", b'"x"', b"null"])
def test_body_that_is_not_an_object_is_400(api: Api, content: bytes) -> None:
    r = api("POST", "/clients", VENDOR, (WRITE,), content=content, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["type"] == "/problems/invalid"


def test_body_that_is_not_json_is_400_malformed(api: Api) -> None:
    r = api("POST", "/clients", VENDOR, (WRITE,), content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["type"] == "/problems/malformed"


def test_kept_scope_that_became_inaccessible_does_not_block_other_changes(api: Api, world: World) -> None:
    """Decision: scopes the client already has are not re-checked; only added scopes are."""
    with world.change() as uow:
        uc.set_access(uow, "brreg:test/read", VENDOR, AccessState.DENIED, OP, world.clock.now())
    path = f"/clients/{world.client_id}"
    r = api("PATCH", path, VENDOR, (WRITE,), json={"description": "unrelated change"})
    assert r.status_code == 200 and "brreg:test/read" in r.json()["scopes"]
    kept = r.json()["scopes"]
    r = api("PUT", path, VENDOR, (WRITE,), json={"client_name": "x", "scopes": [*kept, "brreg:test/delegable"]})
    assert r.status_code == 200
    r = api("PATCH", path, VENDOR, (WRITE,), json={"scopes": ["brreg:test/open"]})
    assert r.json()["scopes"] == ["brreg:test/open"]
    invalid(api("PATCH", path, VENDOR, (WRITE,), json={"scopes": ["brreg:test/open", "brreg:test/read"]}), "scopes")


def test_refused_change_changes_nothing(api: Api, world: World) -> None:
    path = f"/clients/{world.client_id}"
    before = api("GET", path, VENDOR).json()
    invalid(api("PUT", path, VENDOR, (WRITE,), json={"client_name": "new", "scopes": ["brreg:nope"]}), "scopes")
    assert api("GET", path, VENDOR).json() == before


def test_second_create_with_same_body_makes_a_new_client(api: Api) -> None:
    assert create(api)["client_id"] != create(api)["client_id"]
