"""/api/v1/scopes on the wire (docs/protocol.md §3.4): create, read, replace, deactivate, and each validation rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from portvakt.domain.models import DelegationSource
from tests.conftest import PROVIDER, VENDOR, World

SW = ("idporten:scopes.write",)
Api = Callable[..., Any]
NEW = {"prefix": "brreg", "subscope": "new/api.v2", "description": "A new API"}


def invalid(r: Any, field: str) -> None:
    """400 /problems/invalid with an entry naming the field."""
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["type"] == "/problems/invalid"
    assert any(e["field"] == field or e["field"].startswith(f"{field}.") for e in body["errors"]), body


def add_source(world: World, issuer: str = "https://altinn.example/") -> None:
    """Register a delegation source (docs/protocol.md §3.4 /delegationsources)."""
    now = world.clock.now()
    with world.change() as uow:
        uow.put_delegation_source(DelegationSource("altinn", issuer, now, now))


def test_create_scope(api: Api, world: World) -> None:
    r = api("POST", "/scopes", PROVIDER, SW, json=NEW)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["name"] == "brreg:new/api.v2" and body["prefix"] == "brreg" and body["subscope"] == "new/api.v2"
    assert body["owner_orgno"] == PROVIDER and body["active"] is True and body["token_type"] == "SELF_CONTAINED"
    assert body["visibility"] == "PUBLIC" and body["at_max_age"] == 0 and body["accessible_for_all"] is False
    assert body["allowed_integration_types"] == [] and body["delegation_source"] is None
    assert body["created"] == body["last_updated"]
    assert api("GET", "/scopes", PROVIDER, SW, params={"scope": "brreg:new/api.v2"}).json() == body


def test_create_with_all_attributes(api: Api, world: World) -> None:
    add_source(world)
    r = api("POST", "/scopes", PROVIDER, SW, json={
        **NEW, "long_description": "# API", "visibility": "PRIVATE", "at_max_age": 60,
        "allowed_integration_types": ["altinn_virksys"], "accessible_for_all": True,
        "delegation_source": "https://altinn.example/", "token_type": "SELF_CONTAINED"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["visibility"], body["at_max_age"], body["delegation_source"]) == \
        ("PRIVATE", 60, "https://altinn.example/")
    assert body["allowed_integration_types"] == ["altinn_virksys"] and body["accessible_for_all"] is True


def test_list_own_scopes(api: Api) -> None:
    r = api("GET", "/scopes", PROVIDER, SW)
    assert r.status_code == 200
    assert [s["name"] for s in r.json()] == ["brreg:test/delegable", "brreg:test/open", "brreg:test/read",
                                             "brreg:test/short", "brreg:test/virksys"]


def test_update_scope(api: Api, world: World) -> None:
    before = api("GET", "/scopes", PROVIDER, SW, params={"scope": "brreg:test/read"}).json()
    world.clock.advance(5)
    r = api("PUT", "/scopes", PROVIDER, SW, params={"scope": "brreg:test/read"},
            json={"description": "Changed", "at_max_age": 45})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["description"] == "Changed" and body["at_max_age"] == 45 and body["active"] is True
    assert body["created"] == before["created"] and body["last_updated"] != before["last_updated"]


def test_put_accepts_what_get_returned(api: Api) -> None:
    """digdirator PUTs the scope it read, with the read-only fields still in it."""
    got = api("GET", "/scopes", PROVIDER, SW, params={"scope": "brreg:test/delegable"}).json()
    r = api("PUT", "/scopes", PROVIDER, SW, params={"scope": "brreg:test/delegable"},
            json={**got, "requires_user_consent": False, "authorization_max_lifetime": 0})
    assert r.status_code == 200, r.text
    assert r.json()["delegation_source"] == got["delegation_source"]


def test_delete_deactivates_and_keeps_access(api: Api, world: World) -> None:
    assert world.post(world.grant()).status_code == 200
    r = api("DELETE", "/scopes", PROVIDER, SW, params={"scope": "brreg:test/read"})
    assert r.status_code == 200 and r.json()["active"] is False
    assert "brreg:test/read" not in [s["name"] for s in api("GET", "/scopes", PROVIDER, SW).json()]
    listed = api("GET", "/scopes", PROVIDER, SW, params={"inactive": "true"}).json()
    assert [s["active"] for s in listed if s["name"] == "brreg:test/read"] == [False]
    acl = api("GET", "/scopes/access", PROVIDER, SW, params={"scope": "brreg:test/read"}).json()
    assert [(a["consumer_orgno"], a["state"]) for a in acl] == [(VENDOR, "APPROVED")]
    assert world.post(world.grant()).json()["error_uri"].endswith("MP-200")
    again = api("DELETE", "/scopes", PROVIDER, SW, params={"scope": "brreg:test/read"})
    assert again.status_code == 200 and again.json() == r.json()


def test_put_active_reactivates(api: Api, world: World) -> None:
    api("DELETE", "/scopes", PROVIDER, SW, params={"scope": "brreg:test/read"})
    r = api("PUT", "/scopes", PROVIDER, SW, params={"scope": "brreg:test/read"},
            json={"description": "Back", "active": True})
    assert r.status_code == 200 and r.json()["active"] is True
    assert world.post(world.grant()).status_code == 200


@pytest.mark.parametrize("deactivated", [False, True])
def test_repost_is_conflict(api: Api, deactivated: bool) -> None:
    if deactivated:
        api("DELETE", "/scopes", PROVIDER, SW, params={"scope": "brreg:test/read"})
    r = api("POST", "/scopes", PROVIDER, SW, json={"prefix": "brreg", "subscope": "test/read", "description": "x"})
    assert r.status_code == 409 and r.json()["type"] == "/problems/conflict"


def test_post_under_a_prefix_of_another_org_is_forbidden(api: Api) -> None:
    for sub in ("test/read", "brand/new"):
        r = api("POST", "/scopes", VENDOR, SW, json={"prefix": "brreg", "subscope": sub, "description": "x"})
        assert r.status_code == 403 and "prefix brreg" in r.json()["detail"]


def test_changes_need_scopes_write(api: Api) -> None:
    assert api("POST", "/scopes", PROVIDER, ("idporten:dcr.write",), json=NEW).status_code == 403


def test_delegation_source_must_be_registered(api: Api, world: World) -> None:
    invalid(api("POST", "/scopes", PROVIDER, SW, json={**NEW, "delegation_source": "https://nope/"}),
            "delegation_source")
    add_source(world)
    assert api("POST", "/scopes", PROVIDER, SW,
               json={**NEW, "delegation_source": "https://altinn.example/"}).status_code == 201
    invalid(api("PUT", "/scopes", PROVIDER, SW, params={"scope": "brreg:test/read"},
                json={"description": "x", "delegation_source": "https://nope/"}), "delegation_source")


@pytest.mark.parametrize(("change", "field"), [
    ({"description": None}, "description"),
    ({"description": "   "}, "description"),
    ({"description": "a\x00b"}, "description"),
    ({"prefix": "Brreg"}, "prefix"),
    ({"prefix": "brreg\n"}, "prefix"),
    ({"prefix": "b" * 65}, "prefix"),
    ({"subscope": "/leading"}, "subscope"),
    ({"subscope": "with space"}, "subscope"),
    ({"subscope": "colon:inside"}, "subscope"),
    ({"subscope": "x" * 129}, "subscope"),
    ({"visibility": "SECRET"}, "visibility"),
    ({"at_max_age": -1}, "at_max_age"),
    ({"at_max_age": 2**40}, "at_max_age"),
    ({"at_max_age": "soon"}, "at_max_age"),
    ({"at_max_age": True}, "at_max_age"),
    ({"at_max_age": "60"}, "at_max_age"),
    ({"allowed_integration_types": ["idporten"]}, "allowed_integration_types"),
    ({"allowed_integration_types": "maskinporten"}, "allowed_integration_types"),
    ({"accessible_for_all": "sometimes"}, "accessible_for_all"),
    ({"accessible_for_all": 1}, "accessible_for_all"),
    ({"token_type": "OPAQUE"}, "token_type"),
    ({"requires_user_consent": True}, "requires_user_consent"),
    ({"accesible_for_all": True}, "accesible_for_all"),
    ({"name": "brreg:other"}, "name"),
    ({"long_description": "x" * 10_001}, "long_description"),
])
def test_post_validation(api: Api, change: dict[str, Any], field: str) -> None:
    body = {k: v for k, v in {**NEW, **change}.items() if v is not None}
    invalid(api("POST", "/scopes", PROVIDER, SW, json=body), field)


@pytest.mark.parametrize(("change", "field"), [
    ({"prefix": "other"}, "prefix"), ({"subscope": "test/renamed"}, "subscope"), ({"name": "brreg:renamed"}, "name"),
    ({}, "description"), ({"at_max_age": -5}, "at_max_age"),
])
def test_put_validation_name_is_immutable(api: Api, change: dict[str, Any], field: str) -> None:
    body = {"description": "x", **change} if field != "description" else change
    invalid(api("PUT", "/scopes", PROVIDER, SW, params={"scope": "brreg:test/read"}, json=body), field)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("name", ["noprefix", "brreg:", ":sub", "brreg:test\n", "brreg:a b", "x" * 201, "BR:x"])
def test_bad_scope_parameter(api: Api, method: str, name: str) -> None:
    invalid(api(method, "/scopes", PROVIDER, SW, params={"scope": name}, json={"description": "x"}), "scope")


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_scope_parameter_is_required(api: Api, method: str) -> None:
    invalid(api(method, "/scopes", PROVIDER, SW, json={"description": "x"}), "scope")


def test_unreadable_body_is_400_not_500(api: Api) -> None:
    r = api("POST", "/scopes", PROVIDER, SW, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert api("POST", "/scopes", PROVIDER, SW, json=[1, 2]).status_code == 400


def test_token_sees_changes_at_once(api: Api, world: World) -> None:
    """A scope's at_max_age changed through the API caps the next token (docs/protocol.md §2.3)."""
    api("PUT", "/scopes", PROVIDER, SW, params={"scope": "brreg:test/read"}, json={"description": "x", "at_max_age": 7})
    world.clock.advance(1)
    assert world.post(world.grant()).json()["expires_in"] == 7


def test_long_scope_parameter_is_refused_by_the_schema(api: Api) -> None:
    r = api("GET", "/scopes", PROVIDER, SW, params={"scope": "brreg:" + "a" * 200})
    invalid(r, "scope")
    assert r.json()["detail"] == "the request does not match the schema"
