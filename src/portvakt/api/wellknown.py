"""GET /.well-known/oauth-authorization-server (RFC 8414, docs/protocol.md §2.4) and GET /jwk (docs/protocol.md
§2.5)."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from portvakt.domain.models import JWT_BEARER
from portvakt.jose import GRANT_ALGORITHMS
from portvakt.oauth.authorization_details import supported_types

from .runtime import Runtime

JWKS_MAX_AGE = 300
METADATA_MAX_AGE = 3600


def metadata(issuer: str) -> dict[str, object]:
    """The fields Maskinporten publishes (docs/protocol.md §2.4); RFC 9396 §10 lists the supported details types."""
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}token",
        "jwks_uri": f"{issuer}jwk",
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(GRANT_ALGORITHMS),
        "grant_types_supported": [JWT_BEARER],
        "authorization_details_types_supported": supported_types(),
    }


def metadata_endpoint(rt: Runtime) -> object:
    """The metadata document, serialized once."""
    body = json.dumps(metadata(rt.issuer))

    async def well_known(request: Request) -> Response:
        return Response(body, media_type="application/json",
                        headers={"cache-control": f"public, max-age={METADATA_MAX_AGE}"})

    return well_known


def jwk_endpoint(rt: Runtime) -> object:
    """The published signing keys (next, active, retired), cached briefly so a rotation is seen soon."""

    async def jwk(request: Request) -> Response:
        return Response(rt.keyring.jwks_json, media_type="application/json",
                        headers={"cache-control": f"public, max-age={JWKS_MAX_AGE}"})

    return jwk
