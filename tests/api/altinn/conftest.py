"""Fixtures for the Altinn side's HTTP API: tokens for any org and scopes, and a scheme of the provider."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from portvakt.domain.delegations import DELEGATIONS_ADMIN, DELEGATIONS_WRITE, SCHEMES_WRITE
from tests.api.v1.conftest import token_for
from tests.conftest import PROVIDER, World

__all__ = ["DELEGABLE", "HISTORIC", "token_for"]
DELEGABLE = "brreg:test/delegable"
SW, DW, ADMIN = (SCHEMES_WRITE,), (DELEGATIONS_WRITE,), (DELEGATIONS_ADMIN,)
HISTORIC = {"owner_org": PROVIDER, "scopes": [DELEGABLE],
            "title": [{"code": "nb_NO", "value": "Reelle rettighetshavere - På vegne av"},
                      {"code": "en", "value": "Beneficial owners - on behalf of"}],
            "description": [{"code": "nb_NO", "value": "Gir leverandøren tilgang"}], "default_language": "nb_NO"}
Altinn = Callable[..., Any]


@pytest.fixture
def altinn(world: World, token_for: Callable[..., str]) -> Altinn:
    """altinn(method, path, orgno, scopes, [client_id=], **kwargs) -> response; orgno None sends no token."""

    def call(method: str, path: str, orgno: str | None, scopes: tuple[str, ...] = (), client_id: str | None = None,
             **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if orgno is not None:
            headers["authorization"] = f"Bearer {token_for(orgno, *scopes, client_id=client_id)}"
        return world.http.request(method, path, headers=headers, **kwargs)

    return call


@pytest.fixture
def scheme(altinn: Altinn) -> dict[str, Any]:
    """The provider's scheme naming brreg:test/delegable, made through the API."""
    r = altinn("POST", "/maskinporten-api/delegationSchemes", PROVIDER, SW, json=HISTORIC)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body
