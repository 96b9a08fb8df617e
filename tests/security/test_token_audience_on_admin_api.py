"""Threat: a token meant for another API. A token restricted with `resource` (RFC 8707) is for that resource
only: /api/v1 and the Altinn side accept `aud` absent, "unspecified" or this server's issuer identifier."""

from __future__ import annotations

import pytest

from tests.conftest import ISSUER, VENDOR, World

from .platform_wire import access_claims, bearer, minted, server_signed

DCR = "idporten:dcr.read"
DW = "altinn:maskinporten/delegations.write"
CLIENTS, DELEGATIONS = "/api/v1/clients", "/accessmanagement/api/v1/delegations"


@pytest.mark.parametrize("audience", [["https://api.provider.test/"], ["https://api.provider.test/", ISSUER]])
def test_a_token_for_another_resource_is_refused(world: World, audience: list[str]) -> None:
    token = minted(world, VENDOR, DCR, DW, audience=audience)
    for path in (CLIENTS, DELEGATIONS):
        r = world.http.get(path, headers=bearer(token))
        assert r.status_code == 401, (path, r.text)
        assert 'error="invalid_token"' in r.headers["www-authenticate"]
    for aud in ("unspecified", ISSUER, ISSUER.rstrip("/"), None):  # what this server's own APIs accept
        own = server_signed(world, access_claims(world, VENDOR, DCR, DW, aud=aud))
        assert [world.http.get(p, headers=bearer(own)).status_code for p in (CLIENTS, DELEGATIONS)] == [200, 200]


def test_a_token_from_the_token_endpoint_with_resource_is_refused(world: World) -> None:
    """On the wire from /token: resource=https://api.provider.test/ makes aud name that API (RFC 8707 §2)."""
    r = world.post(world.grant(scope="brreg:test/read", resource="https://api.provider.test/"))
    assert r.status_code == 200, r.text
    assert world.http.get("/api/v1/scopes/access/all", headers=bearer(r.json()["access_token"])).status_code == 401


