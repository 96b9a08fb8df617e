"""Fixed values of the protocol that rooms which may not import each other share (domain, jose, client, portal)."""

from __future__ import annotations

#: The one grant type (RFC 7523 §2.1, docs/protocol.md §1.1); JWT_BEARER_SHORT is accepted at registration (A5).
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_BEARER_SHORT = "jwt_bearer_token"
#: A client's token_endpoint_auth_method, and the access token's client_amr (docs/protocol.md §2.2).
PRIVATE_KEY_JWT = "private_key_jwt"
#: client_amr of a grant signed with a national enterprise certificate in x5c (docs/protocol.md §5, T17).
CERTIFICATE_AMR = "virksomhetssertifikat"
#: client_amr of a grant signed with a European e-seal: qualified or not, as its QCStatements say (T17).
ESEAL_AMR = {"qualified": "QCForESeal", "non-qualified": "CForESeal"}
#: docs/protocol.md §3.3: at most this many keys on a client (A10).
MAX_KEYS_PER_CLIENT = 5
#: JWK members only private or symmetric keys have (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
#: The scopes of the portal's own client (decisions P1, H5): registered on it, and asked for in its grants.
PORTAL_CLIENT_SCOPES: tuple[str, ...] = (
    "idporten:dcr.write", "idporten:dcr.supplier", "idporten:scopes.write", "altinn:portal",
    "altinn:maskinporten/delegations.write", "altinn:maskinporten/delegationSchemes.write")
#: How tokens name an organisation (docs/protocol.md §2.2): {"authority": ISO6523_AUTHORITY, "ID": "0192:<orgno>"}.
ISO6523_AUTHORITY = "iso6523-actorid-upis"
ICD_NO_ORGNO = "0192"
#: The authorization details type of an Altinn system user (RFC 9396 §2, docs/protocol.md §6.5).
SYSTEMUSER_TYPE = "urn:altinn:systemuser"
#: The longest externalRef of a system user, in a request or a grant (docs/protocol.md §6.2, §6.5).
MAX_EXTERNAL_REF = 200

_ORGNO_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def is_valid_orgno(value: str) -> bool:
    """True for 9 digits whose last is the mod-11 check digit (Enhetsregisteret, docs/protocol.md §2.2)."""
    if len(value) != 9 or not value.isascii() or not value.isdigit():
        return False
    remainder = sum(int(d) * w for d, w in zip(value[:8], _ORGNO_WEIGHTS, strict=True)) % 11
    check = 0 if remainder == 0 else 11 - remainder
    return check != 10 and check == int(value[8])
