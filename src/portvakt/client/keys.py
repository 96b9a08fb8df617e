"""The vendor's private key from a file: PEM (PKCS#8/PKCS#1, optionally encrypted) or PKCS#12 (.p12/.pfx)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from portvakt.jose import KeyFormatError, PrivateKeyHandle, is_pkcs12, load_pkcs12

KeyFileKind = Literal["pkcs12", "encrypted-pem", "pem"]
PKCS12_SUFFIXES = (".p12", ".pfx")
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
    return "pem"


def key_file_kind(path: str | Path) -> KeyFileKind:
    """"pkcs12" or "encrypted-pem" (both need a password), or "pem" (a plain PEM key, or not a key at all)."""
    return _kind(*_read(path))


def load_private_key(path: str | Path, password: bytes | str | None = None) -> PrivateKeyHandle:
    """A private key from a PEM file (PKCS#8 or PKCS#1, optionally encrypted) or a PKCS#12 file (RFC 7292)."""
    file, data = _read(path)
    secret = password.encode("utf-8") if isinstance(password, str) else password
    if _kind(file, data) == "pkcs12":
        if secret is None:
            raise KeyFormatError("the PKCS#12 file needs its password")
        return load_pkcs12(data, secret)
    return PrivateKeyHandle.from_pem(data, secret)
