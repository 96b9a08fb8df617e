"""Threat: costly RSA public exponents. Only e = 65537 is accepted, at registration and at /token."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.util import int_to_base64

from portvakt.jose import PrivateKeyHandle
from tests.api.v1 import conftest as v1
from tests.api.v1.test_clients import WRITE, Api, create, invalid
from tests.conftest import VENDOR, World

api = v1.api
token_for = v1.token_for


@pytest.fixture(scope="module")
def big_e_key() -> rsa.RSAPrivateKey:
    """A valid RSA-3072 key whose public exponent has 3,070 bits (slow to verify); e coprime to phi."""
    base = rsa.generate_private_key(public_exponent=65537, key_size=3072).private_numbers()
    p, q = base.p, base.q
    phi = (p - 1) * (q - 1)
    e = (1 << 3069) | 1
    while _gcd(e, phi) != 1:
        e += 2
    d = pow(e, -1, phi)
    numbers = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p),
                                    rsa.RSAPublicNumbers(e, p * q))
    return numbers.private_key()


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    numbers = key.public_key().public_numbers()
    return {"kty": "RSA", "n": int_to_base64(numbers.n), "e": int_to_base64(numbers.e), "kid": kid}


@pytest.mark.parametrize("e", [3, 17, 65539, (1 << 3069) | 1], ids=["3", "17", "65539", "3070-bit"])
def test_registration_refuses_other_exponents(api: Api, world: World, e: int) -> None:
    path = f"/clients/{create(api)['client_id']}/jwks"
    jwk = {**world.key.public_jwk, "e": int_to_base64(e)}
    body = invalid(api("POST", path, VENDOR, (WRITE,), json={"keys": [jwk]}), "keys[0]")
    assert "65537" in body["detail"]


def test_registration_accepts_65537(api: Api, world: World) -> None:
    path = f"/clients/{create(api)['client_id']}/jwks"
    jwk = {**world.key.public_jwk, "kid": "fresh"}  # the world's kid is its client's: kids are unique across clients
    assert api("POST", path, VENDOR, (WRITE,), json={"keys": [jwk]}).status_code == 200


def test_stored_key_with_big_exponent_is_unusable(world: World, big_e_key: rsa.RSAPrivateKey) -> None:
    """A key already in the store (written before the rule, or past the API) cannot authenticate a grant."""
    handle = PrivateKeyHandle(big_e_key)
    with world.change() as uow:
        client = uow.get_client(world.client_id)
        assert client is not None
        key = client.keys[0]
        uow.put_client(_with_key(client, key, _jwk(big_e_key, "big-e")))
    resp = world.post(world.grant(key=handle, kid="big-e"))
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"] == "invalid_grant"
    assert resp.json()["error_uri"].endswith("/errors/MP-126")


def _with_key(client: Any, key: Any, jwk: dict[str, Any]) -> Any:
    return replace(client, keys=(replace(key, kid=jwk["kid"], jwk=jwk),))
