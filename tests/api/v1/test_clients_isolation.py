"""No organisation sees or changes another's clients (docs/protocol.md §3.1): 404 (never 403), never listed."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import pytest

from tests.api.v1.conftest import ALL_DCR
from tests.api.v1.test_clients import READ, SUPPLIER, WRITE, Api, create, ids
from tests.conftest import CONSUMER, OTHER, VENDOR, World

COMBOS = [c for n in range(len(ALL_DCR) + 1) for c in combinations(ALL_DCR, n)]
OWN = {READ, "idporten:dcr.modify", WRITE}


def _name(combo: tuple[str, ...]) -> str:
    return "+".join(s.split(".")[-1] for s in combo) or "none"


def _calls(world: World, client_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Every client endpoint, with a body that would succeed for the owner."""
    path = f"/clients/{client_id}"
    jwks = {"json": {"keys": [world.key.public_jwk]}}
    return [("GET", path, {}), ("PUT", path, {"json": {"client_name": "taken over"}}),
            ("PATCH", path, {"json": {"description": "taken over"}}), ("DELETE", path, {}),
            ("GET", f"{path}/jwks", {}), ("POST", f"{path}/jwks", jwks), ("PUT", f"{path}/jwks", jwks)]


def _assert_hidden(api: Api, world: World, orgno: str, combo: tuple[str, ...], client_id: str) -> None:
    """Every endpoint answers exactly as for a client that does not exist; lists never show it."""
    for method, path, kwargs in _calls(world, client_id):
        r = api(method, path, orgno, combo, **kwargs)
        ghost = api(method, path.replace(client_id, "no-such-client"), orgno, combo, **kwargs)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json() == {**ghost.json(), "detail": ghost.json()["detail"].replace("no-such-client", client_id)}
    for query in ("", "?inactive=true", f"?client_orgno={VENDOR}", f"?client_orgno={CONSUMER}", "?limit=1000"):
        r = api("GET", f"/clients{query}", orgno, combo)
        if not combo:
            assert r.status_code == 403
        else:
            assert client_id not in ids(r)


@pytest.mark.parametrize("combo", COMBOS, ids=_name)
def test_another_orgs_client_is_404_and_unlisted(api: Api, world: World, combo: tuple[str, ...]) -> None:
    before = api("GET", f"/clients/{world.client_id}", VENDOR, (READ,)).json()
    keys_before = api("GET", f"/clients/{world.client_id}/jwks", VENDOR, (READ,)).json()
    _assert_hidden(api, world, OTHER, combo, world.client_id)
    assert api("GET", f"/clients/{world.client_id}", VENDOR, (READ,)).json() == before
    assert api("GET", f"/clients/{world.client_id}/jwks", VENDOR, (READ,)).json() == keys_before


@pytest.mark.parametrize("combo", COMBOS, ids=_name)
def test_supplied_client_is_seen_by_supplier_scope_and_owner_only(api: Api, world: World,
                                                                  combo: tuple[str, ...]) -> None:
    """VENDOR supplies a client for CONSUMER: VENDOR sees it only with dcr.supplier, CONSUMER only with
    dcr.read/modify/write, OTHER never."""
    c = create(api, VENDOR, (SUPPLIER,), client_orgno=CONSUMER)["client_id"]
    _assert_hidden(api, world, OTHER, combo, c)
    for orgno, may in ((VENDOR, SUPPLIER in combo), (CONSUMER, bool(OWN & set(combo)))):
        if may:
            assert api("GET", f"/clients/{c}", orgno, combo).status_code == 200
            assert c in ids(api("GET", "/clients", orgno, combo))
        else:
            _assert_hidden(api, world, orgno, combo, c)


@pytest.mark.parametrize("combo", [c for c in COMBOS if SUPPLIER not in c and c], ids=_name)
def test_owner_sees_own_client_with_any_own_scope(api: Api, world: World, combo: tuple[str, ...]) -> None:
    """The owner sees its own client with any of dcr.read/modify/write (here: the world's client)."""
    assert api("GET", f"/clients/{world.client_id}", VENDOR, combo).status_code == 200
    assert world.client_id in ids(api("GET", "/clients", VENDOR, combo))
