"""Helpers for the admin-API threat tests: the platform's own entries, admin clients made by the operator
(as the CLI does), tokens fetched from /token, and tokens the real issuer mints with chosen claims."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from portvakt.domain import usecases as uc
from portvakt.domain.bootstrap import bootstrap_altinn
from portvakt.domain.models import AccessState, IntegrationType, SigningKeyState
from portvakt.jose import PrivateKeyHandle, Signer
from portvakt.oauth.minter import TokenGrant
from tests.conftest import ISSUER, OP, OPERATOR, World


def with_altinn_entries(world: World) -> None:
    """The Altinn prefix and scopes (altinn:portal, delegations.admin, ...), as `portvakt init` makes them."""
    with world.change() as uow:
        bootstrap_altinn(uow, OPERATOR, world.clock.now(), source_issuer=ISSUER)


def operator_made_client(world: World, orgno: str, scopes: list[str], key: PrivateKeyHandle,
                         kid: str | None = None) -> str:
    """A maskinporten client the operator registers with the CLI (Actor.operator), with one key (under `kid`, for a
    key another client holds too: kids are unique across clients); the org is granted each scope first
    (`portvakt access grant`)."""
    with world.change() as uow:
        for scope in scopes:
            found = uow.get_scope(scope)
            if found is not None and found.owner_orgno != orgno:
                uc.set_access(uow, scope, orgno, AccessState.APPROVED, OP, world.clock.now())
        client = uc.new_client(uow, client_name=f"admin of {orgno}", client_orgno=orgno,
                               integration_type=IntegrationType.MASKINPORTEN, scopes=scopes, actor=OP,
                               now=world.clock.now())
        uc.replace_client_keys(uow, client.client_id, [(kid or key.kid, {**key.public_jwk, "kid": kid or key.kid})],
                               OP, world.clock.now())
    return client.client_id


def token_from_endpoint(world: World, client_id: str, key: PrivateKeyHandle, scope: str, kid: str | None = None) -> str:
    """An access token from POST /token for a JWT grant signed with the client's key (RFC 7523)."""
    r = world.post(world.grant(key=key, kid=kid or key.kid, iss=client_id, scope=scope))
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def minted(world: World, orgno: str, *scopes: str, client_id: str | None = None, supplier: str | None = None,
           audience: list[str] | None = None) -> str:
    """A token the real issuer signs (as /token would) for consumer `orgno`, with the given claims."""
    with world.store.read() as uow:
        base = uow.get_client(world.client_id)
    assert base is not None
    client = replace(base, client_id=client_id or f"admin-{orgno}", client_orgno=orgno)
    grant = TokenGrant(client_id=client.client_id, client_orgno=client.client_orgno, client_amr="private_key_jwt",
                       scopes=scopes, consumer_orgno=orgno,
                       supplier_orgno=supplier, delegation_source=None, audience=audience, pid=None, lifetime=600)
    return str(world.runtime.tokens._minter.mint(grant, int(world.clock.now().timestamp())).access_token)


def server_signed(world: World, claims: dict[str, Any], alg: str = "RS256") -> str:
    """Arbitrary claims signed with the server's active signing key (to probe the validator's claim rules)."""
    with world.store.read() as uow:
        active = next(k for k in uow.list_signing_keys() if k.state is SigningKeyState.ACTIVE)
    handle = PrivateKeyHandle.from_pem(active.encrypted_private_key, b"test-kek")
    return Signer(handle, alg=alg).sign(claims)


def access_claims(world: World, orgno: str, *scopes: str, **over: Any) -> dict[str, Any]:
    """docs/protocol.md §2.2 access-token claims for consumer `orgno`; `over` replaces or (with None) removes claims."""
    now = int(world.clock.now().timestamp())
    claims: dict[str, Any] = {"iss": ISSUER, "client_amr": "private_key_jwt", "token_type": "Bearer",
                              "client_id": f"admin-{orgno}", "aud": "unspecified",
                              "consumer": {"authority": "iso6523-actorid-upis", "ID": f"0192:{orgno}"},
                              "scope": " ".join(scopes), "iat": now, "exp": now + 120, "client_orgno": orgno,
                              "jti": str(uuid.uuid4())}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def bearer(token: str, **extra: str) -> dict[str, str]:
    """The Authorization header (and any extra headers)."""
    return {"authorization": f"Bearer {token}", **extra}
