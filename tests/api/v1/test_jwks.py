"""/api/v1/clients/{client_id}/jwks on the wire (docs/protocol.md §3.3): formats, limits, expiry and renewal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from portvakt.jose import PrivateKeyHandle
from tests.api.v1.test_clients import READ, WRITE, Api, create, invalid
from tests.conftest import VENDOR, World

YEAR = 365 * 24 * 3600
PEM = {"content-type": "application/x-pem-file"}


def _public_pem(handle: PrivateKeyHandle, fmt: serialization.PublicFormat) -> str:
    key = serialization.load_pem_private_key(handle.to_pem(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM, fmt).decode()


def self_signed_certificate(handle: PrivateKeyHandle) -> str:
    """A PEM self-signed certificate of `handle`'s key (trusted by no trust folder)."""
    key = serialization.load_pem_private_key(handle.to_pem(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Vendor AS")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture
def path(api: Api, world: World) -> str:
    """A new client's /jwks. The world client's keys are removed first: a kid names one key across all clients
    (docs/protocol.md §3.3), and these tests register the world's key on the new client."""
    assert api("DELETE", f"/clients/{world.client_id}/jwks", VENDOR, (WRITE,)).status_code == 200
    return f"/clients/{create(api)['client_id']}/jwks"


def test_get_world_keys(api: Api, world: World) -> None:
    r = api("GET", f"/clients/{world.client_id}/jwks", VENDOR, (READ,))
    assert r.status_code == 200
    body = r.json()
    key = body["keys"][0]
    assert {k: v for k, v in key.items() if k not in ("exp", "origin")} == world.key.public_jwk
    assert key["origin"] == "api", "registered without the portal"
    assert key["exp"] == int(world.clock.now().timestamp()) + YEAR
    assert body["created"] == body["last_updated"]


def test_post_replaces_the_whole_set(api: Api, path: str, rsa_keys: list[PrivateKeyHandle]) -> None:
    r = api("POST", path, VENDOR, (WRITE,), json={"keys": [k.public_jwk for k in rsa_keys]})
    assert r.status_code == 200 and [k["kid"] for k in r.json()["keys"]] == [k.kid for k in rsa_keys]
    r = api("PUT", path, VENDOR, (WRITE,), json={"keys": [rsa_keys[2].public_jwk]})
    assert [k["kid"] for k in r.json()["keys"]] == [rsa_keys[2].kid]
    r = api("POST", path, VENDOR, (WRITE,), json={"keys": [rsa_keys[1].public_jwk]})
    assert [k["kid"] for k in api("GET", path, VENDOR, (READ,)).json()["keys"]] == [rsa_keys[1].kid]


def test_empty_set_removes_every_key(api: Api, path: str, world: World) -> None:
    api("POST", path, VENDOR, (WRITE,), json={"keys": [world.key.public_jwk]})
    r = api("PUT", path, VENDOR, (WRITE,), json={"keys": []})
    assert r.status_code == 200 and r.json() == {"keys": []}


@pytest.mark.parametrize("fmt", [serialization.PublicFormat.SubjectPublicKeyInfo, serialization.PublicFormat.PKCS1])
def test_pem_public_key_string_gets_thumbprint_kid(api: Api, path: str, world: World,
                                                   fmt: serialization.PublicFormat) -> None:
    r = api("POST", path, VENDOR, (WRITE,), json={"keys": [_public_pem(world.key, fmt)]})
    assert r.status_code == 200, r.text
    key = r.json()["keys"][0]
    assert key["kid"] == world.key.kid and key["n"] == world.key.public_jwk["n"] and "x5c" not in key


def test_a_certificate_locks_so_an_untrusted_one_is_refused(api: Api, path: str, world: World) -> None:
    """docs/protocol.md §3.3: a PEM certificate becomes a JWK with x5c, which locks the client, so it must be an
    enterprise certificate from the trust folder (none here; the accepted case is in test_jwks_certificates.py)."""
    r = api("POST", path, VENDOR, (WRITE,), json={"keys": [self_signed_certificate(world.key)]})
    assert r.status_code == 400, r.text
    assert r.json()["detail"].startswith("keys[0]: a key with x5c locks the client to that certificate")


@pytest.mark.parametrize("kind", ["spki", "certificate"])
def test_raw_pem_body(api: Api, path: str, world: World, kind: str) -> None:
    pem = self_signed_certificate(world.key) if kind == "certificate" else \
        _public_pem(world.key, serialization.PublicFormat.SubjectPublicKeyInfo)
    r = api("POST", path, VENDOR, (WRITE,), content=pem.encode(), headers=PEM)
    if kind == "certificate":  # read as a certificate: untrusted here, so refused (see above)
        assert r.status_code == 400 and "locks the client" in r.json()["detail"], r.text
        return
    assert r.status_code == 200, r.text
    assert [k["kid"] for k in r.json()["keys"]] == [world.key.kid]


def test_mixed_set_and_caller_kid(api: Api, path: str, rsa_keys: list[PrivateKeyHandle]) -> None:
    mine = {**rsa_keys[0].public_jwk, "kid": "my-key.2024_1"}
    pem = _public_pem(rsa_keys[1], serialization.PublicFormat.SubjectPublicKeyInfo)
    r = api("POST", path, VENDOR, (WRITE,), json={"keys": [mine, pem]})
    assert [k["kid"] for k in r.json()["keys"]] == ["my-key.2024_1", rsa_keys[1].kid]


def test_single_jwk_without_keys_member(api: Api, path: str, world: World) -> None:
    r = api("POST", path, VENDOR, (WRITE,), json=world.key.public_jwk)
    assert r.status_code == 200 and r.json()["keys"][0]["kid"] == world.key.kid


def test_reposting_renews_and_keeps_created(api: Api, path: str, world: World) -> None:
    first = api("POST", path, VENDOR, (WRITE,), json={"keys": [world.key.public_jwk]}).json()
    world.clock.advance(100 * 24 * 3600)
    again = api("POST", path, VENDOR, (WRITE,), json={"keys": [world.key.public_jwk]}).json()
    assert again["keys"][0]["exp"] == first["keys"][0]["exp"] + 100 * 24 * 3600
    assert again["created"] == first["created"] and again["last_updated"] > first["last_updated"]


def test_key_expires_a_year_after_posting(api: Api, world: World) -> None:
    world.clock.advance(YEAR + 1)
    assert world.post(world.grant()).json()["error_uri"].endswith("MP-121")
    api("POST", f"/clients/{world.client_id}/jwks", VENDOR, (WRITE,), json={"keys": [world.key.public_jwk]})
    assert world.post(world.grant()).status_code == 200


def _ec_jwk() -> dict[str, Any]:
    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    import base64

    def b64(i: int) -> str:
        return base64.urlsafe_b64encode(i.to_bytes(32, "big")).rstrip(b"=").decode()

    return {"kty": "EC", "crv": "P-256", "x": b64(key.x), "y": b64(key.y)}


def _small_rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (refusal under test)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _ec_pem() -> str:
    return ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.mark.parametrize(("entry", "words"), [
    (_ec_jwk(), "only RSA"),
    pytest.param(_ec_pem(), "only RSA", id="ec-pem-only RSA"),  # ids without the random key: xdist's workers
    pytest.param(_small_rsa_pem(), "2048", id="rsa1024-pem-2048"),  # must collect the same names
    ({"kty": "RSA", "n": "AQAB", "e": "AQAB"}, "2048"),
    ({"kty": "RSA", "e": "AQAB"}, "n and e"),
    ({"n": "AQAB"}, "kty"),
    ("not a key", "expected an RSA public key"),
    (42, "JWK object or a string"),
])
def test_refused_key(api: Api, path: str, entry: Any, words: str) -> None:
    body = invalid(api("POST", path, VENDOR, (WRITE,), json={"keys": [entry]}), "keys[0]")
    assert words in body["detail"]


def test_refused_alg_use_and_kid(api: Api, path: str, world: World) -> None:
    for over, words in (({"alg": "ES256"}, "alg"), ({"use": "enc"}, "use"), ({"kid": "bad kid/!"}, "kid")):
        body = invalid(api("POST", path, VENDOR, (WRITE,), json={"keys": [{**world.key.public_jwk, **over}]}),
                       "keys[0]")
        assert words in body["detail"]


def test_at_most_five_keys(api: Api, path: str, world: World) -> None:
    keys = [{**world.key.public_jwk, "kid": f"k{i}"} for i in range(6)]
    body = invalid(api("POST", path, VENDOR, (WRITE,), json={"keys": keys}), "keys")
    assert "5" in body["detail"]
    assert api("POST", path, VENDOR, (WRITE,), json={"keys": keys[:5]}).status_code == 200


def test_kids_must_be_unique(api: Api, path: str, world: World) -> None:
    invalid(api("POST", path, VENDOR, (WRITE,), json={"keys": [world.key.public_jwk] * 2}), "keys")


@pytest.mark.parametrize("doc", [{"keys": 5}, {"keys": None}, [1], "x", 7])
def test_body_must_be_a_jwk_set(api: Api, path: str, doc: Any) -> None:
    invalid(api("POST", path, VENDOR, (WRITE,), json=doc), "keys")


def test_keys_holding_one_entry(api: Api, path: str, world: World) -> None:
    r = api("POST", path, VENDOR, (WRITE,), json={"keys": world.key.public_jwk})
    assert r.status_code == 200 and r.json()["keys"][0]["kid"] == world.key.kid
    invalid(api("POST", path, VENDOR, (WRITE,), json={"keys": "x"}), "keys[0]")


def test_object_without_keys_is_read_as_one_jwk(api: Api, path: str) -> None:
    body = invalid(api("POST", path, VENDOR, (WRITE,), json={"foo": 1}), "keys[0]")
    assert "kty" in body["detail"]


def test_body_that_is_not_json(api: Api, path: str) -> None:
    r = api("POST", path, VENDOR, (WRITE,), content=b"{oops", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["type"] == "/problems/malformed"


def test_too_large_body(api: Api, path: str) -> None:
    r = api("POST", path, VENDOR, (WRITE,), content=b" " * (65 * 1024), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["type"] == "/problems/too-large"  # the one body limit, api.limits


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", None])
def test_other_media_types_are_415(api: Api, path: str, world: World, ctype: str | None) -> None:
    headers = {"content-type": ctype} if ctype else {}
    r = api("POST", path, VENDOR, (WRITE,), content=b'{"keys": []}', headers=headers)
    assert r.status_code == 415 and r.json()["type"] == "/problems/unsupported-media-type"


def test_read_only_token_cannot_post(api: Api, path: str, world: World) -> None:
    r = api("POST", path, VENDOR, (READ,), json={"keys": [world.key.public_jwk]})
    assert r.status_code == 403


def test_no_token_is_401_before_the_body_is_read(world: World) -> None:
    r = world.http.post(f"/api/v1/clients/{world.client_id}/jwks", content=b"{oops",
                        headers={"content-type": "application/json"})
    assert r.status_code == 401


def test_deactivated_client_keys_are_still_readable(api: Api, world: World) -> None:
    api("DELETE", f"/clients/{world.client_id}", VENDOR, (WRITE,))
    assert len(api("GET", f"/clients/{world.client_id}/jwks", VENDOR, (READ,)).json()["keys"]) == 1


def test_openapi_describes_every_operation(world: World) -> None:
    doc = world.http.get("/api/v1/openapi.json").json()
    schemas = doc["components"]["schemas"]
    for name in ("ClientIn", "ClientPatch", "ClientOut", "JwksOut", "JwkOut", "Problem"):
        assert name in schemas
    assert "alias of `scopes`" in schemas["ClientIn"]["properties"]["scope"]["description"].lower()
    assert "ignored" in schemas["ClientIn"]["description"]
    for p in ("/clients", "/clients/{client_id}", "/clients/{client_id}/jwks"):
        for method, op in doc["paths"][p].items():
            assert op["summary"] and "400" in op["responses"] and "401" in op["responses"], (p, method)
            ok = op["responses"].get("200") or op["responses"].get("201")
            assert ok["content"]["application/json"]["schema"], (p, method)
    body = doc["paths"]["/clients/{client_id}/jwks"]["post"]["requestBody"]["content"]
    assert "keys" in body["application/json"]["schema"]["properties"] and "application/x-pem-file" in body
