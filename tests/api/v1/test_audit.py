"""GET /api/v1/audit: every change made through the API, visible to the orgs involved and no one else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from tests.api.v1.conftest import ALL_DCR
from tests.conftest import CONSUMER, OTHER, PROVIDER, VENDOR, World

SW = "idporten:scopes.write"
Api = Callable[..., Any]
DCR_READ = "idporten:dcr.read"
TOKENS = pytest.mark.parametrize("scopes", [(DCR_READ,), (SW,), ALL_DCR, (*ALL_DCR, SW)],
                                 ids=["read", "sw", "dcr", "both"])
READ = "brreg:test/read"


def events(api: Api, orgno: str, scopes: tuple[str, ...] = (DCR_READ,), **params: Any) -> list[dict[str, Any]]:
    r = api("GET", "/audit", orgno, scopes, params=params)
    assert r.status_code == 200, r.text
    return list(r.json())


def test_access_change_is_seen_by_owner_and_consumer_only(api: Api) -> None:
    assert api("PUT", f"/scopes/access/{OTHER}", PROVIDER, (SW,), params={"scope": READ}).status_code == 200
    key = f"{READ}|{OTHER}"
    owner = events(api, PROVIDER, entity_key=key)
    consumer = events(api, OTHER, entity_key=key)
    assert [e["action"] for e in owner] == [e["action"] for e in consumer] == ["access.put"]
    e = owner[0]
    assert (e["actor_orgno"], e["actor_client_id"], e["entity_kind"]) == (PROVIDER, f"admin-{PROVIDER}", "access")
    assert e["before"] is None and e["after"]["state"] == "APPROVED" and e["org_scope"] == sorted([PROVIDER, OTHER])
    assert consumer[0]["actor_client_id"] is None, "another org's admin client is not shown"
    assert events(api, CONSUMER, entity_key=key) == []
    assert all(OTHER not in ev["org_scope"] for ev in events(api, CONSUMER, limit=1000))


def test_scope_changes_are_the_owners(api: Api, world: World) -> None:
    api("POST", "/scopes", PROVIDER, (SW,), json={"prefix": "brreg", "subscope": "audited", "description": "A"})
    world.clock.advance(1)
    api("DELETE", "/scopes", PROVIDER, (SW,), params={"scope": "brreg:audited"})
    got = events(api, PROVIDER, entity_kind="scope", entity_key="brreg:audited")
    assert [e["action"] for e in got] == ["scope.deactivate", "scope.create"], "newest first"
    assert got[0]["before"]["active"] is True and got[0]["after"]["active"] is False
    for other in (VENDOR, CONSUMER, OTHER):
        assert events(api, other, entity_kind="scope") == []


def test_revoke_is_recorded_for_both(api: Api) -> None:
    api("DELETE", f"/scopes/access/{VENDOR}", PROVIDER, (SW,), params={"scope": READ})
    for orgno in (PROVIDER, VENDOR):
        got = events(api, orgno, entity_kind="access", limit=1)
        assert got[0]["action"] == "access.revoke" and got[0]["after"]["state"] == "DENIED"
        assert got[0]["before"]["state"] == "APPROVED"


def test_filters(api: Api, world: World) -> None:
    everything = events(api, PROVIDER, limit=1000)
    assert len(everything) > 5
    assert [e["seq"] for e in everything] == sorted((e["seq"] for e in everything), reverse=True)
    assert len(events(api, PROVIDER, limit=2)) == 2
    assert {e["entity_kind"] for e in events(api, PROVIDER, entity_kind="prefix")} == {"prefix"}
    later = world.clock.now() + timedelta(seconds=30)
    assert events(api, PROVIDER, since=later.isoformat()) == []
    assert events(api, PROVIDER, since=later.replace(tzinfo=None).isoformat()) == []
    assert len(events(api, PROVIDER, since="2000-01-01T00:00:00Z", limit=1000)) == len(everything)
    world.clock.advance(60)
    api("PUT", f"/scopes/access/{OTHER}", PROVIDER, (SW,), params={"scope": READ})
    assert [e["action"] for e in events(api, PROVIDER, since=later.isoformat())] == ["access.put"]


@pytest.mark.parametrize(("param", "value"), [("limit", "0"), ("limit", "1001"), ("limit", "many"),
                                              ("since", "yesterday"), ("since", "2025-13-01"),
                                              ("since", "9999-12-31T23:59:59-05:00"),
                                              ("since", "0001-01-01T00:00:00+05:00"),
                                              ("entity_kind", "x" * 65), ("entity_key", "a\x00b")])
def test_bad_filters_are_400(api: Api, param: str, value: str) -> None:
    r = api("GET", "/audit", PROVIDER, (SW,), params={param: value})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == param


def test_needs_a_token(world: World) -> None:
    assert world.http.get("/api/v1/audit").status_code == 401


@TOKENS
def test_never_another_orgs_events(api: Api, scopes: tuple[str, ...]) -> None:
    api("PUT", f"/scopes/access/{VENDOR}", PROVIDER, (SW,), params={"scope": "brreg:test/open"})
    seen = events(api, OTHER, scopes, limit=1000)
    assert all(OTHER in e["org_scope"] for e in seen)
    assert not [e for e in seen if e["entity_kind"] in ("scope", "access", "client", "prefix")]
    assert not events(api, OTHER, scopes, entity_key=f"brreg:test/open|{VENDOR}")
