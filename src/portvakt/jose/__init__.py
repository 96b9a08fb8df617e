"""The jose room: the only place that imports joserfc and cryptography.

Parse public keys (JWK, PEM, X.509) and refuse private material; hold private keys; peek at,
verify and sign compact JWS with an explicit RS256/RS384/RS512 allow-list.
"""

from __future__ import annotations

from .compact import UnverifiedJWT, peek
from .errors import (
    BadSignature,
    JoseError,
    KeyFormatError,
    MalformedJWT,
    PrivateKeyRefused,
    UnsupportedAlgorithm,
)
from .keys import GRANT_ALGORITHMS, PublicKey, parse_jwks, parse_public_key, thumbprint
from .private import PrivateKeyHandle
from .signing import Signer, Verifier

__all__ = [
    "GRANT_ALGORITHMS",
    "BadSignature",
    "JoseError",
    "KeyFormatError",
    "MalformedJWT",
    "PrivateKeyHandle",
    "PrivateKeyRefused",
    "PublicKey",
    "Signer",
    "UnsupportedAlgorithm",
    "UnverifiedJWT",
    "Verifier",
    "parse_jwks",
    "parse_public_key",
    "peek",
    "thumbprint",
]
