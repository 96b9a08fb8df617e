"""The HTTP system-user lookup against this project's own Altinn side (docs/protocol.md §6.5), and how `assemble`
chooses between the local and the remote lookup."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from portvakt.altinn import HttpSystemUserLookup
from portvakt.domain.changes import SYSTEM_USER_KIND
from portvakt.domain.systemregister import SYSTEMUSER_LOOKUP
from portvakt.oauth.minter import AccessTokenMinter
from portvakt.oauth.registry_cache import RegistryCache
from portvakt.oauth.service_tokens import ServiceTokenSource
from portvakt.oauth.systemuser import CachedSystemUserLookup, FoundSystemUser, SystemUserUnavailable
from portvakt.settings import Settings
from portvakt.wiring import Overrides, assemble
from portvakt.wiring.assembly import systemuser_lookup
from tests.api.test_token_rejections import refused
from tests.api.test_token_success import verify
from tests.api.test_token_systemuser import SYSTEM_ID, add_system, add_user, details
from tests.conftest import CONSUMER, ISSUER, OPERATOR, VENDOR, World


def lookup_token(world: World, scope: str = SYSTEMUSER_LOOKUP) -> ServiceTokenSource:
    """The operator's own token for the lookup, as the token service makes it (docs/protocol.md §2.2)."""
    minter = AccessTokenMinter(world.runtime.keyring, ISSUER, world.runtime.settings.token)
    return ServiceTokenSource(minter, world.clock, orgno=OPERATOR, scopes=(scope,))


def remote(world: World, scope: str = SYSTEMUSER_LOOKUP) -> HttpSystemUserLookup:
    return HttpSystemUserLookup(ISSUER, lookup_token(world, scope), http=world.http, positive_ttl=0, negative_ttl=0)


def test_the_altinn_side_answers_the_http_lookup(world: World) -> None:
    add_system(world)
    user = add_user(world)
    mine = add_user(world, ref="kunde-42")
    lookup = remote(world)
    assert lookup.find_system_user(world.client_id, VENDOR, CONSUMER, CONSUMER) == FoundSystemUser(
        user.system_user_id, SYSTEM_ID, CONSUMER, CONSUMER)
    assert lookup.find_system_user(world.client_id, VENDOR, CONSUMER, "kunde-42") == FoundSystemUser(
        mine.system_user_id, SYSTEM_ID, CONSUMER, "kunde-42")
    assert lookup.find_system_user(world.client_id, VENDOR, CONSUMER, "kunde-43") is None
    assert lookup.find_system_user("another-client", VENDOR, CONSUMER, CONSUMER) is None
    with world.change() as uow:
        uow.put_system_user(replace(user, deleted=True))
        uow.record_change(SYSTEM_USER_KIND, CONSUMER)
    assert lookup.find_system_user(world.client_id, VENDOR, CONSUMER, CONSUMER) is None


def test_a_token_without_the_lookup_scope_is_unavailable_not_none(world: World) -> None:
    add_system(world)
    add_user(world)
    with pytest.raises(SystemUserUnavailable, match="refused the lookup token"):
        remote(world, scope="altinn:maskinporten/delegations.admin").find_system_user(
            world.client_id, VENDOR, CONSUMER, CONSUMER)


@pytest.fixture
def split(world: World) -> Iterator[tuple[World, World]]:
    """A second token service on the same registry that asks the first one's Altinn side over HTTP."""
    settings = Settings(issuer=ISSUER, data_dir="/nonexistent")
    app = assemble(settings, ("token",), Overrides(store=world.store, clock=world.clock, kek=b"test-kek",
                                                   systemusers=remote(world)))
    with TestClient(app, base_url="http://portvakt.test") as http:
        yield world, World(world.store, world.clock, http, world.key, world.client_id, app.runtime)


def test_token_through_the_remote_lookup(split: tuple[World, World]) -> None:
    altinn, tokens = split
    add_system(altinn)
    user = add_user(altinn, ref="kunde-42")
    resp = tokens.post(tokens.grant(authorization_details=details(externalRef="kunde-42")))
    assert resp.status_code == 200, resp.text
    claims = verify(tokens, resp.json()["access_token"])
    assert claims["authorization_details"][0]["systemuser_id"] == [user.system_user_id]
    refused(tokens.post(tokens.grant(authorization_details=details())), 400,
            "invalid_altinn_customer_configuration", "MP-303")


def test_assemble_picks_local_or_remote(world: World) -> None:
    store, clock = world.store, world.clock
    registry = RegistryCache(store)
    minter = AccessTokenMinter(world.runtime.keyring, ISSUER, world.runtime.settings.token)
    local = systemuser_lookup(Settings(issuer=ISSUER, data_dir="/nonexistent"), store, registry, minter, clock)
    assert isinstance(local, CachedSystemUserLookup)
    far = systemuser_lookup(Settings(issuer=ISSUER, data_dir="/nonexistent",
                                     altinn={"url": "https://altinn.example/", "positive_cache_seconds": 10}),
                            store, registry, minter, clock)
    assert isinstance(far, HttpSystemUserLookup)
    assert far.url == "https://altinn.example/authentication/api/v1/systemuser/byExternalId"
    far.close()
