"""An RSA private key held inside the jose room: generate, load/save PKCS#8 PEM, load a private JWK, export as JWK."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupported
from cryptography.hazmat.primitives.asymmetric.rsa import (
    RSAPrivateKey,
    RSAPrivateNumbers,
    RSAPublicNumbers,
    generate_private_key,
)
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    KeySerializationEncryption,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from joserfc.jwk import RSAKey
from joserfc.util import urlsafe_b64decode

from .errors import KeyFormatError
from .keys import GRANT_ALGORITHMS, MAX_BITS, MIN_BITS, thumbprint

_UNREADABLE = "the private key could not be read: not a PEM private key, or the password is wrong"
#: The members of a one-prime RSA private JWK (RFC 7518 §6.3.1, §6.3.2), in RSAPrivateKey order (RFC 8017 A.1.2).
_JWK_MEMBERS = ("n", "e", "d", "p", "q", "dp", "dq", "qi")
#: Base64url of an 8192-bit number is 1366 characters; anything much longer is not an accepted key's member.
_MAX_MEMBER = 1400


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

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, object]) -> PrivateKeyHandle:
        """Load a one-prime RSA private JWK with all its members n, e, d, p, q, dp, dq, qi (RFC 7518 §6.3.2; no
        `oth`); the members must make one consistent key. The kid is the thumbprint, whatever the JWK's `kid`."""
        if not isinstance(jwk, Mapping):
            raise KeyFormatError("a private JWK must be a JSON object (RFC 7517 §4)")
        if "keys" in jwk:
            raise KeyFormatError("this is a JWK Set (RFC 7517 §5); give one private JWK")
        if jwk.get("kty") != "RSA":
            raise KeyFormatError('only RSA private JWKs are accepted ("kty": "RSA")')
        if "oth" in jwk:
            raise KeyFormatError('a multi-prime RSA key ("oth", RFC 7518 §6.3.2.7) is not accepted')
        _check_jwk_parameters(jwk)
        n, e, d, p, q, dp, dq, qi = (_jwk_uint(jwk, member) for member in _JWK_MEMBERS)
        if not MIN_BITS <= n.bit_length() <= MAX_BITS:
            raise KeyFormatError(f"an RSA key must have {MIN_BITS} to {MAX_BITS} bits")
        try:
            key = RSAPrivateNumbers(p, q, d, dp, dq, qi, RSAPublicNumbers(e, n)).private_key()
        except (ValueError, TypeError, _CryptoUnsupported):
            raise KeyFormatError("the JWK is not a valid RSA private key: its members do not make one key "
                                 "(RFC 8017 §3.2)") from None
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


def _check_jwk_parameters(jwk: Mapping[str, object]) -> None:
    """A private JWK's optional parameters, if given: `alg` RS256/RS384/RS512 (RFC 7518 §3.3), `use` "sig" (RFC 7517
    §4.2), `kid` a non-empty string (RFC 7517 §4.5)."""
    if jwk.get("alg") not in (None, *GRANT_ALGORITHMS):
        raise KeyFormatError('the JWK\'s "alg" must be RS256, RS384 or RS512')
    if jwk.get("use") not in (None, "sig"):
        raise KeyFormatError('the JWK\'s "use" must be "sig" (RFC 7517 §4.2)')
    kid = jwk.get("kid")
    if kid is not None and (not isinstance(kid, str) or not kid):
        raise KeyFormatError('the JWK\'s "kid" must be a non-empty string (RFC 7517 §4.5)')


def _jwk_uint(jwk: Mapping[str, object], member: str) -> int:
    """One member as a number (RFC 7518 §2 Base64urlUInt, no padding); the message names the member, never its
    value."""
    value = jwk.get(member)
    if value is None or value == "":
        raise KeyFormatError("an RSA private JWK needs the members n, e, d, p, q, dp, dq and qi (RFC 7518 §6.3.2); "
                             f'"{member}" is missing')
    if not isinstance(value, str):
        raise KeyFormatError(f'the JWK member "{member}" must be a base64url string (RFC 7518 §2)')
    if len(value) > _MAX_MEMBER:
        raise KeyFormatError(f'the JWK member "{member}" is too long for a key of at most {MAX_BITS} bits')
    try:
        return int.from_bytes(urlsafe_b64decode(value.encode("ascii")), "big")
    except ValueError:  # binascii.Error and UnicodeEncodeError are ValueErrors
        raise KeyFormatError(f'the JWK member "{member}" is not base64url without padding (RFC 7518 §2)') from None
