"""Server-made PKCS#12 files (RFC 7292) with AES-256-CBC/PBKDF2 (RFC 8018), and loading them back.

Nothing here touches the disk or a log: the file and its password live only in the returned bundle.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupported
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, generate_private_key
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    KeySerializationEncryption,
    PrivateFormat,
    PublicFormat,
    pkcs12,
)
from cryptography.x509.oid import NameOID

from .errors import JoseError, KeyFormatError
from .private import PrivateKeyHandle

#: Easy to read on a phone and type by hand: no 0/O/o, 1/l/I look-alikes.
PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"  # noqa: S105 (an alphabet)
PASSWORD_LENGTH = 24
#: PBKDF2-HMAC-SHA256 rounds: the password has ~139 bits of entropy, so rounds only need to be "not few".
KDF_ROUNDS = 100_000
MAX_VALID_DAYS = 3650
#: X.520 upper bounds: ub-common-name and ub-organization-name are 64 (RFC 5280 Appendix A.1).
_MAX_NAME = 64
#: version 3, then the authSafe ContentInfo whose type is pkcs7-data 1.2.840.113549.1.7.1 (RFC 7292 §4).
_VERSION_3 = b"\x02\x01\x03\x30"
_PKCS7_DATA = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01"

_NOT_PKCS12 = "the file is not a PKCS#12 (.p12/.pfx) file"
_WRONG_PASSWORD = "the PKCS#12 file could not be opened: the password is wrong (or the file is damaged)"  # noqa: S105


@dataclass(frozen=True, repr=False)
class Pkcs12Bundle:
    """A made PKCS#12 file, its one-time password, and the public JWK to register; repr hides secrets."""

    data: bytes
    password: str
    public_jwk: dict[str, Any]
    kid: str
    not_after: datetime

    def __repr__(self) -> str:
        return f"Pkcs12Bundle(kid={self.kid!r}, not_after={self.not_after.isoformat()}, data=<{len(self.data)} bytes>)"


def make_password(length: int = PASSWORD_LENGTH) -> str:
    """A random password of `length` (≥ 20) characters from PASSWORD_ALPHABET, drawn with `secrets`."""
    if length < 20:
        raise JoseError("a PKCS#12 password must have at least 20 characters")
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def make_pkcs12(common_name: str, *, organisation: str | None = None, orgno: str | None = None,
                bits: Literal[2048, 3072] = 2048, valid_days: int = 365, clock_now: datetime) -> Pkcs12Bundle:
    """A new RSA key and self-signed certificate in a PKCS#12 under AES-256-CBC + PBKDF2-SHA256 (RFC 7292, 8018)."""
    if bits not in (2048, 3072):
        raise JoseError("a server-made key has 2048 or 3072 bits")
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        raise JoseError(f"valid_days must be 1 to {MAX_VALID_DAYS}")
    if clock_now.tzinfo is None:
        raise JoseError("clock_now must be timezone-aware")
    name = _subject(common_name, organisation, orgno)
    key = generate_private_key(public_exponent=65537, key_size=bits)
    handle = PrivateKeyHandle(key)
    not_after = clock_now + timedelta(days=valid_days)
    cert = _self_signed(key, name, clock_now, not_after)
    password = make_password()
    data = pkcs12.serialize_key_and_certificates(handle.kid.encode("ascii"), key, cert, None,
                                                 _encryption(password.encode("ascii")))
    return Pkcs12Bundle(data=data, password=password, public_jwk=handle.public_jwk, kid=handle.kid,
                        not_after=not_after)


def _encryption(password: bytes) -> KeySerializationEncryption:
    """AES-256-CBC with PBKDF2-HMAC-SHA256 for keys and certificates, an HMAC-SHA256 MAC (RFC 7292, RFC 8018)."""
    return (
        PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(KDF_ROUNDS)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(SHA256())
        .build(password)
    )


def _subject(common_name: str, organisation: str | None, orgno: str | None) -> x509.Name:
    """CN, and O and serialNumber when given (RFC 5280 §4.1.2.6); each 1-64 printable characters."""
    attributes = [(NameOID.COMMON_NAME, common_name, "common_name")]
    if organisation is not None:
        attributes.append((NameOID.ORGANIZATION_NAME, organisation, "organisation"))
    if orgno is not None:
        attributes.append((NameOID.SERIAL_NUMBER, orgno, "orgno"))
    for _, value, label in attributes:
        if not isinstance(value, str) or not 1 <= len(value.strip()) <= _MAX_NAME or not value.isprintable():
            raise JoseError(f"{label} must be 1 to {_MAX_NAME} printable characters")
    return x509.Name([x509.NameAttribute(oid, value.strip()) for oid, value, _ in attributes])


def _self_signed(key: RSAPrivateKey, name: x509.Name, not_before: datetime, not_after: datetime) -> x509.Certificate:
    """A self-signed end-entity signing certificate (RFC 5280 §4.2.1.3, §4.2.1.9)."""
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, SHA256())
    )


def is_pkcs12(data: bytes) -> bool:
    """True if `data` starts like a PFX: SEQUENCE { version 3, ContentInfo pkcs7-data ... } (RFC 7292 §4)."""
    if len(data) < 24 or data[0] != 0x30:
        return False
    first = data[1]
    header = 2 if first < 0x80 else 2 + (first & 0x7F)
    if not 2 < header <= 6:
        return False
    body = data[header:]
    return body.startswith(_VERSION_3) and _PKCS7_DATA in body[4:20]


def _open(data: bytes, password: bytes) -> pkcs12.PKCS12KeyAndCertificates:
    """Open a PKCS#12 file (RFC 7292 §4) whose key is RSA; KeyFormatError for each failure, never the password."""
    if not isinstance(data, bytes) or not isinstance(password, bytes):
        raise KeyFormatError("a PKCS#12 file and its password must be bytes")
    if not is_pkcs12(data):
        raise KeyFormatError(_NOT_PKCS12)
    try:
        contents = pkcs12.load_pkcs12(data, password)
    except (ValueError, TypeError, _CryptoUnsupported):
        raise KeyFormatError(_WRONG_PASSWORD) from None
    if contents.key is None:
        raise KeyFormatError("the PKCS#12 file holds no private key")
    if not isinstance(contents.key, RSAPrivateKey):
        raise KeyFormatError("only RSA private keys are accepted")
    return contents


def load_pkcs12(data: bytes, password: bytes) -> PrivateKeyHandle:
    """The RSA private key of a PKCS#12 file (RFC 7292 §4); KeyFormatError for each failure, never the password."""
    key = _open(data, password).key
    assert isinstance(key, RSAPrivateKey)
    return PrivateKeyHandle(key)


def _spki(cert: x509.Certificate) -> bytes:
    """The DER SubjectPublicKeyInfo of a certificate (RFC 5280 §4.1.2.7), to match it with a key."""
    return cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def _leaf_first(leaf: x509.Certificate, others: list[x509.Certificate]) -> list[x509.Certificate]:
    """The leaf, then each certificate's issuer among `others` in turn, then the rest as given (RFC 7517 §4.7)."""
    chain, rest = [leaf], list(others)
    while (issuer := next((c for c in rest if c.subject == chain[-1].issuer and c != chain[-1]), None)) is not None:
        chain.append(issuer)
        rest.remove(issuer)
    return chain + rest


def load_pkcs12_chain(data: bytes, password: bytes) -> tuple[PrivateKeyHandle, list[str]]:
    """The RSA key of a PKCS#12 file and its x5c: the key's certificate first, then the others (RFC 7517 §4.7)."""
    contents = _open(data, password)
    key = contents.key
    assert isinstance(key, RSAPrivateKey)
    handle = PrivateKeyHandle(key)
    certs = [c.certificate for c in ([contents.cert] if contents.cert else []) + list(contents.additional_certs)]
    if not certs:
        raise KeyFormatError("the PKCS#12 file holds no certificate")
    own = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    leaf = next((c for c in certs if _spki(c) == own), None)
    if leaf is None:
        raise KeyFormatError("no certificate in the PKCS#12 file holds its private key's public key")
    chain = _leaf_first(leaf, [c for c in certs if c is not leaf])
    return handle, [base64.b64encode(c.public_bytes(Encoding.DER)).decode("ascii") for c in chain]


def make_pkcs12_for(key: PrivateKeyHandle, x5c: Sequence[str], password: bytes, name: str) -> bytes:
    """A PKCS#12 of the key, its certificate x5c[0] and the chain x5c[1:], AES-256-CBC + PBKDF2-SHA256 (RFC 7292)."""
    if not isinstance(password, bytes) or not password:
        raise JoseError("a PKCS#12 password must be non-empty bytes")
    if not isinstance(name, str) or not 1 <= len(name) <= _MAX_NAME or not name.isprintable():
        raise JoseError(f"name must be 1 to {_MAX_NAME} printable characters")
    if isinstance(x5c, str | bytes) or not x5c:
        raise KeyFormatError("x5c must be a non-empty list of base64 DER certificates (RFC 7517 §4.7)")
    try:
        certs = [x509.load_der_x509_certificate(base64.b64decode(entry, validate=True)) for entry in x5c]
    except (binascii.Error, ValueError, TypeError):
        raise KeyFormatError("x5c must hold base64 (standard alphabet) DER certificates (RFC 7517 §4.7)") from None
    if _spki(certs[0]) != key._key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo):
        raise KeyFormatError("the first x5c certificate does not hold the key's public key")
    return pkcs12.serialize_key_and_certificates(name.encode("utf-8"), key._key, certs[0], certs[1:] or None,
                                                 _encryption(password))
