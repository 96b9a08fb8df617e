"""The `origin` of each registered key on the wire (docs/protocol.md §3.3): given as a member of a posted JWK, read by
the API and never stored in the key; answered with the key; kept when the key is posted again; "api" by default."""

from __future__ import annotations

from typing import Any

import pytest

from portvakt.jose import PrivateKeyHandle
from tests.api.v1.test_clients import READ, WRITE, Api, create, invalid
from tests.conftest import VENDOR, World
from tests.portal.keyhelp import public_pem

PEM = {"content-type": "application/x-pem-file"}


@pytest.fixture
def path(api: Api, world: World) -> str:
    assert api("DELETE", f"/clients/{world.client_id}/jwks", VENDOR, (WRITE,)).status_code == 200
    return f"/clients/{create(api)['client_id']}/jwks"


def origins(body: dict[str, Any]) -> dict[str, str | None]:
    return {k["kid"]: k.get("origin") for k in body["keys"]}


def test_each_key_answers_with_its_origin(api: Api, path: str, rsa_keys: list[PrivateKeyHandle]) -> None:
    a, b, c = rsa_keys
    r = api("PUT", path, VENDOR, (WRITE,), json={"keys": [{**a.public_jwk, "origin": "browser"},
                                                          {**b.public_jwk, "origin": "pkcs12"}, c.public_jwk]})
    assert r.status_code == 200, r.text
    assert origins(r.json()) == {a.kid: "browser", b.kid: "pkcs12", c.kid: "api"}
    got = api("GET", path, VENDOR, (READ,)).json()
    assert origins(got) == {a.kid: "browser", b.kid: "pkcs12", c.kid: "api"}


def test_the_origin_is_not_part_of_the_stored_key(api: Api, path: str, world: World,
                                                   rsa_keys: list[PrivateKeyHandle]) -> None:
    key = rsa_keys[0]
    assert api("POST", path, VENDOR, (WRITE,), json={**key.public_jwk, "origin": "paste"}).status_code == 200
    with world.store.read() as uow:
        client = uow.get_client(path.split("/")[2])
    assert client is not None
    assert client.keys[0].jwk == key.public_jwk and client.keys[0].origin == "paste"


def test_a_key_posted_again_keeps_the_origin_it_was_registered_with(api: Api, path: str,
                                                                    rsa_keys: list[PrivateKeyHandle]) -> None:
    """The portal's read-modify-write posts the set it read, each key with the origin the API answered (or none)."""
    a, b, _ = rsa_keys
    first = api("PUT", path, VENDOR, (WRITE,), json={"keys": [{**a.public_jwk, "origin": "pkcs12"}]}).json()
    again = [*first["keys"], {**b.public_jwk, "origin": "browser"}]
    r = api("PUT", path, VENDOR, (WRITE,), json={"keys": [{**again[0], "origin": "paste"}, again[1]]})
    assert r.status_code == 200, r.text
    assert origins(r.json()) == {a.kid: "pkcs12", b.kid: "browser"}
    r = api("PUT", path, VENDOR, (WRITE,), json={"keys": [a.public_jwk]})
    assert origins(r.json()) == {a.kid: "pkcs12"}


def test_a_pem_key_comes_from_the_api(api: Api, path: str, rsa_keys: list[PrivateKeyHandle]) -> None:
    r = api("POST", path, VENDOR, (WRITE,), content=public_pem(rsa_keys[0]), headers=PEM)
    assert r.status_code == 200, r.text
    assert origins(r.json()) == {rsa_keys[0].kid: "api"}


@pytest.mark.parametrize("origin", ["portal", "", 7, ["paste"], None])
def test_an_unknown_origin_is_refused_naming_the_entry(api: Api, path: str, rsa_keys: list[PrivateKeyHandle],
                                                       origin: object) -> None:
    r = api("PUT", path, VENDOR, (WRITE,), json={"keys": [rsa_keys[0].public_jwk,
                                                          {**rsa_keys[1].public_jwk, "origin": origin}]})
    if origin is None:
        assert r.status_code == 200 and origins(r.json())[rsa_keys[1].kid] == "api"
        return
    problem = invalid(r, "keys[1]")
    assert "origin" in problem["detail"] and "paste, browser, pkcs12, api" in problem["detail"]
    assert api("GET", path, VENDOR, (READ,)).json()["keys"] == [], "nothing written"
