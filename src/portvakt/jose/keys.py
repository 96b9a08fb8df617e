"""Public RSA keys from JWK, PEM (SPKI / PKCS#1) or an X.509 certificate; RFC 7638 thumbprints."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupported
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey, RSAPublicNumbers
from cryptography.hazmat.primitives.serialization import Encoding, load_pem_public_key
from cryptography.x509 import load_pem_x509_certificate
from joserfc.jwk import thumbprint as _jwk_thumbprint
from joserfc.util import base64_to_int, int_to_base64

from ._json import JSONRefusedError, loads_object
from ._material import refuse_private_material
from .errors import KeyFormatError

#: The only signature algorithms a grant may use (Maskinporten: RS256/RS384/RS512; RFC 7518 §3.3).
GRANT_ALGORITHMS: tuple[str, ...] = ("RS256", "RS384", "RS512")
MIN_BITS = 2048
MAX_BITS = 8192
#: The only RSA public exponent accepted (F4, "AQAB"): what key generators make; a big e makes verifying slow.
PUBLIC_EXPONENT = 65537

_MAX_X5C = 5
_MAX_X5C_ENTRY = 22_000  # base64 of a 16 KiB DER certificate
_KID = re.compile(r"[A-Za-z0-9._-]{1,100}")
_PEM_LABEL = re.compile(r"-----BEGIN ([^-\r\n]{1,64})-----")
_PUBLIC_LABELS = (["PUBLIC KEY"], ["RSA PUBLIC KEY"])
_CRYPTO_ERRORS = (ValueError, TypeError, _CryptoUnsupported)

_EXPECTED = (
    "expected an RSA public key as a JWK, as PEM (PUBLIC KEY or RSA PUBLIC KEY) or as one PEM certificate (CERTIFICATE)"
)
_ONLY_RSA = "only RSA keys are accepted, because grants must be signed with RS256, RS384 or RS512"


@dataclass(frozen=True)
class PublicKey:
    """A validated RSA public key: `jwk` holds public members only (RFC 7517 §4, RFC 7518 §6.3.1)."""

    jwk: dict[str, Any]
    kid: str
    bits: int


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 §3 SHA-256 thumbprint over the required RSA members e, kty, n (base64url, no padding)."""
    n, e = jwk.get("n"), jwk.get("e")
    if jwk.get("kty") != "RSA" or not isinstance(n, str) or not isinstance(e, str):
        raise KeyFormatError("a thumbprint needs an RSA JWK with string members n and e (RFC 7638 §3.2)")
    return _jwk_thumbprint({"e": e, "kty": "RSA", "n": n})


def check_kid(kid: object) -> str:
    """Return `kid` if it is 1-100 characters of A-Z a-z 0-9 . _ - (our rule on RFC 7517 §4.5)."""
    if not isinstance(kid, str) or not _KID.fullmatch(kid):
        raise KeyFormatError("a kid must be 1 to 100 characters of A-Z, a-z, 0-9, '.', '_' or '-'")
    return kid


def parse_public_key(data: str | bytes | Mapping[str, Any], *, kid: str | None = None) -> PublicKey:
    """Parse an RSA public key from JWK, PEM or a certificate; refuse private material (RFC 7517 §9.2)."""
    loaded = _load(data)
    if kid is not None:
        check_kid(kid)
    if isinstance(loaded, Mapping):
        return _from_jwk(loaded, kid)
    return _from_pem(loaded, kid)


def parse_jwks(data: str | bytes | Mapping[str, Any]) -> list[PublicKey]:
    """Parse a JWK Set {"keys": [...]} (RFC 7517 §5), each key as parse_public_key; kids must be unique."""
    obj = _load(data)
    members = obj.get("keys") if isinstance(obj, Mapping) else None
    if not isinstance(members, list):
        raise KeyFormatError('a JWK Set must be a JSON object with a "keys" array (RFC 7517 §5.1)')
    keys: list[PublicKey] = []
    for index, member in enumerate(members):
        if not isinstance(member, Mapping):
            raise KeyFormatError(f"keys[{index}] is not a JSON object")
        try:
            keys.append(_from_jwk(member, None))
        except KeyFormatError as err:
            raise KeyFormatError(f"keys[{index}]: {err}") from None
    if len({key.kid for key in keys}) != len(keys):
        raise KeyFormatError("two keys in the set have the same kid (RFC 7517 §4.5)")
    return keys


def cryptography_public_key(key: PublicKey) -> RSAPublicKey:
    """Import a PublicKey's n and e once into a cryptography key object (RFC 7518 §6.3.1)."""
    jwk = key.jwk
    if jwk.get("kty") != "RSA":
        raise KeyFormatError(_ONLY_RSA)
    numbers = _rsa_numbers(_b64_int(jwk.get("n")), _b64_int(jwk.get("e")))
    try:
        return numbers.public_key()
    except _CRYPTO_ERRORS:
        raise KeyFormatError("the RSA public key is not valid") from None


def _load(data: object) -> Mapping[str, Any] | str:
    """Return a JSON object or PEM text, refusing private material in the raw input and the parsed JSON."""
    refuse_private_material(data)
    if isinstance(data, Mapping):
        return data
    text = _as_text(data)
    if not text.lstrip().startswith("{"):
        return text
    obj = _load_json(text)
    refuse_private_material(obj)  # catches escaped member names such as "\u0064"
    return obj


def _as_text(data: object) -> str:
    """Decode bytes input as UTF-8 (PEM and JSON are text); anything else is refused."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise KeyFormatError(_EXPECTED + "; binary (DER) input is not accepted") from None
    if not isinstance(data, str):
        raise KeyFormatError(_EXPECTED)
    return data.removeprefix("\ufeff")


def _load_json(text: str) -> dict[str, Any]:
    """Parse JSON text that must be one object; the message never echoes the input."""
    try:
        return loads_object(text)
    except JSONRefusedError:
        raise KeyFormatError("the JSON is not valid: expected one JSON object") from None


def _b64_int(value: object) -> int:
    """Decode a base64url unsigned integer member (RFC 7518 §2 Base64urlUInt)."""
    if not isinstance(value, str) or not value:
        raise KeyFormatError("an RSA JWK needs non-empty base64url string members n and e")
    try:
        return base64_to_int(value)
    except (ValueError, TypeError):
        raise KeyFormatError("an RSA JWK member is not valid base64url (RFC 7518 §2)") from None


def _rsa_numbers(n: int, e: int) -> RSAPublicNumbers:
    """Check size and exponent before any use: 2048 <= bits <= 8192 (NIST SP 800-131A), e = 65537."""
    if not MIN_BITS <= n.bit_length() <= MAX_BITS:
        raise KeyFormatError(f"an RSA key must have {MIN_BITS} to {MAX_BITS} bits")
    _check_exponent(e)
    if n % 2 == 0:
        raise KeyFormatError("the RSA modulus n must be odd")
    return RSAPublicNumbers(e, n)


def _check_exponent(e: int) -> None:
    """Only e = 65537 (docs/security.md "Costly RSA exponent"; inside FIPS 186-5 §A.1.1's 2^16 < e < 2^256)."""
    if e != PUBLIC_EXPONENT:
        raise KeyFormatError(f"the RSA public exponent must be {PUBLIC_EXPONENT} (AQAB), as every RSA "
                             "library makes by default; other exponents are refused")


def _jwk_extras(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Keep alg/use/x5c if given; alg must be RS256/384/512, use "sig", x5c an array of strings (RFC 7517
    §4.2-4.4, §4.7; the certificate itself is checked where it locks a client, docs/protocol.md §5.2 rule 6)."""
    extras: dict[str, Any] = {}
    alg, use, key_ops = obj.get("alg"), obj.get("use"), obj.get("key_ops")
    if alg is not None:
        if alg not in GRANT_ALGORITHMS:
            raise KeyFormatError('a key\'s "alg" must be RS256, RS384 or RS512')
        extras["alg"] = alg
    if use is not None:
        if use != "sig":
            raise KeyFormatError('a key\'s "use" must be "sig" (RFC 7517 §4.2)')
        extras["use"] = use
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise KeyFormatError('a key\'s "key_ops" must include "verify" (RFC 7517 §4.3)')
    x5c = obj.get("x5c")
    if x5c is not None:
        if not isinstance(x5c, list) or not 0 < len(x5c) <= _MAX_X5C or not all(
                isinstance(c, str) and 0 < len(c) <= _MAX_X5C_ENTRY for c in x5c):
            raise KeyFormatError(f'a key\'s "x5c" must be an array of 1 to {_MAX_X5C} base64 DER certificates '
                                 "(RFC 7517 §4.7)")
        extras["x5c"] = list(x5c)
    return extras


def _from_jwk(obj: Mapping[str, Any], kid: str | None) -> PublicKey:
    """Build a PublicKey from an RSA JWK (RFC 7518 §6.3.1), keeping public members only."""
    kty = obj.get("kty")
    if kty != "RSA":
        raise KeyFormatError(_ONLY_RSA if isinstance(kty, str) else 'a JWK needs a "kty" member')
    n, e = _b64_int(obj.get("n")), _b64_int(obj.get("e"))
    extras = _jwk_extras(obj)
    own_kid = obj.get("kid")
    if own_kid is not None:
        check_kid(own_kid)
    return _build(n, e, kid if kid is not None else own_kid, extras)


def _from_pem(text: str, kid: str | None) -> PublicKey:
    """Build a PublicKey from one PEM public key or one certificate (RFC 7468 §5, §13); PEM has no place for `use`,
    and every registered key is a signature key, so the JWK gets `"use": "sig"` (docs/protocol.md §3.3)."""
    labels = _PEM_LABEL.findall(text)
    extras: dict[str, Any] = {"use": "sig"}
    key: object
    try:
        if labels == ["CERTIFICATE"]:
            cert = load_pem_x509_certificate(text.encode("utf-8"))
            extras["x5c"] = [base64.b64encode(cert.public_bytes(Encoding.DER)).decode("ascii")]
            key = cert.public_key()
        elif labels in _PUBLIC_LABELS:
            key = load_pem_public_key(text.encode("utf-8"))
        else:
            raise KeyFormatError(_EXPECTED)
    except _CRYPTO_ERRORS:
        raise KeyFormatError("the PEM data could not be read as a public key or certificate") from None
    if not isinstance(key, RSAPublicKey):
        raise KeyFormatError(_ONLY_RSA)
    numbers = key.public_numbers()
    return _build(numbers.n, numbers.e, kid, extras)


def _build(n: int, e: int, kid: str | None, extras: dict[str, Any]) -> PublicKey:
    """Validate n/e with cryptography and assemble the canonical public JWK (RFC 7517 §4)."""
    try:
        _rsa_numbers(n, e).public_key()
    except _CRYPTO_ERRORS:
        raise KeyFormatError("the RSA public key is not valid") from None
    jwk: dict[str, Any] = {"kty": "RSA", "n": int_to_base64(n), "e": int_to_base64(e)}
    jwk["kid"] = kid if kid is not None else thumbprint(jwk)
    jwk.update(extras)
    return PublicKey(jwk=jwk, kid=jwk["kid"], bits=n.bit_length())
