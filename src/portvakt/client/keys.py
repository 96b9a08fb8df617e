"""The vendor's private key from a file: PEM (PKCS#8/PKCS#1, optionally encrypted), PKCS#12 (.p12/.pfx) or a private
JWK (the JSON the portal's browser key pair offers); and an enterprise certificate's chain, for x5c grants
(docs/protocol.md §5)."""

from __future__ import annotations

import base64
import binascii
import json
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from portvakt.jose import (
    KeyFormatError,
    PrivateKeyHandle,
    is_pkcs12,
    load_pkcs12,
    load_pkcs12_chain,
    parse_public_key,
    x5c_of_pem,
)

KeyFileKind = Literal["pkcs12", "encrypted-pem", "jwk", "pem"]
PKCS12_SUFFIXES = (".p12", ".pfx")
#: A JWK file is small: a 8192-bit private JWK is about 6 KB.
_MAX_JWK_BYTES = 64 * 1024
#: PKCS#8 EncryptedPrivateKeyInfo (RFC 7468 §11) and OpenSSL's legacy encrypted PEM header.
_ENCRYPTED_PEM = (b"-----BEGIN ENCRYPTED PRIVATE KEY-----", b"Proc-Type: 4,ENCRYPTED")


def _read(path: str | Path) -> tuple[Path, bytes]:
    """The file's bytes; a readable KeyFormatError (the path and the OS reason only) if it cannot be read."""
    file = Path(path)
    try:
        return file, file.read_bytes()
    except OSError as exc:
        raise KeyFormatError(f"cannot read the key file {file}: {exc.strerror or exc.__class__.__name__}") from None


def _kind(file: Path, data: bytes) -> KeyFileKind:
    """Decide by content (RFC 7292 §4 PFX structure), then by the .p12/.pfx extension."""
    if is_pkcs12(data) or file.suffix.lower() in PKCS12_SUFFIXES:
        return "pkcs12"
    if any(marker in data for marker in _ENCRYPTED_PEM):
        return "encrypted-pem"
    if data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] in (b"{", b"["):  # JSON: a PEM starts with "-----"
        return "jwk"
    return "pem"


def key_file_kind(path: str | Path) -> KeyFileKind:
    """"pkcs12" or "encrypted-pem" (both need a password), "jwk" (a JSON private JWK), or "pem" (a plain PEM key,
    or not a key at all)."""
    return _kind(*_read(path))


def _private_jwk(file: Path, data: bytes) -> tuple[PrivateKeyHandle, str]:
    """A private JWK file's key (the jose room reads and checks the JWK, RFC 7518 §6.3.2), with its kid: the JWK's
    own, else the RFC 7638 thumbprint."""
    if len(data) > _MAX_JWK_BYTES:
        raise KeyFormatError(f"{file.name} is too large for a JWK")
    try:
        jwk = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise KeyFormatError(f"{file.name} is not valid JSON; expected a private JWK or a PEM key") from None
    if not isinstance(jwk, dict):
        raise KeyFormatError(f"{file.name} must hold one JSON object: a private JWK (RFC 7517 §4)")
    try:
        handle = PrivateKeyHandle.from_jwk(jwk)
    except KeyFormatError as exc:
        raise KeyFormatError(f"{file.name}: {exc}") from None
    kid = jwk.get("kid")
    return handle, kid if isinstance(kid, str) else handle.kid


def load_private_jwk(path: str | Path) -> tuple[PrivateKeyHandle, str]:
    """An RSA private JWK file (RFC 7518 §6.3.2, as the portal's browser key pair offers it) and its kid: the JWK's
    own `kid`, else the key's RFC 7638 thumbprint."""
    return _private_jwk(*_read(path))


def load_private_key(path: str | Path, password: bytes | str | None = None) -> PrivateKeyHandle:
    """A private key from a PEM file (PKCS#8 or PKCS#1, optionally encrypted), a PKCS#12 file (RFC 7292) or a private
    JWK file (RFC 7518 §6.3.2; it has no password)."""
    file, data = _read(path)
    secret = password.encode("utf-8") if isinstance(password, str) else password
    kind = _kind(file, data)
    if kind == "pkcs12":
        if secret is None:
            raise KeyFormatError("the PKCS#12 file needs its password")
        return load_pkcs12(data, secret)
    if kind == "jwk":
        return _private_jwk(file, data)[0]
    return PrivateKeyHandle.from_pem(data, secret)


def load_certificate(path: str | Path, password: bytes | str) -> tuple[PrivateKeyHandle, list[str]]:
    """The key and x5c chain (leaf first, RFC 7517 §4.7) of an enterprise certificate's PKCS#12 (RFC 7292)."""
    file, data = _read(path)
    secret = password.encode("utf-8") if isinstance(password, str) else password
    if not is_pkcs12(data):
        raise KeyFormatError(f"{file.name} is not a PKCS#12 (.p12/.pfx) file")
    return load_pkcs12_chain(data, secret)


def load_chain(path: str | Path) -> list[str]:
    """A PEM file of certificates (leaf first) as an x5c chain (RFC 7517 §4.7)."""
    file, data = _read(path)
    x5c = x5c_of_pem(data)
    if not x5c:
        raise KeyFormatError(f"{file.name} holds no PEM certificate")
    return x5c


def check_chain_key(key: PrivateKeyHandle, x5c: Sequence[str]) -> None:
    """KeyFormatError unless x5c is a non-empty list of base64 DER certificates whose first holds the public half of
    `key` (RFC 7517 §4.7: the key's certificate comes first), so a mismatch fails here and not at the server."""
    if isinstance(x5c, str | bytes) or not x5c or not all(isinstance(entry, str) and entry for entry in x5c):
        raise KeyFormatError("x5c must be a non-empty list of base64 DER certificates (RFC 7517 §4.7)")
    try:
        der = base64.b64decode(x5c[0], validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError("x5c[0] is not base64 in the standard alphabet (RFC 7517 §4.7)") from None
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode("ascii"), 64))
    leaf = parse_public_key(f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
    if leaf.kid != key.kid:
        raise KeyFormatError("the private key does not belong to the chain's first certificate")
