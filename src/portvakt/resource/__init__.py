"""For API providers: accept portvakt/Maskinporten access tokens (docs/protocol.md §2.2, §2.5, §4.2; RFC 6750).

    validator = TokenValidator("https://maskinporten.no/")            # keys via /.well-known -> /jwk
    read = require_token(validator, "brreg:reelle/offentlig")

    @app.get("/owners/{orgno}")
    def owners(orgno: str, token: AccessToken = Depends(read)) -> ...:
        ...  # decide with token.consumer (and token.supplier), never with token.client_id

    install(app)                                                      # optional: RFC 9457 bodies

Decisions:

* Issuer unreachable with keys cached: keep using them, however old (availability; a rotation is
  still seen because issuers publish the next key before it signs, as portvakt does).
* Issuer unreachable with no keys cached: JwksUnavailable -> 503 + Retry-After, no WWW-Authenticate:
  the token was never judged, so 401 would wrongly tell the client its token is bad.
* Fetch attempts (successful or not) are at least `min_refresh_interval` apart, also while no set is
  cached, so neither bogus kids nor an outage can make every request call the issuer.
* An unknown kid after a refresh is InvalidToken (401): the issuer does not publish that key.
* A token without `kid` is refused: trying every key would let one token cost N RSA checks.
* `aud` is checked only when an audience is configured (the guide's APIs do not check it);
  "unspecified" can never be configured and so never matches.
* A missing header or another scheme gets a bare `Bearer realm` challenge (RFC 6750 §3.1); a
  Bearer header without exactly one token, or two Authorization headers, is invalid_request (400).
* FastAPI runs the sync dependency in its threadpool, so key fetches never block the event loop;
  there is no async variant.

System users (docs/protocol.md §6.5, §6.6): `system_user(token)` reads the one a token names (None if none);
`AltinnAuthorization(base_url, token_source).permits(found, resource, action, party=...)` asks the decision
point, and raises AuthorizationUnavailable (503 + Retry-After, `install_authorization(app)`) when it gets no
answer. `altinn_validator(issuer)` checks the Altinn tokens of the Maskinporten exchange (§6.7).
"""

from __future__ import annotations

from .bearer import TokenRejected, authenticate, bearer_token, install, problem_response, require_token
from .errors import (
    BearerError,
    InsufficientScope,
    InvalidRequest,
    InvalidToken,
    JwksUnavailable,
    MissingToken,
    ResourceError,
)
from .jwks import JwksCache
from .systemuser import (
    AltinnAuthorization,
    AuthorizationUnavailable,
    SystemUserClaim,
    altinn_validator,
    install_authorization,
    system_user,
)
from .token import AccessToken
from .validator import UNSPECIFIED_AUDIENCE, KeySource, TokenValidator

__all__ = [
    "UNSPECIFIED_AUDIENCE",
    "AccessToken",
    "AltinnAuthorization",
    "AuthorizationUnavailable",
    "BearerError",
    "InsufficientScope",
    "InvalidRequest",
    "InvalidToken",
    "JwksCache",
    "JwksUnavailable",
    "KeySource",
    "MissingToken",
    "ResourceError",
    "SystemUserClaim",
    "TokenRejected",
    "TokenValidator",
    "altinn_validator",
    "authenticate",
    "bearer_token",
    "install",
    "install_authorization",
    "problem_response",
    "require_token",
    "system_user",
]
