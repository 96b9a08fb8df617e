"""Changes through /api/v1 reach /token at once (docs/protocol.md §3.2 propagation; §4.4)."""

from __future__ import annotations

from typing import Any

from portvakt.domain import usecases as uc
from portvakt.domain.models import AccessState
from portvakt.jose import PrivateKeyHandle
from tests.api.v1.test_clients import READ, SUPPLIER, WRITE, Api, create, ids
from tests.conftest import OP, VENDOR, World


def mp_code(r: Any) -> str:
    """The MP code of a /token refusal."""
    assert r.status_code >= 400, r.text
    return str(r.json()["error_uri"]).rsplit("/", 1)[-1]


def test_deactivation_stops_tokens_at_once(api: Api, world: World) -> None:
    assert world.post(world.grant()).status_code == 200
    assert api("DELETE", f"/clients/{world.client_id}", VENDOR, (WRITE,)).status_code == 200
    assert mp_code(world.post(world.grant())) == "MP-100"


def test_new_key_works_at_once_and_the_old_one_stops(api: Api, world: World,
                                                     rsa_keys: list[PrivateKeyHandle]) -> None:
    new = rsa_keys[1]
    r = api("POST", f"/clients/{world.client_id}/jwks", VENDOR, (WRITE,), json={"keys": [new.public_jwk]})
    assert r.status_code == 200
    assert world.post(world.grant(key=new, kid=new.kid)).status_code == 200
    assert mp_code(world.post(world.grant())) == "MP-126"


def test_key_posted_as_pem_gets_tokens_with_its_thumbprint_kid(api: Api, world: World,
                                                               rsa_keys: list[PrivateKeyHandle]) -> None:
    from cryptography.hazmat.primitives import serialization

    new = rsa_keys[2]
    private = serialization.load_pem_private_key(new.to_pem(), password=None)
    pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    r = api("PUT", f"/clients/{world.client_id}/jwks", VENDOR, (WRITE,), content=pem,
            headers={"content-type": "application/x-pem-file"})
    assert r.status_code == 200 and r.json()["keys"][0]["kid"] == new.kid
    assert world.post(world.grant(key=new, kid=new.kid)).status_code == 200


def test_removed_scope_is_refused_at_once(api: Api, world: World) -> None:
    assert world.post(world.grant(scope="brreg:test/open")).status_code == 200
    api("PATCH", f"/clients/{world.client_id}", VENDOR, (WRITE,), json={"scopes": ["brreg:test/read"]})
    assert mp_code(world.post(world.grant(scope="brreg:test/open"))) == "MP-200"
    assert world.post(world.grant(scope="brreg:test/read")).status_code == 200


def test_lifetime_change_reaches_tokens(api: Api, world: World) -> None:
    api("PATCH", f"/clients/{world.client_id}", VENDOR, (WRITE,), json={"access_token_lifetime": 42})
    assert world.post(world.grant()).json()["expires_in"] == 42


def test_virksomhetssystem_flow(api: Api, world: World, rsa_keys: list[PrivateKeyHandle]) -> None:
    """docs/protocol.md §4.4: the portal lists the vendor's systems and usable scopes, creates an altinn_virksys
    client (no token without a key: MP-128), registers a key, and the system gets a token."""
    with world.change() as uow:
        uc.set_access(uow, "brreg:test/virksys", VENDOR, AccessState.APPROVED, OP, world.clock.now())
    portal = (WRITE, SUPPLIER)
    assert ids(api("GET", "/clients?integration_type=altinn_virksys", VENDOR, portal)) == []
    r = api("GET", f"/scopes/access/for_consumer?consumer_org={VENDOR}", VENDOR, portal)
    assert r.status_code == 200 and "brreg:test/virksys" in {a["scope"] for a in r.json()}
    system = create(api, VENDOR, portal, client_orgno=VENDOR, integration_type="altinn_virksys",
                    scope=["brreg:test/virksys"], scopes=None, application_type="web",
                    token_endpoint_auth_method="private_key_jwt", grant_types=["jwt_bearer_token"],
                    client_name="Turboskatt for Øvre Toten Regnskapstjenester")
    cid, key = system["client_id"], rsa_keys[1]
    assert ids(api("GET", "/clients?integration_type=altinn_virksys", VENDOR, portal)) == [cid]
    assert mp_code(world.post(world.grant(key=key, kid=key.kid, iss=cid, scope="brreg:test/virksys"))) == "MP-128"
    r = api("POST", f"/clients/{cid}/jwks", VENDOR, portal, json={"keys": [key.public_jwk]})
    assert r.status_code == 200
    token = world.post(world.grant(key=key, kid=key.kid, iss=cid, scope="brreg:test/virksys"))
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "brreg:test/virksys"
    assert api("GET", f"/clients/{cid}/jwks", VENDOR, (READ,)).json()["keys"][0]["kid"] == key.kid
