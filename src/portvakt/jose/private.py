"""An RSA private key held inside the jose room: generate, load/save PKCS#8 PEM, export as JWK."""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupported
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, generate_private_key
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    KeySerializationEncryption,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from joserfc.jwk import RSAKey

from .errors import KeyFormatError
from .keys import MAX_BITS, MIN_BITS, thumbprint

_UNREADABLE = "the private key could not be read: not a PEM private key, or the password is wrong"


class PrivateKeyHandle:
    """An RSA signing key; its kid is the RFC 7638 thumbprint of the public key. repr shows no material."""

    __slots__ = ("_jwk", "_key", "_public_jwk", "bits", "kid")

    def __init__(self, key: RSAPrivateKey) -> None:
        if not MIN_BITS <= key.key_size <= MAX_BITS:
            raise KeyFormatError(f"an RSA key must have {MIN_BITS} to {MAX_BITS} bits")
        self._key = key
        self._jwk = RSAKey.import_key(key)
        public = self._jwk.as_dict(private=False)
        self.kid: str = thumbprint(public)
        self.bits: int = key.key_size
        self._public_jwk: dict[str, Any] = {
            "kty": "RSA",
            "n": public["n"],
            "e": public["e"],
            "kid": self.kid,
            "alg": "RS256",
            "use": "sig",
        }

    def __repr__(self) -> str:
        return f"PrivateKeyHandle(kid={self.kid!r}, bits={self.bits})"

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The public JWK {kty, n, e, kid, alg: RS256, use: sig} (RFC 7517 §4, RFC 7518 §6.3.1)."""
        return dict(self._public_jwk)

    @classmethod
    def generate(cls, bits: int = 2048) -> PrivateKeyHandle:
        """Generate a new RSA key of `bits` (2048-8192, multiple of 8; NIST SP 800-131A)."""
        if not MIN_BITS <= bits <= MAX_BITS or bits % 8:
            raise KeyFormatError(f"an RSA key must have {MIN_BITS} to {MAX_BITS} bits, a multiple of 8")
        return cls(generate_private_key(public_exponent=65537, key_size=bits))

    @classmethod
    def from_pem(cls, data: bytes, password: bytes | None = None) -> PrivateKeyHandle:
        """Load a PKCS#8 or PKCS#1 PEM RSA private key (RFC 5208, RFC 8017 A.1.2), optionally encrypted."""
        if not isinstance(data, bytes) or (password is not None and not isinstance(password, bytes)):
            raise KeyFormatError("a PEM private key and its password must be bytes")
        try:
            key = load_pem_private_key(data, password=password)
        except TypeError:
            raise KeyFormatError(
                "the private key is encrypted but no password was given"
                if password is None
                else "a password was given but the private key is not encrypted"
            ) from None
        except (ValueError, _CryptoUnsupported):
            raise KeyFormatError(_UNREADABLE) from None
        if not isinstance(key, RSAPrivateKey):
            raise KeyFormatError("only RSA private keys are accepted")
        return cls(key)

    def to_pem(self, password: bytes | None = None) -> bytes:
        """PKCS#8 PEM (RFC 5208 §5); encrypted with the best available scheme when a password is given."""
        encryption: KeySerializationEncryption = NoEncryption()
        if password is not None:
            if not password:
                raise KeyFormatError("the password must not be empty")
            encryption = BestAvailableEncryption(password)
        return self._key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, encryption)

    def to_private_jwk(self) -> dict[str, Any]:
        """The full private JWK with kid, alg and use (RFC 7518 §6.3.2): for the key owner's download only."""
        private: dict[str, Any] = dict(self._jwk.as_dict(private=True))
        private.update(kid=self.kid, alg="RS256", use="sig")
        return private
