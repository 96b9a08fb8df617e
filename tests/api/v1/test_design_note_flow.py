"""The flow of docs/protocol.md §4.4 over HTTP (docs/protocol.md §4.4).

1. An "Altinn" client with dcr.write + dcr.supplier gets a token from /token.
2. It lists the vendor's altinn_virksys clients, lists the scopes for_consumer, and creates a client for the vendor.
3. /token refuses that client: it has no key yet (MP-128).
4. A key is registered, and the vendor then gets a token with it.
"""

from __future__ import annotations

from typing import Any

from portvakt.domain import usecases as uc
from portvakt.domain.models import AccessState, IntegrationType
from portvakt.jose import PrivateKeyHandle, Signer
from tests.conftest import ISSUER, OP, OPERATOR, VENDOR, World

ALTINN = "974760673"  # in this test the "Altinn" org is the API provider's neighbour: any registered org
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def token(world: World, client_id: str, key: PrivateKeyHandle, scope: str) -> Any:
    now = int(world.clock.now().timestamp())
    grant = Signer(key).sign({"aud": ISSUER, "iss": client_id, "scope": scope, "iat": now, "exp": now + 60,
                              "jti": f"{client_id}-{now}-{scope}"})
    return world.http.post("/token", data={"grant_type": JWT_BEARER, "assertion": grant})


def altinn_client(world: World, key: PrivateKeyHandle) -> str:
    """The operator grants the Altinn org the admin scopes and registers its client (CLI-equivalent)."""
    now = world.clock.now()
    with world.change() as uow:
        for scope in ("idporten:dcr.write", "idporten:dcr.supplier"):
            uc.set_access(uow, scope, ALTINN, AccessState.APPROVED, OP, now)
        client = uc.new_client(uow, client_name="Altinn portal", client_orgno=ALTINN,
                               integration_type=IntegrationType.MASKINPORTEN,
                               scopes=["idporten:dcr.write", "idporten:dcr.supplier"], actor=OP, now=now)
        uc.replace_client_keys(uow, client.client_id, [(key.kid, key.public_jwk)], OP, now)
    return client.client_id


def test_design_note_flow(world: World, rsa_keys: list[PrivateKeyHandle]) -> None:
    altinn_key, vendor_key = rsa_keys[1], rsa_keys[2]
    # 1. Altinn's own token
    r = token(world, altinn_client(world, altinn_key), altinn_key, "idporten:dcr.write idporten:dcr.supplier")
    assert r.status_code == 200, r.text
    auth = {"authorization": f"Bearer {r.json()['access_token']}"}
    assert OPERATOR  # the operator owns the admin scopes (bootstrap)

    # 2. list the vendor's systems and the scopes the vendor may use, then create one
    systems = world.http.get("/api/v1/clients", params={"integration_type": "altinn_virksys",
                                                       "client_orgno": VENDOR}, headers=auth)
    assert systems.status_code == 200, systems.text
    assert systems.json() == []
    scopes = world.http.get("/api/v1/scopes/access/for_consumer", params={"consumer_org": VENDOR}, headers=auth)
    assert scopes.status_code == 200, scopes.text
    names = {s["scope"] if "scope" in s else s["name"] for s in scopes.json()}
    assert "brreg:test/read" in names
    created = world.http.post("/api/v1/clients", headers=auth, json={
        "client_name": "Turboskatt for Øvre Toten Regnskapstjenester",
        "description": "Her kan det stå ein lengre tekst om du vil",
        "scope": ["brreg:test/read"], "client_orgno": VENDOR, "integration_type": "altinn_virksys",
        "application_type": "web", "token_endpoint_auth_method": "private_key_jwt",
        "grant_types": [JWT_BEARER]})
    assert created.status_code in (200, 201), created.text
    system = created.json()
    assert system["client_orgno"] == VENDOR and system["supplier_orgno"] == ALTINN
    listed = world.http.get("/api/v1/clients", params={"integration_type": "altinn_virksys",
                                                      "client_orgno": VENDOR}, headers=auth).json()
    assert [c["client_id"] for c in listed] == [system["client_id"]]

    # 3. no key yet: /token refuses the system
    refused = token(world, system["client_id"], vendor_key, "brreg:test/read")
    assert refused.status_code == 400
    assert refused.json()["error_uri"].endswith("/errors/MP-128")

    # 4. register the key; the vendor gets a token with it
    jwks = world.http.post(f"/api/v1/clients/{system['client_id']}/jwks", headers=auth,
                           json={"keys": [vendor_key.public_jwk]})
    assert jwks.status_code in (200, 201), jwks.text
    ok = token(world, system["client_id"], vendor_key, "brreg:test/read")
    assert ok.status_code == 200, ok.text
