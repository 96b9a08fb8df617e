"""Fixtures for the self-service API: admin tokens for any org and scope set, minted by the real issuer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from portvakt.domain.models import Client, IntegrationType
from portvakt.oauth.minter import TokenGrant
from tests.conftest import World

ALL_DCR = ("idporten:dcr.read", "idporten:dcr.modify", "idporten:dcr.write", "idporten:dcr.supplier")


@pytest.fixture
def token_for(world: World) -> Callable[..., str]:
    """token_for(orgno, *scopes[, client_id=]) -> a valid access token of this server whose consumer is `orgno`
    (its client `admin-<orgno>` unless named)."""

    def mint(orgno: str, *scopes: str, client_id: str | None = None) -> str:
        with world.store.begin() as uow:
            base = uow.get_client(world.client_id)
        assert base is not None
        client: Client = replace(base, client_id=client_id or f"admin-{orgno}", client_orgno=orgno,
                                 integration_type=IntegrationType.MASKINPORTEN)
        grant = TokenGrant(client_id=client.client_id, client_orgno=client.client_orgno, client_amr="private_key_jwt",
                           scopes=tuple(scopes),
                           consumer_orgno=orgno, supplier_orgno=None, delegation_source=None, audience=None,
                           pid=None, lifetime=600)
        issued = world.runtime.tokens._minter.mint(grant, int(world.clock.now().timestamp()))
        return str(issued.access_token)

    return mint


@pytest.fixture
def api(world: World, token_for: Callable[..., str]) -> Callable[..., Any]:
    """api(method, path, orgno, scopes, [client_id=], **kwargs) -> response; path is below /api/v1."""

    def call(method: str, path: str, orgno: str, scopes: tuple[str, ...] = ALL_DCR, client_id: str | None = None,
             **kwargs: Any) -> Any:
        token = token_for(orgno, *scopes, client_id=client_id)
        headers = {"authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return world.http.request(method, f"/api/v1{path}", headers=headers, **kwargs)

    return call
