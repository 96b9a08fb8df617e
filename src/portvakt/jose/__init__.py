"""The jose room: the only place that imports joserfc and cryptography.

Parse public keys (JWK, PEM, X.509) and refuse private material; hold private keys; make and load
PKCS#12 files; peek at, verify and sign compact JWS with an explicit RS256/RS384/RS512 allow-list;
verify enterprise certificates sent as x5c against a trust store (docs/protocol.md §5).
"""

from __future__ import annotations

from .certificates import (
    CertificateProblem,
    CertificateRejected,
    Crl,
    CrlSource,
    CrlUnavailable,
    EnterpriseCertificate,
    TrustStore,
    load_crl,
    x5c_of_pem,
    x5c_thumbprint,
)
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
from .pkcs12 import Pkcs12Bundle, is_pkcs12, load_pkcs12, load_pkcs12_chain, make_pkcs12, make_pkcs12_for
from .private import PrivateKeyHandle
from .signing import Signer, Verifier

__all__ = [
    "GRANT_ALGORITHMS",
    "BadSignature",
    "CertificateProblem",
    "CertificateRejected",
    "Crl",
    "CrlSource",
    "CrlUnavailable",
    "EnterpriseCertificate",
    "JoseError",
    "KeyFormatError",
    "MalformedJWT",
    "Pkcs12Bundle",
    "PrivateKeyHandle",
    "PrivateKeyRefused",
    "PublicKey",
    "Signer",
    "TrustStore",
    "UnsupportedAlgorithm",
    "UnverifiedJWT",
    "Verifier",
    "is_pkcs12",
    "load_crl",
    "load_pkcs12",
    "load_pkcs12_chain",
    "make_pkcs12",
    "make_pkcs12_for",
    "parse_jwks",
    "parse_public_key",
    "peek",
    "thumbprint",
    "x5c_of_pem",
    "x5c_thumbprint",
]
