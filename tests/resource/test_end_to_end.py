"""A real portvakt token, validated against the real /jwk of an in-process server (docs/protocol.md §2.1-§2.5)."""

from __future__ import annotations

import pytest

from portvakt.resource import InsufficientScope, JwksCache, TokenValidator, authenticate
from tests.conftest import ISSUER, VENDOR, World


def test_real_token_against_real_jwk(world: World) -> None:
    response = world.post(world.grant())
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    cache = JwksCache(f"{ISSUER}jwk", http=world.http)
    validator = TokenValidator(ISSUER, jwks=cache)
    result = authenticate(validator, f"Bearer {token}", "brreg:test/read")
    assert result.consumer == "314330897" == VENDOR
    assert result.supplier is None and result.delegation_source is None
    assert result.client_id == world.client_id and result.scopes == {"brreg:test/read"}
    with pytest.raises(InsufficientScope):
        validator.validate(token, required_scopes=["brreg:test/open"])


def test_real_token_with_discovered_keys(world: World) -> None:
    token = world.post(world.grant()).json()["access_token"]
    validator = TokenValidator(ISSUER, http=world.http)
    assert validator.validate(token).consumer == VENDOR
    assert validator.jwks.jwks_uri == f"{ISSUER}jwk"
