"""The jose room: the only place that imports joserfc and cryptography.

Parse public keys (JWK, PEM, X.509) and refuse private material; hold private keys; make and load
PKCS#12 files; peek at, verify and sign compact JWS with an explicit RS256/RS384/RS512 allow-list.
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
from .pkcs12 import Pkcs12Bundle, is_pkcs12, load_pkcs12, make_pkcs12
from .private import PrivateKeyHandle
from .signing import Signer, Verifier

__all__ = [
    "GRANT_ALGORITHMS",
    "BadSignature",
    "JoseError",
    "KeyFormatError",
    "MalformedJWT",
    "Pkcs12Bundle",
    "PrivateKeyHandle",
    "PrivateKeyRefused",
    "PublicKey",
    "Signer",
    "UnsupportedAlgorithm",
    "UnverifiedJWT",
    "Verifier",
    "is_pkcs12",
    "load_pkcs12",
    "make_pkcs12",
    "parse_jwks",
    "parse_public_key",
    "peek",
    "thumbprint",
]
