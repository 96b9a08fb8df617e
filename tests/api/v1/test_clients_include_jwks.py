"""GET /api/v1/clients?include=jwks (docs/decisions.md A14): each listed client with its key set, exactly as
GET /clients/{id}/jwks answers it; without the parameter the listing is as before, with no `jwks` member."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import VENDOR, World

Api = Callable[..., Any]
READ, WRITE = "idporten:dcr.read", "idporten:dcr.write"


def test_the_listing_carries_each_key_set_only_when_asked(api: Api, world: World) -> None:
    made = api("POST", "/clients", VENDOR, (WRITE,), json={"client_name": "No keys", "scopes": []})
    assert made.status_code == 201, made.text
    bare = made.json()["client_id"]
    plain = api("GET", "/clients", VENDOR, (READ,)).json()
    assert plain and all("jwks" not in c for c in plain)
    listed = api("GET", "/clients?include=jwks", VENDOR, (READ,))
    assert listed.status_code == 200
    by_id = {c["client_id"]: c for c in listed.json()}
    for client_id in (world.client_id, bare):
        alone = api("GET", f"/clients/{client_id}/jwks", VENDOR, (READ,)).json()
        assert by_id[client_id]["jwks"] == alone
        assert {k: v for k, v in by_id[client_id].items() if k != "jwks"} == \
            next(c for c in plain if c["client_id"] == client_id)
    assert by_id[world.client_id]["jwks"]["keys"], "the seeded client has a key"
    assert by_id[bare]["jwks"] == {"keys": []}


def test_the_next_page_keeps_include(api: Api, world: World) -> None:
    for name in ("A", "B"):
        assert api("POST", "/clients", VENDOR, (WRITE,), json={"client_name": name, "scopes": []}).status_code == 201
    r = api("GET", "/clients?include=jwks&limit=1", VENDOR, (READ,))
    assert "include=jwks" in r.headers["link"]


def test_an_unknown_include_is_refused(api: Api) -> None:
    r = api("GET", "/clients?include=secrets", VENDOR, (READ,))
    assert r.status_code == 400
    assert r.json()["type"] == "/problems/invalid"
