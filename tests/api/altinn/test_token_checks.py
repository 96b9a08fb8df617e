"""The two TokenChecks: the Altinn side as its own process (remote issuer via /jwk) and in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from portvakt.api.altinn.app import create_altinn_app
from portvakt.api.altinn.route import PREFIXES
from portvakt.api.bearer import TokenGate
from portvakt.oauth.bearer import local_validator
from portvakt.resource import JwksCache, TokenValidator
from portvakt.settings import AltinnSettings, Settings
from portvakt.wiring import Overrides, assemble
from tests.api.altinn.conftest import ADMIN, DW, SW
from tests.conftest import CONSUMER, ISSUER, OTHER, VENDOR, World

SEARCH = "/accessmanagement/api/v1/maskinporten/schemes"
LOOKUP = "/accessmanagement/api/v1/maskinporten/delegations"


@pytest.fixture
def remote(world: World) -> Iterator[TestClient]:
    """The Altinn side as its own app, trusting the token service's issuer through its metadata and /jwk."""
    settings = Settings(data_dir="/nonexistent", altinn=AltinnSettings(token_issuer=ISSUER))  # type: ignore[arg-type]
    app = assemble(settings, ("altinn",), Overrides(store=world.store, clock=world.clock, token_http=world.http))
    with TestClient(app, base_url="http://altinn.test") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_remote_check_accepts_the_token_services_tokens(remote: TestClient,
                                                        token_for: Callable[..., str]) -> None:
    assert remote.get(SEARCH, headers=bearer(token_for(VENDOR, *DW))).status_code == 200
    r = remote.get(LOOKUP, headers=bearer(token_for(OTHER, *ADMIN)),
                   params={"supplierorg": VENDOR, "consumerorg": OTHER, "scope": "brreg:test/delegable"})
    assert r.status_code == 200 and r.json() == []
    r = remote.get(LOOKUP, headers=bearer(token_for(OTHER, *SW)), params={})
    assert r.status_code == 403


def test_remote_check_refuses_bad_tokens(remote: TestClient, world: World, token_for: Callable[..., str],
                                         rsa_keys: list[Any]) -> None:
    from portvakt.jose import Signer

    forged = Signer(rsa_keys[2], kid=rsa_keys[2].kid).sign(
        {"iss": ISSUER, "exp": 2**40, "iat": 0, "client_id": "x", "scope": "altinn:maskinporten/delegations.admin",
         "consumer": {"authority": "iso6523-actorid-upis", "ID": f"0192:{VENDOR}"}})
    for token in ("not.a.token", forged):
        r = remote.get(SEARCH, headers=bearer(token))
        assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]
        assert token not in r.text
    assert remote.get(SEARCH).status_code == 401


def test_remote_check_without_keys_is_503_not_401(world: World, token_for: Callable[..., str]) -> None:
    """The issuer is unreachable and no key is cached: the token was not judged (RFC 9110 §15.6.4)."""

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    jwks = JwksCache("http://portvakt.test/jwk", http=httpx.Client(transport=httpx.MockTransport(down)))
    check = TokenGate(TokenValidator(ISSUER, jwks=jwks), frozenset(), "altinn")
    with TestClient(create_altinn_app(world.store, world.clock, check)) as client:
        r = client.get(SEARCH, headers=bearer(token_for(VENDOR, *DW)))
    assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "/problems/unavailable"


def test_local_check_refuses_another_issuers_tokens(world: World, token_for: Callable[..., str]) -> None:
    check = TokenGate(local_validator(world.runtime.keyring, "http://elsewhere.test/", world.clock), frozenset())
    with TestClient(create_altinn_app(world.store, world.clock, check)) as client:
        assert client.get(SEARCH, headers=bearer(token_for(VENDOR, *DW))).status_code == 401


def test_openapi_document_lists_the_paths(world: World) -> None:
    doc = world.http.get("/accessmanagement/openapi.json").json()
    assert {"/maskinporten-api/delegationSchemes", "/maskinporten-api/delegationSchemes/{scheme_id}",
            "/accessmanagement/api/v1/maskinporten/schemes", "/accessmanagement/api/v1/delegations",
            "/accessmanagement/api/v1/delegations/{delegation_id}", LOOKUP, "/accessmanagement/api/v1/portal/login",
            "/accessmanagement/api/v1/portal/people/{username}",
            "/accessmanagement/api/v1/organisations/{orgno}",
            "/authentication/api/v1/systemregister/vendor", "/authentication/api/v1/systemuser/request/vendor",
            "/authentication/api/v1/systemuser/request/vendor/agent", "/authentication/api/v1/systemuser/byExternalId",
            "/authentication/api/v1/systemuser/vendor/bysystem/{system_id}", "/authorization/api/v1/authorize",
            "/authentication/api/v1/exchange/{provider}"} <= set(doc["paths"])
    assert all(path.startswith(PREFIXES) for path in doc["paths"])


def test_unknown_altinn_path_is_a_404_problem(world: World) -> None:
    r = world.http.get("/accessmanagement/api/v1/nothing")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


def supplier_held_token(world: World) -> str:
    """A token whose consumer is CONSUMER but which VENDOR holds (a supplier-managed client, docs/protocol.md §3.2)."""
    from dataclasses import replace

    from portvakt.oauth.minter import TokenGrant

    with world.store.read() as uow:
        base = uow.get_client(world.client_id)
    assert base is not None
    client = replace(base, client_id="supplied", client_orgno=CONSUMER, supplier_orgno=VENDOR)
    grant = TokenGrant(client_id=client.client_id, client_orgno=client.client_orgno, client_amr="private_key_jwt",
                       scopes=DW, consumer_orgno=CONSUMER,
                       supplier_orgno=VENDOR, delegation_source=None, audience=None, pid=None, lifetime=600)
    return str(world.runtime.tokens._minter.mint(grant, int(world.clock.now().timestamp())).access_token)


def test_a_token_held_by_a_supplier_may_not_delegate(world: World, remote: TestClient) -> None:
    """Else a vendor managing a customer's client could delegate the customer's APIs to itself."""
    token = supplier_held_token(world)
    for client in (world.http, remote):
        r = client.post("/accessmanagement/api/v1/delegations", headers=bearer(token),
                        json={"scheme_id": "x", "supplier_org": VENDOR})
        assert r.status_code == 403 and r.json()["type"] == "/problems/forbidden"
