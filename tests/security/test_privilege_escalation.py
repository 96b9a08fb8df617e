"""Threat: privilege escalation. A vendor holding idporten:dcr.supplier tries to become the operator: a client
for the operator's org with the platform's own scopes, its own key on it, the portal's acting-for headers, and
from there other vendors' key sets and people's personal data. Every step is refused, on the wire."""

from __future__ import annotations

from typing import Any

import pytest

from portvakt.altinn.passwords import Argon2PasswordHasher
from portvakt.domain.models import PersonRole, PortalRole
from portvakt.domain.people import add_person
from portvakt.domain.systemregister import SYSTEMREGISTER_ADMIN, SYSTEMUSER_LOOKUP
from portvakt.jose import PrivateKeyHandle
from tests.conftest import CONSUMER, OP, OPERATOR, OTHER, VENDOR, World

from .platform_wire import bearer, operator_made_client, token_from_endpoint, with_altinn_entries

SUPPLIER = "idporten:dcr.supplier"
PORTAL = "altinn:portal"
PLATFORM = ["altinn:portal", "idporten:dcr.write"]
VICTIM = "Victim AS's system"


@pytest.fixture
def chain(world: World, rsa_keys: list[PrivateKeyHandle]) -> dict[str, Any]:
    """The platform's entries; the attacker (VENDOR, dcr.supplier) with a token; a victim org with a keyed
    client; a person with a role at the victim."""
    with_altinn_entries(world)
    attacker_key, victim_key = rsa_keys[1], rsa_keys[2]
    attacker = operator_made_client(world, VENDOR, [SUPPLIER], attacker_key)
    victim = operator_made_client(world, OTHER, ["brreg:test/open"], victim_key)
    with world.change() as uow:
        add_person(uow, Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
                   username="kari@other.test", name="Kari Nordmann", mobile="+4791234567", password="x" * 12,
                   roles=(PersonRole(OTHER, PortalRole.INTEGRATION_RESPONSIBLE),), actor=OP, now=world.clock.now())
    token = token_from_endpoint(world, attacker, attacker_key, SUPPLIER)
    return {"token": token, "key": attacker_key, "victim": victim, "victim_key": victim_key}


def victim_keys(world: World, client_id: str) -> list[str]:
    """The kids registered on a client, read from the store."""
    with world.store.read() as uow:
        client = uow.get_client(client_id)
    assert client is not None
    return [k.kid for k in client.keys]


def test_a_supplier_cannot_give_the_operators_org_a_client_with_platform_scopes(world: World,
                                                                                 chain: dict[str, Any]) -> None:
    body = {"client_name": "totally the portal", "client_orgno": OPERATOR, "scopes": PLATFORM}
    r = world.http.post("/api/v1/clients", json=body, headers=bearer(chain["token"]))
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    with world.store.read() as uow:
        assert uow.list_clients(client_orgno=OPERATOR, supplier_orgno=VENDOR, integration_type=None,
                                include_inactive=True, after_client_id=None, limit=10) == []
    lent = {"client_name": "for the customer", "client_orgno": CONSUMER, "scopes": ["brreg:test/read"]}
    r = world.http.post("/api/v1/clients", json=lent, headers=bearer(chain["token"]))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "scopes", "only scopes the client's org may use"


def test_nor_add_them_later_and_so_gets_no_portal_token(world: World, chain: dict[str, Any]) -> None:
    made = world.http.post("/api/v1/clients", json={"client_name": "empty", "client_orgno": OPERATOR},
                           headers=bearer(chain["token"]))
    assert made.status_code == 201, made.text
    client_id = made.json()["client_id"]
    path = f"/api/v1/clients/{client_id}"
    for method in ("PUT", "PATCH"):
        r = world.http.request(method, path, json={"client_name": "empty", "scopes": [PORTAL]},
                               headers=bearer(chain["token"]))
        assert r.status_code == 403, r.text
    keys = {"keys": [{**chain["key"].public_jwk, "kid": "attacker-again"}]}  # kids are unique across clients
    assert world.http.post(f"{path}/jwks", json=keys, headers=bearer(chain["token"])).status_code == 200
    grant = world.grant(key=chain["key"], kid="attacker-again", iss=client_id, scope=PORTAL)
    assert world.post(grant).status_code == 400


def test_not_even_the_operators_own_token_puts_platform_scopes_on_a_client_through_the_api(
        world: World, chain: dict[str, Any], rsa_keys: list[PrivateKeyHandle]) -> None:
    operator = operator_made_client(world, OPERATOR, ["idporten:dcr.write"], rsa_keys[1], kid="operator")
    token = token_from_endpoint(world, operator, rsa_keys[1], "idporten:dcr.write", kid="operator")
    r = world.http.post("/api/v1/clients", json={"client_name": "x", "scopes": PLATFORM}, headers=bearer(token))
    assert r.status_code == 403, r.text


def test_a_token_with_altinn_portal_from_another_client_cannot_act_for_anyone(
        world: World, chain: dict[str, Any], rsa_keys: list[PrivateKeyHandle]) -> None:
    """Even an operator-made client carrying altinn:portal is not the portal: the headers are refused."""
    other = operator_made_client(world, OPERATOR, PLATFORM, rsa_keys[1], kid="not-the-portal")
    token = token_from_endpoint(world, other, rsa_keys[1], " ".join(PLATFORM), kid="not-the-portal")
    acting = {"Portvakt-Acting-For": OTHER, "Portvakt-Person": "mallory@vendor.test"}
    path = f"/api/v1/clients/{chain['victim']}/jwks"
    assert world.http.get(path, headers=bearer(token, **acting)).status_code == 403
    keys = {"keys": [rsa_keys[1].public_jwk]}
    assert world.http.put(path, json=keys, headers=bearer(token, **acting)).status_code == 403
    person = world.http.get("/accessmanagement/api/v1/portal/people/kari@other.test", headers=bearer(token))
    assert person.status_code == 403
    assert "Kari" not in person.text and "91234567" not in person.text
    assert victim_keys(world, chain["victim"]) == [chain["victim_key"].kid]
    grant = world.grant(key=chain["key"], kid=chain["key"].kid, iss=chain["victim"], scope="brreg:test/open")
    assert world.post(grant).status_code == 400, "the attacker's key gets no token as the victim's client"


def test_the_clients_own_org_sees_and_deactivates_a_supplied_client_but_does_not_rekey_it(
        world: World, chain: dict[str, Any], rsa_keys: list[PrivateKeyHandle]) -> None:
    made = world.http.post("/api/v1/clients", json={"client_name": "supplied", "client_orgno": CONSUMER},
                           headers=bearer(chain["token"])).json()
    path = f"/api/v1/clients/{made['client_id']}"
    own = operator_made_client(world, CONSUMER, ["idporten:dcr.write"], rsa_keys[2], kid="consumer-admin")
    token = token_from_endpoint(world, own, rsa_keys[2], "idporten:dcr.write", kid="consumer-admin")
    assert world.http.get(path, headers=bearer(token)).status_code == 200
    rekey = world.http.put(f"{path}/jwks", json={"keys": [rsa_keys[2].public_jwk]}, headers=bearer(token))
    assert rekey.status_code == 403
    assert world.http.patch(path, json={"description": "mine"}, headers=bearer(token)).status_code == 403
    gone = world.http.delete(path, headers=bearer(token))
    assert gone.status_code == 200 and gone.json()["active"] is False


@pytest.mark.parametrize("scope", [SYSTEMREGISTER_ADMIN, SYSTEMUSER_LOOKUP])
def test_no_org_gives_itself_the_system_user_platform_scopes(world: World, chain: dict[str, Any],
                                                             rsa_keys: list[PrivateKeyHandle], scope: str) -> None:
    """The system register's admin scope would change any vendor's systems, the lookup's would list any
    organisation's system users: only the operator puts them on a client (docs/security.md, Privilege escalation)."""
    admin = operator_made_client(world, VENDOR, ["idporten:dcr.write"], rsa_keys[1], kid="vendor-admin")
    token = token_from_endpoint(world, admin, rsa_keys[1], "idporten:dcr.write", kid="vendor-admin")
    r = world.http.post("/api/v1/clients", json={"client_name": "x", "scopes": [scope]}, headers=bearer(token))
    assert r.status_code == 403, r.text
    assert "belongs to the platform" in r.json()["detail"]
