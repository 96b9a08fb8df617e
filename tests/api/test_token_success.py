"""Successful tokens (docs/protocol.md §1.4, §2.1-§2.5), verified by an independent library (PyJWT) against /jwk."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import jwt as pyjwt

from tests.conftest import ISSUER, VENDOR, World


def verify(world: World, token: str, audience: Any = None) -> dict[str, Any]:
    """Verify with PyJWT using the key from /jwk that the header's kid names."""
    jwks = world.http.get("/jwk").json()
    kid = pyjwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    claims: dict[str, Any] = pyjwt.decode(token, pyjwt.PyJWK(key).key, algorithms=["RS256"], issuer=ISSUER,
                                          options={"verify_aud": False})
    return claims


def rfc7638(jwk: dict[str, str]) -> str:
    canon = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canon.encode()).digest()).rstrip(b"=").decode()


def test_token_response_and_claims(world: World) -> None:
    r = world.post(world.grant())
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 120
    assert body["scope"] == "brreg:test/read"
    claims = verify(world, body["access_token"])
    now = int(world.clock.now().timestamp())
    assert claims == {
        "iss": ISSUER, "client_amr": "private_key_jwt", "token_type": "Bearer", "client_id": world.client_id,
        "aud": "unspecified", "consumer": {"authority": "iso6523-actorid-upis", "ID": f"0192:{VENDOR}"},
        "scope": "brreg:test/read", "iat": now, "exp": now + 120, "client_orgno": VENDOR, "jti": claims["jti"],
    }
    assert len(claims["jti"]) == 43


def test_header_kid_is_the_rfc7638_thumbprint(world: World) -> None:
    token = world.post(world.grant()).json()["access_token"]
    header = pyjwt.get_unverified_header(token)
    assert set(header) == {"alg", "kid"}
    assert header["alg"] == "RS256"
    key = next(k for k in world.http.get("/jwk").json()["keys"] if k["kid"] == header["kid"])
    assert header["kid"] == rfc7638(key)


def test_resource_becomes_aud(world: World) -> None:
    one = world.post(world.grant(resource="https://api.brreg.test/reelle")).json()["access_token"]
    assert verify(world, one)["aud"] == "https://api.brreg.test/reelle"
    two = world.post(world.grant(resource=["https://a.test", "https://b.test"])).json()["access_token"]
    assert verify(world, two)["aud"] == ["https://a.test", "https://b.test"]


def test_lifetime_is_the_smaller_of_client_and_scope(world: World) -> None:
    body = world.post(world.grant(scope="brreg:test/read brreg:test/short")).json()
    assert body["expires_in"] == 30
    claims = verify(world, body["access_token"])
    assert claims["exp"] - claims["iat"] == 30


def test_client_lifetime_setting(world: World) -> None:
    from dataclasses import replace

    with world.change() as uow:
        c = uow.get_client(world.client_id)
        uow.put_client(replace(c, access_token_lifetime=60))
        uow.record_change("client", world.client_id)
    assert world.post(world.grant()).json()["expires_in"] == 60


def test_accessible_for_all_and_owner(world: World) -> None:
    assert world.post(world.grant(scope="brreg:test/open")).status_code == 200


def test_duplicate_scopes_collapse(world: World) -> None:
    body = world.post(world.grant(scope="brreg:test/read  brreg:test/read brreg:test/open")).json()
    assert body["scope"] == "brreg:test/read brreg:test/open"


def test_rs384_and_rs512_grants_with_a_key_registered_without_alg(world: World) -> None:
    from portvakt.domain import usecases as uc
    from tests.conftest import OP

    jwk = {k: v for k, v in world.key.public_jwk.items() if k != "alg"}
    with world.change() as uow:
        uc.replace_client_keys(uow, world.client_id, [(world.key.kid, jwk)], OP, world.clock.now())
    for alg in ("RS256", "RS384", "RS512"):
        assert world.post(world.grant(alg=alg)).status_code == 200


def test_key_registered_for_rs256_refuses_rs512(world: World) -> None:
    r = world.post(world.grant(alg="RS512"))
    assert r.status_code == 400
    assert r.json()["error_uri"].endswith("/errors/MP-124")


def test_metadata(world: World) -> None:
    r = world.http.get("/.well-known/oauth-authorization-server")
    assert r.status_code == 200
    assert "max-age" in r.headers["cache-control"]
    meta = r.json()
    assert meta["issuer"] == ISSUER
    assert meta["token_endpoint"] == f"{ISSUER}token"
    assert meta["jwks_uri"] == f"{ISSUER}jwk"
    assert meta["grant_types_supported"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assert meta["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert meta["token_endpoint_auth_signing_alg_values_supported"] == ["RS256", "RS384", "RS512"]


def test_jwk_publishes_active_and_next_public_keys_only(world: World) -> None:
    r = world.http.get("/jwk")
    assert "max-age" in r.headers["cache-control"]
    keys = r.json()["keys"]
    assert len(keys) == 2
    for k in keys:
        assert k["kty"] == "RSA" and k["use"] == "sig" and k["alg"] == "RS256"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(k)


def test_rotation_publishes_before_signing_and_keeps_the_old_key(world: World) -> None:
    from portvakt.oauth.keyring import rotate_signing_keys

    before = [k["kid"] for k in world.http.get("/jwk").json()["keys"]]
    active, published_next = before
    old_token = world.post(world.grant()).json()["access_token"]
    assert pyjwt.get_unverified_header(old_token)["kid"] == active
    rotate_signing_keys(world.store, b"test-kek", 2048, world.clock.now(), 7200)
    world.runtime.registry.refresh()
    after = [k["kid"] for k in world.http.get("/jwk").json()["keys"]]
    assert after[0] == published_next
    assert active in after and len(after) == 3
    new_token = world.post(world.grant()).json()["access_token"]
    assert pyjwt.get_unverified_header(new_token)["kid"] == published_next
    verify(world, old_token)
    world.clock.advance(7201)
    world.runtime.keyring.reload()
    assert active not in [k["kid"] for k in world.http.get("/jwk").json()["keys"]]
