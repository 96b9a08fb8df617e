"""bootstrap_portal_client: the operator's portal client, made once, repaired, its key set exactly the given key;
and the portal gets a real token with it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from portvakt.domain.bootstrap import bootstrap_altinn
from portvakt.domain.clients import deactivate_client
from portvakt.domain.errors import Conflict, Invalid
from portvakt.domain.models import KEY_LIFETIME_SECONDS, IntegrationType
from portvakt.domain.portal_client import PORTAL_CLIENT_NAME, PORTAL_CLIENT_SCOPES, bootstrap_portal_client
from portvakt.jose import PrivateKeyHandle
from tests.conftest import OP, OPERATOR, World

PORTAL_ID = "portvakt-portal"


def make(world: World, key: PrivateKeyHandle, client_id: str = PORTAL_ID, orgno: str = OPERATOR) -> bool:
    with world.change() as uow:
        bootstrap_altinn(uow, OPERATOR, world.clock.now())
        return bootstrap_portal_client(uow, orgno, client_id, dict(key.public_jwk), world.clock.now())


def test_made_once_with_the_portal_scopes_and_key(world: World, rsa_keys: list[PrivateKeyHandle]) -> None:
    assert make(world, rsa_keys[1]) is True
    assert make(world, rsa_keys[1]) is False
    with world.store.read() as uow:
        client = uow.get_client(PORTAL_ID)
    assert client is not None and client.client_name == PORTAL_CLIENT_NAME
    assert (client.client_orgno, client.supplier_orgno) == (OPERATOR, None)
    assert client.integration_type is IntegrationType.MASKINPORTEN and client.scopes == PORTAL_CLIENT_SCOPES
    assert [(k.kid, k.jwk) for k in client.keys] == [(rsa_keys[1].kid, rsa_keys[1].public_jwk)]


def test_a_regenerated_key_replaces_the_key_set(world: World, rsa_keys: list[PrivateKeyHandle]) -> None:
    make(world, rsa_keys[1])
    assert make(world, rsa_keys[2]) is True
    with world.store.read() as uow:
        client = uow.get_client(PORTAL_ID)
    assert client is not None and [k.kid for k in client.keys] == [rsa_keys[2].kid]


def test_the_key_is_renewed_before_it_expires(world: World, rsa_keys: list[PrivateKeyHandle]) -> None:
    make(world, rsa_keys[1])
    world.clock.advance(KEY_LIFETIME_SECONDS - timedelta(days=10).total_seconds())
    assert make(world, rsa_keys[1]) is True
    with world.store.read() as uow:
        client = uow.get_client(PORTAL_ID)
    assert client is not None and client.keys[0].expires - world.clock.now() > timedelta(days=300)


def test_changed_name_and_scopes_are_repaired(world: World, rsa_keys: list[PrivateKeyHandle]) -> None:
    make(world, rsa_keys[1])
    with world.change() as uow:
        client = uow.get_client(PORTAL_ID)
        assert client is not None
        uow.put_client(replace(client, client_name="renamed", scopes=PORTAL_CLIENT_SCOPES[:2]))
    assert make(world, rsa_keys[1]) is True
    with world.store.read() as uow:
        client = uow.get_client(PORTAL_ID)
    assert client is not None and client.client_name == PORTAL_CLIENT_NAME and client.scopes == PORTAL_CLIENT_SCOPES


def test_refusals(world: World, rsa_keys: list[PrivateKeyHandle]) -> None:
    no_kid = {k: v for k, v in rsa_keys[1].public_jwk.items() if k != "kid"}
    for jwk, text in (({**rsa_keys[1].public_jwk, "d": "x"}, "private members"), (no_kid, "needs a kid")):
        with world.change() as uow, pytest.raises(Invalid, match=text):
            bootstrap_portal_client(uow, OPERATOR, PORTAL_ID, jwk, world.clock.now())
    with pytest.raises(Invalid, match="client_id"):
        make(world, rsa_keys[1], client_id="has space")
    with pytest.raises(Conflict, match="not the operator's own"):
        make(world, rsa_keys[1], client_id=world.client_id)
    make(world, rsa_keys[1])
    with world.change() as uow:
        client = uow.get_client(PORTAL_ID)
        assert client is not None
        deactivate_client(uow, client, OP, world.clock.now())
    with pytest.raises(Conflict, match="deactivated"):
        make(world, rsa_keys[1])


def test_the_portal_gets_a_token_with_its_scopes(world: World, rsa_keys: list[PrivateKeyHandle]) -> None:
    make(world, rsa_keys[1])
    scope = " ".join(PORTAL_CLIENT_SCOPES)
    r = world.post(world.grant(key=rsa_keys[1], kid=rsa_keys[1].kid, iss=PORTAL_ID, scope=scope))
    assert r.status_code == 200, r.text
    assert set(r.json()["scope"].split()) == set(PORTAL_CLIENT_SCOPES)
    assert world.post(world.grant(key=rsa_keys[1], kid=rsa_keys[1].kid, iss=PORTAL_ID,
                                  scope="brreg:test/read")).status_code == 400, "only the portal's scopes"
