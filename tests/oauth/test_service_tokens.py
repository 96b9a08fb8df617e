"""ServiceTokenSource: the token service's own delegations.admin token for a remote Altinn side (docs/protocol.md
§4.2)."""

from __future__ import annotations

import pytest

from portvakt.domain.delegations import DELEGATIONS_ADMIN
from portvakt.jose import peek
from portvakt.oauth.minter import AccessTokenMinter
from portvakt.oauth.service_tokens import SERVICE_CLIENT_ID, ServiceTokenSource
from tests.conftest import ISSUER, OPERATOR, World


def source(world: World, **kw: int) -> ServiceTokenSource:
    minter = AccessTokenMinter(world.runtime.keyring, ISSUER, world.runtime.settings.token)
    return ServiceTokenSource(minter, world.clock, orgno=OPERATOR,
                              scopes=(DELEGATIONS_ADMIN,), **kw)


def test_a_token_of_the_operators_own_is_reused_until_shortly_before_it_expires(world: World) -> None:
    mint = source(world, lifetime=120, renew_before=30)
    first = mint()
    claims = peek(first).claims
    assert claims["iss"] == ISSUER and claims["scope"] == DELEGATIONS_ADMIN
    assert claims["client_id"] == SERVICE_CLIENT_ID and claims["consumer"]["ID"] == f"0192:{OPERATOR}"
    assert claims["exp"] - claims["iat"] == 120 and "supplier" not in claims
    world.clock.advance(89)
    assert mint() == first
    world.clock.advance(1)
    renewed = mint()
    assert renewed != first and peek(renewed).claims["iat"] == claims["iat"] + 90


def test_renew_before_must_be_below_the_lifetime(world: World) -> None:
    with pytest.raises(ValueError, match="renew_before"):
        source(world, lifetime=30, renew_before=30)
