"""Key material for the key tests: public PEM and JWK text of a PrivateKeyHandle, token requests, the key pages."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key
from starlette.testclient import TestClient

from portvakt.jose import PrivateKeyHandle, Signer

from .stack import ISSUER, OPEN_SCOPE, Stack


def public_pem(handle: PrivateKeyHandle) -> str:
    """The SubjectPublicKeyInfo PEM of a key pair (what `openssl pkey -pubout` prints)."""
    key = load_pem_private_key(handle.to_pem(), None)
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def public_jwk_text(handle: PrivateKeyHandle) -> str:
    return json.dumps(handle.public_jwk)


def token(stack: Stack, client_id: str, handle: PrivateKeyHandle, kid: str | None = None) -> Any:
    """POST /token with a grant signed by `handle` (the JWT-bearer grant, RFC 7523 §2.1)."""
    now = int(datetime.now(UTC).timestamp())
    claims = {"aud": ISSUER, "iss": client_id, "scope": OPEN_SCOPE, "iat": now, "exp": now + 60,
              "jti": str(uuid.uuid4())}
    grant = Signer(handle, kid=kid or handle.kid).sign(claims)
    with TestClient(stack.server, base_url=ISSUER) as http:
        return http.post("/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                         "assertion": grant})


def key_page(stack: Stack, way: str) -> str:
    """The HTML of a new system's page for adding a key `way` ("paste", "browser" or "pkcs12")."""
    client_id = stack.create_system()
    return str(stack.browser.get(f"/portal/systems/{client_id}/keys/{way}").text)


def stored_kids(stack: Stack, client_id: str) -> list[str]:
    with stack.store.read() as uow:
        client = uow.get_client(client_id)
    assert client is not None
    return [k.kid for k in client.keys]
