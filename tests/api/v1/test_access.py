"""/api/v1/scopes/access on the wire (docs/protocol.md §3.4 ACL, §4.4 for_consumer), and its effect on /token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from portvakt.domain.models import Visibility
from portvakt.domain.orgno import is_valid_orgno
from tests.conftest import CONSUMER, OTHER, PROVIDER, VENDOR, World

SW = ("idporten:scopes.write",)
#: Any admin scope: what /scopes/access/all needs.
RD = ("idporten:dcr.read",)
Api = Callable[..., Any]
READ = {"scope": "brreg:test/read"}
ENTRY = {"scope", "state", "prefix", "created", "consumer_orgno", "last_updated", "owner_orgno"}
UNREGISTERED = next(str(n) for n in range(100000000, 100001000) if is_valid_orgno(str(n)))


def invalid(r: Any, field: str) -> None:
    assert r.status_code == 400, r.text
    assert r.json()["type"] == "/problems/invalid"
    assert field in [e["field"] for e in r.json()["errors"]], r.json()


def usable(r: Any) -> list[str]:
    assert r.status_code == 200, r.text
    return [a["scope"] for a in r.json()]


def refused_code(r: Any) -> str:
    return str(r.json()["error_uri"]).rsplit("/", 1)[-1]


def test_grant(api: Api) -> None:
    r = api("PUT", f"/scopes/access/{OTHER}", PROVIDER, SW, params=READ)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == ENTRY
    assert (body["scope"], body["state"], body["prefix"], body["consumer_orgno"], body["owner_orgno"]) == \
        ("brreg:test/read", "APPROVED", "brreg", OTHER, PROVIDER)


def test_regrant_keeps_created(api: Api, world: World) -> None:
    first = api("PUT", f"/scopes/access/{OTHER}", PROVIDER, SW, params=READ).json()
    world.clock.advance(3)
    again = api("PUT", f"/scopes/access/{OTHER}", PROVIDER, SW, params=READ).json()
    assert again["created"] == first["created"] and again["last_updated"] != first["last_updated"]


def test_access_list(api: Api) -> None:
    api("PUT", f"/scopes/access/{OTHER}", PROVIDER, SW, params=READ)
    r = api("GET", "/scopes/access", PROVIDER, SW, params=READ)
    assert r.status_code == 200
    assert [(a["consumer_orgno"], a["state"]) for a in r.json()] == [(VENDOR, "APPROVED"), (OTHER, "APPROVED")]


def test_revoke_leaves_a_denied_entry(api: Api) -> None:
    r = api("DELETE", f"/scopes/access/{VENDOR}", PROVIDER, SW, params=READ)
    assert r.status_code == 200 and r.json()["state"] == "DENIED" and set(r.json()) == ENTRY
    acl = api("GET", "/scopes/access", PROVIDER, SW, params=READ).json()
    assert [(a["consumer_orgno"], a["state"]) for a in acl] == [(VENDOR, "DENIED")]
    assert api("DELETE", f"/scopes/access/{VENDOR}", PROVIDER, SW, params=READ).json()["state"] == "DENIED"
    assert "brreg:test/read" not in usable(api("GET", "/scopes/access/all", VENDOR, RD))


def test_revoke_of_an_org_not_on_the_list_is_404(api: Api) -> None:
    r = api("DELETE", f"/scopes/access/{OTHER}", PROVIDER, SW, params=READ)
    assert r.status_code == 404 and r.json()["type"] == "/problems/not-found"


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize("orgno", ["123", "123456789", "31433089x", "3143308970", UNREGISTERED, "٣١٤٣٣٠٨٩٧"])
def test_consumer_must_be_a_registered_valid_orgno(api: Api, method: str, orgno: str) -> None:
    invalid(api(method, f"/scopes/access/{orgno}", PROVIDER, SW, params=READ), "consumer_orgno")


@pytest.mark.parametrize(("method", "path"), [("GET", "/scopes/access"), ("PUT", f"/scopes/access/{OTHER}"),
                                              ("DELETE", f"/scopes/access/{VENDOR}")])
def test_scope_parameter(api: Api, method: str, path: str) -> None:
    invalid(api(method, path, PROVIDER, SW), "scope")
    invalid(api(method, path, PROVIDER, SW, params={"scope": "no-colon"}), "scope")


def test_grant_and_revoke_reach_token_at_once(api: Api, world: World) -> None:
    delegable = "brreg:test/delegable"
    assert refused_code(world.post(world.grant(scope=delegable))) == "MP-250"
    assert api("PUT", f"/scopes/access/{VENDOR}", PROVIDER, SW, params={"scope": delegable}).status_code == 200
    assert world.post(world.grant(scope=delegable)).status_code == 200
    assert api("DELETE", f"/scopes/access/{VENDOR}", PROVIDER, SW, params={"scope": delegable}).status_code == 200
    r = world.post(world.grant(scope=delegable))
    assert r.status_code == 403 and refused_code(r) == "MP-250"


def test_my_usable_scopes(api: Api, world: World) -> None:
    r = api("GET", "/scopes/access/all", VENDOR, RD)
    assert usable(r) == ["brreg:test/open", "brreg:test/read", "brreg:test/short"]
    assert all(set(a) == ENTRY and a["state"] == "APPROVED" and a["consumer_orgno"] == VENDOR for a in r.json())
    assert usable(api("GET", "/scopes/access/all", PROVIDER, RD)) == [
        "brreg:test/delegable", "brreg:test/open", "brreg:test/read", "brreg:test/short", "brreg:test/virksys"]
    assert "brreg:test/virksys" not in usable(api("GET", "/scopes/access/all", PROVIDER, RD,
                                                  params={"integration_type": "maskinporten"}))
    invalid(api("GET", "/scopes/access/all", PROVIDER, RD, params={"integration_type": "nope"}), "integration_type")


def test_usable_scopes_follow_state_and_activity(api: Api, world: World) -> None:
    api("DELETE", "/scopes", PROVIDER, SW, params=READ)
    assert "brreg:test/read" not in usable(api("GET", "/scopes/access/all", VENDOR, RD))
    assert "brreg:test/read" in usable(api("GET", "/scopes/access/all", VENDOR, RD, params={"inactive": "true"}))
    with world.change() as uow:
        s = uow.get_scope("brreg:test/open")
        uow.put_scope(replace(s, visibility=Visibility.PRIVATE))
        uow.record_change("scope", s.name)
    assert "brreg:test/open" not in usable(api("GET", "/scopes/access/all", VENDOR, RD))
    assert "brreg:test/open" in usable(api("GET", "/scopes/access/all", PROVIDER, RD))


def test_for_consumer(api: Api) -> None:
    """Altinn (dcr.supplier) asks which scopes a vendor may use: the vendor's own /scopes/access/all."""
    mine = api("GET", "/scopes/access/all", VENDOR, RD).json()
    r = api("GET", "/scopes/access/for_consumer", OTHER, ("idporten:dcr.supplier", "idporten:dcr.write"),
            params={"consumer_org": VENDOR})
    assert r.status_code == 200 and r.json() == mine
    assert usable(api("GET", "/scopes/access/for_consumer", OTHER, ("idporten:dcr.supplier",),
                      params={"consumer_org": CONSUMER})) == ["brreg:test/delegable", "brreg:test/open"]


@pytest.mark.parametrize("scopes", [(), SW, ("idporten:dcr.write", "idporten:dcr.read", "idporten:dcr.modify")])
def test_for_consumer_needs_dcr_supplier(api: Api, scopes: tuple[str, ...]) -> None:
    r = api("GET", "/scopes/access/for_consumer", OTHER, scopes, params={"consumer_org": VENDOR})
    assert r.status_code == 403 and VENDOR not in r.text


@pytest.mark.parametrize("orgno", [None, "123", "123456789", UNREGISTERED, "x" * 21])
def test_for_consumer_validates_the_orgno(api: Api, orgno: str | None) -> None:
    params = {} if orgno is None else {"consumer_org": orgno}
    invalid(api("GET", "/scopes/access/for_consumer", OTHER, ("idporten:dcr.supplier",), params=params),
            "consumer_org")
