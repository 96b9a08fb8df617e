"""The MP codes portvakt answers with (docs/protocol.md §1.5 table; `portvakt` origin where ours)."""

from __future__ import annotations

from .errors import (
    ForbiddenError,
    InvalidAuthorizationDetailsError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    MPCode,
    OAuthError,
    ServerError,
    TemporarilyUnavailableError,
    UnsupportedGrantTypeError,
)
from .ratelimit import SlowDownError


class InvalidAltinnCustomerConfigurationError(OAuthError):
    """Altinn's name for MP-303 when no system user matches the grant (docs/protocol.md §6.5, decision U50)."""

    error = "invalid_altinn_customer_configuration"

_AUTH = "Invalid assertion. Client authentication failed."

MP010 = MPCode("MP-010", UnsupportedGrantTypeError,
               "Unsupported grant_type. Use urn:ietf:params:oauth:grant-type:jwt-bearer",
               "Unsupported grant type",
               "The token endpoint only accepts the JWT bearer grant (RFC 7523 §2.1). Send "
               "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer with the signed grant in `assertion`.",
               origin="portvakt")
MP011 = MPCode("MP-011", InvalidRequestError, "Invalid assertion. Invalid parameter value",
               "Malformed request or grant",
               "The form or the JWT grant could not be read: a parameter is missing or repeated, the grant is "
               "not a compact JWS, or a claim has the wrong type. The text after the colon names the part.")
MP012 = MPCode("MP-012", InvalidGrantError, "Grant is used before", "The grant was already used",
               "Every JWT grant is single-use. Make a new grant, with a new `jti`, for each token request.")
MP100 = MPCode("MP-100", InvalidGrantError, f"{_AUTH} Client not found", "Unknown client",
               "No active client has the `client_id` given in the grant's `iss` claim. Check the client_id, "
               "that the client is active, and that you are talking to the right environment.")
MP110 = MPCode("MP-110", InvalidGrantError, f"{_AUTH} Invalid JWT claim aud", "Wrong audience",
               "The grant's `aud` must be this server's issuer identifier, as published in "
               "/.well-known/oauth-authorization-server (a missing trailing slash is tolerated).")
MP120 = MPCode("MP-120", InvalidGrantError, f"{_AUTH} The JWT is signed with an invalid certificate.",
               "Certificate not accepted",
               "The enterprise certificate in the grant's `x5c` header was not accepted: it is expired, not yet "
               "valid, revoked, issued by a certificate authority this server does not trust, its chain does not "
               "verify, or it may not sign (no digitalSignature key usage). The text after the period names "
               "which. Production and test certificates come from different authorities, so a production "
               "certificate is refused in a test environment and the reverse (docs/protocol.md §5).")
MP122 = MPCode("MP-122", InvalidGrantError,
               "Invalid JWT. Invalid organization number for client. Does not match certificate orgno",
               "Certificate of another organisation",
               "The organisation number in the enterprise certificate (organizationIdentifier NTRNO-…, or "
               "serialNumber) is not the client's `client_orgno`. Sign with your own organisation's certificate, "
               "or use the client registered for the certificate's organisation.")
MP121 = MPCode("MP-121", InvalidGrantError, f"{_AUTH} Expired key", "Expired key",
               "The key named by `kid` was registered more than a year ago. Keys expire one year after they "
               "were posted; register it again, or a new key, in the client's JWK set.")
MP123 = MPCode("MP-123", InvalidGrantError, "Invalid JWT header x5c", "Malformed x5c header",
               "The `x5c` header must be a JSON array of base64-encoded DER certificates (RFC 7517 §4.7).")
MP124 = MPCode("MP-124", InvalidGrantError, f"{_AUTH} Invalid JWT signature.", "Signature does not verify",
               "The grant's signature does not verify with the registered key named by `kid`. Sign with the "
               "private key that belongs to that public key.")
MP125 = MPCode("MP-125", InvalidGrantError, f"{_AUTH} Unsupported signing algorithm. Use RS256, RS384 or RS512",
               "Algorithm not allowed",
               "Grants must be signed with RS256, RS384 or RS512. `none`, HMAC (HS*) and other algorithms are "
               "refused.", origin="portvakt")
MP126 = MPCode("MP-126", InvalidGrantError, f"{_AUTH} Unknown key identifier (kid) for client.", "Unknown kid",
               "The `kid` in the JWT header is not one of the keys registered on the client. List the client's "
               "keys, or register the public key first.", origin="portvakt")
MP127 = MPCode("MP-127", InvalidGrantError,
               f"{_AUTH} Invalid JWT. The client requires pre-registered jwk and no key identifier (kid) provided",
               "kid required",
               "This client has registered keys, so its grants must name one of them with `kid` in the JWT "
               "header (and must not use x5c).", origin="portvakt")
MP128 = MPCode("MP-128", InvalidGrantError,
               f"{_AUTH} The client has no valid registered key. Register a public key before requesting tokens",
               "A key must be registered first",
               "An altinn_virksys system must have its own asymmetric key. It cannot get tokens until a public "
               "key is registered on it, and it never authenticates with an enterprise certificate. The same "
               "holds when its last key has expired.", origin="portvakt")
MP129 = MPCode("MP-129", InvalidGrantError,
               f"{_AUTH} An altinn_virksys system never authenticates with an enterprise certificate. Sign with the "
               "system's own registered key and send its kid", "Certificate not allowed for a system",
               "An altinn_virksys system must have its own asymmetric key, and its grants name that key with `kid`. "
               "The organisation's enterprise certificate is refused here, with or without a kid: it would work "
               "for every system of the organisation at once (the universal-key problem, docs/protocol.md §3.2 "
               "and §5).", origin="portvakt")
MP130 = MPCode("MP-130", InvalidGrantError, "JWT is expired", "Expired grant",
               "The grant's `exp` has passed. Make a fresh grant right before each request and check that "
               "your clock is synchronised (NTP).")
MP131 = MPCode("MP-131", InvalidGrantError, "Issue time is after now", "Grant issued in the future",
               "The grant's `iat` is more than 10 seconds ahead of this server's clock. Synchronise your clock.",
               origin="portvakt")
MP132 = MPCode("MP-132", InvalidGrantError, "Invalid assertion. exp - iat must be at most 120 seconds",
               "Grant lives too long",
               "A grant may live at most 120 seconds: `exp` minus `iat` must be 120 or less.", origin="portvakt")
MP133 = MPCode("MP-133", InvalidGrantError,
               "Invalid assertion. Issue time is more than 10 seconds in the past (strict mode: iat must be "
               "within 10 seconds of now, as in Maskinporten)", "Grant issued too long ago",
               "This server runs in strict mode (decision T13): the grant's `iat` must be within 10 seconds of "
               "this server's clock in either direction, as Maskinporten requires, not merely inside the grant's "
               "120-second life. Make the grant right before the request and synchronise your clock (NTP).",
               origin="portvakt")
MP200 = MPCode("MP-200", InvalidScopeError, "Token request contains invalid scopes for client, ", "Invalid scope",
               "Every requested scope must be registered on the client and active. Add the scope to the "
               "client, or ask only for scopes it has.")
MP201 = MPCode("MP-201", InvalidScopeError, "Token request contains scopes not allowed for the client's "
               "integration type, ", "Scope not allowed for the integration type",
               "The API provider limited this scope to other integration types than the client's.")
MP250 = MPCode("MP-250", ForbiddenError, "Consumer has not been granted access to the scope ", "No access",
               "The consumer organisation is not on the scope's access list. The API provider must grant the "
               "consumer access to the scope.")
MP251 = MPCode("MP-251", ForbiddenError, "Consumer ", "No delegation",
               "The consumer has not delegated the scope to the supplier in Altinn. The consumer's access "
               "manager must delegate the API (its delegation scheme) to the supplier's organisation.")
MP260 = MPCode("MP-260", InvalidRequestError, "Validation of JWT claim failed: The combination consumer_org in "
               "claim and delegation scope on client is invalid", "consumer_org is the client's own",
               "consumer_org names the organisation that owns the client. Leave consumer_org out to act for "
               "your own organisation.", origin="portvakt")
MP261 = MPCode("MP-261", InvalidScopeError, "Scope cannot be delegated, it has no delegation source: ",
               "Scope without delegation source",
               "A token on behalf of a consumer (consumer_org) can only carry scopes that the API provider "
               "opened for delegation through a delegation source.", origin="portvakt")
MP270 = MPCode("MP-270", InvalidAuthorizationDetailsError,
               "authorization_details is not supported as a request parameter. Send it in the JWT grant",
               "authorization_details as a form parameter",
               "The token request carried an `authorization_details` form parameter (RFC 9396 §6.2). This server, "
               "like Maskinporten, reads authorization details from the signed JWT grant only: put the "
               "`authorization_details` claim in the grant, e.g. for an Altinn system user (urn:altinn:systemuser, "
               "docs/protocol.md §6.5), and leave the form parameter out.", origin="portvakt")
MP301 = MPCode("MP-301", InvalidAuthorizationDetailsError, "Unknown authorization details type",
               "Unknown authorization details type",
               "The grant's `authorization_details` must be a JSON array of exactly one object whose `type` this "
               "server supports; its metadata lists them under `authorization_details_types_supported` "
               "(urn:altinn:systemuser). Ask for one customer per grant.")
MP302 = MPCode("MP-302", InvalidAuthorizationDetailsError, "Unknown fields in the authorization details",
               "Unknown fields in the authorization details",
               "An urn:altinn:systemuser object may hold only `type`, `systemuser_org` and `externalRef`, and "
               "`systemuser_org` only `authority` and `ID`. The text after the colon names the field that does "
               "not belong.")
MP303 = MPCode("MP-303", InvalidAuthorizationDetailsError, "Invalid authorization details values",
               "Invalid authorization details values",
               "A value in the grant's `authorization_details` is not valid, or no system user matches it. "
               "`systemuser_org` must be {\"authority\": \"iso6523-actorid-upis\", \"ID\": \"0192:<orgno>\"} naming "
               "the customer that owns the system user (for an agent system user, the facilitator, never one of "
               "its clients); `externalRef`, if given, a string; and the grant may not also carry `consumer_org`. "
               "When the values are valid but no system user matches, the error is "
               "invalid_altinn_customer_configuration: check that the system in the system register lists this "
               "client_id, that the customer approved the system user and has not deleted it, and that the grant "
               "sends the externalRef the system user was created with (left out, it means the customer's "
               "orgno).")
#: MP-303 when the values are valid but no system user matches them: Altinn's error name (decision U50).
MP303_NOT_FOUND = MPCode("MP-303", InvalidAltinnCustomerConfigurationError, MP303.text, MP303.title,
                         MP303.explanation)
MP290 = MPCode("MP-290", TemporarilyUnavailableError, "The delegation source could not be reached. Try again later",
               "Delegation source unavailable",
               "portvakt could not ask the delegation source (the Altinn side) whether the consumer delegated "
               "the scope. Tokens that need a delegation are refused until it answers.", origin="portvakt")
MP291 = MPCode("MP-291", TemporarilyUnavailableError,
               "The certificate revocation list could not be fetched. Try again later",
               "Revocation list unavailable",
               "The enterprise certificate's revocation status must be confirmed before a token is issued, and the "
               "certificate authority's revocation list (CRL) could not be fetched in time. No token was issued; "
               "send a new grant after the Retry-After delay.", origin="portvakt")
MP292 = MPCode("MP-292", TemporarilyUnavailableError, "The system user register could not be reached. Try again later",
               "System user register unavailable",
               "portvakt could not ask the system register (the Altinn side) for the system user the grant's "
               "`authorization_details` names. Tokens for system users are refused until it answers; send a new "
               "grant after the Retry-After delay.", origin="portvakt")
MP429 = MPCode("MP-429", SlowDownError, "Too many requests. Wait the Retry-After seconds, then try again",
               "Too many requests",
               "This server limits how often tokens may be asked for: per source address (every request to /token "
               "counts) and per client (every token issued to it counts; a grant that does not verify never counts "
               "against the client it names). The answer is HTTP 429 with Retry-After, the seconds until the next "
               "request is let through. An access token lives for its `expires_in` seconds: keep it and use it "
               "until shortly before then, instead of asking for a new one per call.", origin="portvakt")
MP500 = MPCode("MP-500", ServerError, "Internal error", "Internal error",
               "Something unexpected went wrong on the server. Quote the trace_id to the operator.",
               origin="portvakt")
MP504 = MPCode("MP-504", TemporarilyUnavailableError,
               "The token service's registry is not confirmed fresh. Try again later", "Registry not fresh",
               "This node could not confirm its cached registry (clients, keys, scopes, access) with the database "
               "within the configured staleness bound, so a removed key or a revoked access might still look "
               "valid here. It refuses tokens until it is in step again.", origin="portvakt")
MP503 = MPCode("MP-503", TemporarilyUnavailableError, "The token service could not read its registry. Try again later",
               "Registry unavailable",
               "portvakt's database was busy or could not be reached in time, so the grant could not be checked "
               "or recorded. No token was issued; send a new grant after the Retry-After delay.",
               origin="portvakt")

MP_CODES: dict[str, MPCode] = {c.code: c for c in (
    MP010, MP011, MP012, MP100, MP110, MP120, MP121, MP122, MP123, MP124, MP125, MP126, MP127, MP128, MP129,
    MP130, MP131, MP132, MP133, MP200, MP201, MP250, MP251, MP260, MP261, MP270, MP290, MP291, MP292, MP301, MP302,
    MP303, MP429, MP500, MP503, MP504)}
