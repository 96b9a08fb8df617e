"""The admin API where real Maskinporten clients expect it, on the wire: DELETE of a key set (decision A15,
docs/protocol.md §3.3) and `access_token_lifetime: 0` as the default (decision A16, §3.2, T11)."""

from __future__ import annotations

from typing import Any

import pytest

from portvakt.jose import PrivateKeyHandle
from tests.api.v1.test_clients import MODIFY, READ, SUPPLIER, WRITE, Api, create, invalid
from tests.api.v1.test_clients_token import mp_code
from tests.conftest import CONSUMER, OTHER, VENDOR, World


def _audit(world: World, client_id: str, orgno: str = VENDOR) -> list[str]:
    with world.store.begin() as uow:
        return [e.action for e in reversed(uow.list_audit(org=orgno, entity_key=client_id))]


def test_delete_jwks_removes_the_whole_set_and_tokens_stop(api: Api, world: World) -> None:
    path = f"/clients/{world.client_id}/jwks"
    assert world.post(world.grant()).status_code == 200
    seq = world.store.last_change_seq()
    r = api("DELETE", path, VENDOR, (WRITE,))
    assert r.status_code == 200 and r.json() == {"keys": []}
    assert api("GET", path, VENDOR, (READ,)).json() == {"keys": []}
    assert _audit(world, world.client_id)[-1] == "client.keys.replace"
    assert any(c.key == world.client_id for c in world.store.changes_since(seq))
    assert mp_code(world.post(world.grant())) == "MP-126", "the kid is no longer registered"
    assert api("DELETE", path, VENDOR, (MODIFY,)).json() == {"keys": []}, "idempotent"


def test_delete_jwks_is_as_put_for_authorization(api: Api, world: World) -> None:
    path = f"/clients/{world.client_id}/jwks"
    r = api("DELETE", path, VENDOR, (READ,))
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert api("DELETE", path, OTHER, (WRITE,)).status_code == 404
    assert api("DELETE", "/clients/no-such-client/jwks", VENDOR, (WRITE,)).status_code == 404
    assert len(api("GET", path, VENDOR, (READ,)).json()["keys"]) == 1


def test_delete_jwks_by_the_supplier_only(api: Api, world: World) -> None:
    c = create(api, VENDOR, (SUPPLIER,), client_orgno=CONSUMER)
    path = f"/clients/{c['client_id']}/jwks"
    api("POST", path, VENDOR, (SUPPLIER,), json={"keys": [world.key.public_jwk]})
    assert api("DELETE", path, CONSUMER, (WRITE,)).status_code == 403
    assert api("DELETE", path, VENDOR, (SUPPLIER,)).json() == {"keys": []}


def test_delete_jwks_of_a_deactivated_client_is_409(api: Api, world: World) -> None:
    api("DELETE", f"/clients/{world.client_id}", VENDOR, (WRITE,))
    r = api("DELETE", f"/clients/{world.client_id}/jwks", VENDOR, (WRITE,))
    assert r.status_code == 409 and r.json()["type"].endswith("/conflict")


def test_altinn_virksys_client_may_lose_its_keys(api: Api, world: World, rsa_keys: list[PrivateKeyHandle]) -> None:
    c = create(api, VENDOR, (WRITE,), integration_type="altinn_virksys", scopes=[])
    path, key = f"/clients/{c['client_id']}/jwks", rsa_keys[1]
    api("POST", path, VENDOR, (WRITE,), json={"keys": [key.public_jwk]})
    assert api("DELETE", path, VENDOR, (WRITE,)).json() == {"keys": []}
    assert mp_code(world.post(world.grant(key=key, kid=key.kid, iss=c["client_id"]))) == "MP-128"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_lifetime_zero_is_the_default(api: Api, world: World, method: str) -> None:
    body: dict[str, Any] = {"client_name": "digdirator", "access_token_lifetime": 0}
    if method == "POST":
        r = api("POST", "/clients", VENDOR, (WRITE,), json=body)
        assert r.status_code == 201, r.text
    else:
        path = f"/clients/{world.client_id}"
        r = api("PATCH", path, VENDOR, (WRITE,), json={"access_token_lifetime": 42})
        assert r.json()["access_token_lifetime"] == 42
        sent = {**r.json(), "access_token_lifetime": 0} if method == "PUT" else {"access_token_lifetime": 0}
        r = api(method, path, VENDOR, (WRITE,), json=sent)
        assert r.status_code == 200, r.text
        assert world.post(world.grant()).json()["expires_in"] == 120
    assert r.json()["access_token_lifetime"] is None
    assert api("GET", f"/clients/{r.json()['client_id']}", VENDOR, (READ,)).json()["access_token_lifetime"] is None


def test_lifetime_zero_on_an_unset_client_writes_nothing(api: Api, world: World) -> None:
    c = create(api)
    before = _audit(world, c["client_id"])
    r = api("PATCH", f"/clients/{c['client_id']}", VENDOR, (WRITE,), json={"access_token_lifetime": 0})
    assert r.status_code == 200 and r.json() == c
    assert _audit(world, c["client_id"]) == before


@pytest.mark.parametrize("value", [-1, "0", 0.0])
def test_lifetime_negative_or_not_an_integer_is_still_refused(api: Api, value: object) -> None:
    invalid(api("POST", "/clients", VENDOR, (WRITE,), json={"client_name": "x", "access_token_lifetime": value}),
            "access_token_lifetime")
