"""The Maskinporten token exchange and the Altinn side's keys (docs/protocol.md §6.7).

`GET /authentication/api/v1/exchange/maskinporten` takes a token of this server's token service and answers an
Altinn token: the same claims (without aud, iss, client_amr, sid), Altinn's own claims added, a new iss, iat, nbf,
exp and jti, signed with the Altinn side's key. `GET /authentication/api/v1/openid/.well-known/openid-configuration`
and its `jwks_uri` publish that key, as Altinn 3 does.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from portvakt.altinn.keys import AltinnKeys
from portvakt.domain.orgno import is_valid_orgno
from portvakt.resource import AccessToken, InvalidToken, JwksUnavailable, ResourceError

from ..v1.problems import MEDIA_TYPE, ProblemError, responses
from .auth import TokenCheckUnavailable, TokenGate

__all__ = ["ENTERPRISE_USER_HEADER", "TokenExchange", "exchanged_claims", "openid_configuration", "router"]

log = logging.getLogger("portvakt.api")
router = APIRouter(tags=["token exchange"])

#: Altinn 3's header for an enterprise user's credentials: no longer supported there (410), never here.
ENTERPRISE_USER_HEADER = "X-Altinn-EnterpriseUser-Authentication"
#: The providers Altinn 3 names; portvakt exchanges only its own (Maskinporten-compatible) tokens.
MASKINPORTEN = "maskinporten"
OTHER_PROVIDERS = ("id-porten", "altinnstudio")
#: Claims of the original token the Altinn token does not keep (Altinn drops aud, iss, client_amr; sid has no
#: session here); the times and jti are made anew.
DROPPED = frozenset({"aud", "iss", "client_amr", "sid", "jti", "iat", "nbf", "exp"})
ORG_NUMBER = "urn:altinn:orgNumber"
AUTHENTICATE_METHOD = "urn:altinn:authenticatemethod"
AUTH_LEVEL = "urn:altinn:authlevel"
ORG = "urn:altinn:org"
#: Altinn looks the service owner's org code up in its register; portvakt knows only Digdir's (decision U74).
SERVICE_OWNER_SCOPE = "altinn:serviceowner"
SERVICE_OWNERS = {"991825827": "digdir"}
TEST_ORG = "ttd"
JWKS_MAX_AGE = 300
METADATA_MAX_AGE = 3600


@dataclass(frozen=True, slots=True)
class TokenExchange:
    """What the exchange needs: the Altinn side's keys, its issuer (portvakt.altinn.keys.altinn_issuer) and the
    exchanged tokens' lifetime in seconds (settings.altinn.exchange_token_seconds)."""

    keys: AltinnKeys
    issuer: str
    lifetime: int = 1800


def openid_configuration(issuer: str) -> dict[str, Any]:
    """docs/protocol.md §6.7: the discovery document's members that hold here (OpenID Connect Discovery 1.0 §3)."""
    return {"issuer": issuer, "jwks_uri": f"{issuer}.well-known/openid-configuration/jwks",
            "response_types_supported": ["token"], "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"]}


def _service_owner_org(token: AccessToken, test: bool) -> str | None:
    """docs/protocol.md §6.7: `urn:altinn:org` for a token with a service-owner scope whose consumer is a known
    service owner; Digdir with `test=true` is "ttd", as in Altinn."""
    scope = token.claims.get("scope")
    if not isinstance(scope, str) or SERVICE_OWNER_SCOPE not in scope:
        return None
    org = SERVICE_OWNERS.get(token.consumer)
    return TEST_ORG if org == "digdir" and test else org


def exchanged_claims(original: Mapping[str, Any], *, orgno: str, issuer: str, now: int, lifetime: int, jti: str,
                     org: str | None = None) -> dict[str, Any]:
    """docs/protocol.md §6.7: the original claims but aud, iss, client_amr and sid; Altinn's orgNumber,
    authenticatemethod and authlevel (and org when given); a new iss, iat, nbf, exp and jti. A one-element
    `authorization_details` becomes that element, as Altinn's exchange gives it (decision U71)."""
    claims = {name: value for name, value in original.items() if name not in DROPPED}
    details = claims.get("authorization_details")
    if isinstance(details, list) and len(details) == 1:
        claims["authorization_details"] = details[0]
    if org is not None:
        claims[ORG] = org
    claims[ORG_NUMBER] = orgno
    claims[AUTHENTICATE_METHOD] = MASKINPORTEN
    claims[AUTH_LEVEL] = 3
    claims.update(iss=issuer, iat=now, nbf=now, exp=now + lifetime, jti=jti)
    return claims


def _exchange_of(request: Request) -> TokenExchange:
    """The app's exchange; 404 where the app was built without one."""
    exchange: TokenExchange | None = getattr(request.app.state, "exchange", None)
    if exchange is None:
        raise ProblemError("not-found", "this server does not run the token exchange")
    return exchange


def _unauthorized(gate: TokenGate, description: str, challenge: str | None = None) -> ProblemError:
    """RFC 6750 §3.1: 401 with a Bearer challenge (the exchange answers every bad token so, as Altinn's)."""
    return ProblemError("unauthorized", description, {"www-authenticate": challenge or f'Bearer realm="{gate.realm}"'})


def _bearer(request: Request, gate: TokenGate) -> str:
    """RFC 6750 §2.1: the one Bearer token of the request; 401 without it."""
    values = request.headers.getlist("authorization")
    scheme, _, token = (values[0] if len(values) == 1 else "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized(gate, "send Authorization: Bearer <access token of this server's token service>")
    return token.strip()


def _validated(gate: TokenGate, raw: str) -> AccessToken:
    """docs/protocol.md §6.7: a valid token of this server's token service (the one validator), an organisation's
    own (a valid consumer orgno, no supplier); anything else 401, keys out of reach 503."""
    try:
        token = gate.validator.validate(raw)
    except JwksUnavailable as exc:
        log.warning("token exchange: %s", exc.detail)
        raise TokenCheckUnavailable(exc.retry_after) from None
    except ResourceError as exc:
        challenge = exc.challenge(gate.realm) if isinstance(exc, InvalidToken) else None
        raise _unauthorized(gate, exc.description, challenge) from None
    refused = None
    if not is_valid_orgno(token.consumer):
        refused = InvalidToken("the access token names no valid organisation (mod-11)")
    elif token.supplier is not None:
        refused = InvalidToken("a token a supplier holds for an organisation cannot be exchanged; use the "
                               "organisation's own token")
    if refused is not None:
        raise _unauthorized(gate, refused.description, refused.challenge(gate.realm))
    return token


def _test_flag(request: Request) -> bool:
    """Altinn's `?test=` (a boolean: true or false, any case); anything else is 400."""
    values = request.query_params.getlist("test")
    if not values:
        return False
    if len(values) > 1 or values[0].strip().lower() not in ("true", "false"):
        raise ProblemError("invalid", "the query parameter test must be true or false")
    return values[0].strip().lower() == "true"


def _gone() -> JSONResponse:
    """docs/protocol.md §6.7: enterprise users (virksomhetsbrukere) are not supported, as in Altinn 3 (410)."""
    body = {"type": "/problems/gone", "title": "Gone", "status": 410,
            "detail": f"enterprise users are not supported: leave out the {ENTERPRISE_USER_HEADER} header"}
    return JSONResponse(body, status_code=410, media_type=MEDIA_TYPE, headers={"cache-control": "no-store"})


_EXCHANGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "the Altinn token (a JWT)"},
    **responses("invalid", "not-found"),
    410: {"description": "enterprise users are not supported",
          "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}},
}


@router.get("/authentication/api/v1/exchange/{provider}", response_class=Response, responses=_EXCHANGE_RESPONSES,
            summary="Exchange a token of this server's token service for an Altinn token")
def exchange_token(request: Request, provider: str) -> Response:
    """docs/protocol.md §6.7: 401 without a token, 400 for a provider other than maskinporten (any case) or a bad
    `test`, 401 for a token that is not valid, 410 with the enterprise-user header, else 200 text/plain."""
    exchange = _exchange_of(request)
    gate: TokenGate = request.app.state.gate
    raw = _bearer(request, gate)
    name = provider.lower()
    if name in OTHER_PROVIDERS:
        raise ProblemError("invalid", f"this server exchanges only {MASKINPORTEN} tokens, not {name[:40]}")
    if name != MASKINPORTEN:
        raise ProblemError("invalid", f"unknown token provider; the trusted provider is {MASKINPORTEN}")
    test = _test_flag(request)
    token = _validated(gate, raw)
    if request.headers.get(ENTERPRISE_USER_HEADER):
        return _gone()
    signer = exchange.keys.signer()
    now = int(request.app.state.altinn.clock.now().timestamp())
    claims = exchanged_claims(token.claims, orgno=token.consumer, issuer=exchange.issuer, now=now,
                              lifetime=exchange.lifetime, jti=str(uuid.uuid4()),
                              org=_service_owner_org(token, test))
    return Response(signer.sign(claims), media_type="text/plain",
                    headers={"cache-control": "no-store", "pragma": "no-cache"})


@router.get("/authentication/api/v1/openid/.well-known/openid-configuration", responses=responses("not-found"),
            summary="The Altinn side's OpenID discovery document")
def openid_configuration_endpoint(request: Request) -> Response:
    """docs/protocol.md §6.7: issuer, jwks_uri and the signing algorithm of the exchange's tokens."""
    body = json.dumps(openid_configuration(_exchange_of(request).issuer))
    return Response(body, media_type="application/json",
                    headers={"cache-control": f"public, max-age={METADATA_MAX_AGE}"})


@router.get("/authentication/api/v1/openid/.well-known/openid-configuration/jwks", responses=responses("not-found"),
            summary="The Altinn side's signing keys (JWK Set)")
def jwks_endpoint(request: Request) -> Response:
    """docs/protocol.md §6.7: the active, next and retired keys as an RFC 7517 §5 JWK Set (base64url members)."""
    return Response(_exchange_of(request).keys.jwks_json, media_type="application/json",
                    headers={"cache-control": f"public, max-age={JWKS_MAX_AGE}"})
