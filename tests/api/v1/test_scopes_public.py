"""GET /api/v1/scopes/all (docs/protocol.md §3.4): open, PUBLIC scopes only, filtered; and the OpenAPI document."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from portvakt.domain.models import Visibility
from tests.conftest import World

SEEDED = ["brreg:test/delegable", "brreg:test/open", "brreg:test/read", "brreg:test/short", "brreg:test/virksys"]
MINE = ("/scopes", "/scopes/all", "/scopes/access", "/scopes/access/all", "/scopes/access/for_consumer",
        "/scopes/access/{consumer_orgno}", "/audit")


def names(r: Any) -> list[str]:
    assert r.status_code == 200, r.text
    return [s["name"] for s in r.json()]


def hide(world: World, name: str, **change: Any) -> None:
    """Change a seeded scope behind the API's back (e.g. make it PRIVATE or inactive)."""
    with world.change() as uow:
        uow.put_scope(replace(uow.get_scope(name), **change))
        uow.record_change("scope", name)


def test_open_without_token(world: World) -> None:
    r = world.http.get("/api/v1/scopes/all")
    assert names(r) == SEEDED
    assert r.json()[0]["token_type"] == "SELF_CONTAINED"


def test_a_bad_token_does_not_matter(world: World) -> None:
    assert names(world.http.get("/api/v1/scopes/all", headers={"authorization": "Bearer junk"})) == SEEDED


def test_only_public_and_active(world: World) -> None:
    hide(world, "brreg:test/read", visibility=Visibility.PRIVATE)
    hide(world, "brreg:test/short", visibility=Visibility.INTERNAL)
    hide(world, "brreg:test/virksys", active=False)
    assert names(world.http.get("/api/v1/scopes/all")) == ["brreg:test/delegable", "brreg:test/open"]
    assert names(world.http.get("/api/v1/scopes/all", params={"inactive": "true"})) == \
        ["brreg:test/delegable", "brreg:test/open", "brreg:test/virksys"]


@pytest.mark.parametrize(("params", "expected"), [
    ({"accessible_for_all": "true"}, ["brreg:test/open"]),
    ({"accessible_for_all": "false"}, [n for n in SEEDED if n != "brreg:test/open"]),
    ({"integration_type": "maskinporten"}, [n for n in SEEDED if n != "brreg:test/virksys"]),
    ({"integration_type": "altinn_virksys"}, SEEDED),
    ({"accessible_for_all": "true", "integration_type": "maskinporten", "inactive": "false"}, ["brreg:test/open"]),
])
def test_filters(world: World, params: dict[str, str], expected: list[str]) -> None:
    assert names(world.http.get("/api/v1/scopes/all", params=params)) == expected


@pytest.mark.parametrize(("param", "value"), [("integration_type", "idporten"), ("inactive", "maybe"),
                                              ("accessible_for_all", "2")])
def test_bad_filter_is_400(world: World, param: str, value: str) -> None:
    r = world.http.get("/api/v1/scopes/all", params={param: value})
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == param


def test_openapi_declares_problems_summaries_and_models(world: World) -> None:
    doc = world.http.get("/api/v1/openapi.json").json()
    for path in MINE:
        for method, op in doc["paths"][path].items():
            assert op.get("summary"), (method, path)
            assert "400" in op["responses"], (method, path)
            ok = op["responses"].get("200") or op["responses"].get("201")
            assert ok and "schema" in ok["content"]["application/json"], (method, path)
            assert ("security" in op) == (path != "/scopes/all"), (method, path)
            assert path == "/scopes/all" or "401" in op["responses"]
    assert "401" not in doc["paths"]["/scopes/all"]["get"]["responses"]
