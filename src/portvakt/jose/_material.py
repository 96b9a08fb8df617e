"""Spot private key material in any key input BEFORE anything tries to parse it (RFC 7517 §9.2)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from portvakt.wire.protocol import PRIVATE_JWK_MEMBERS

from .errors import PrivateKeyRefused

#: In text: PEM labels of private keys of any kind (RFC 7468 §10, §11; OpenSSL "RSA/EC/DSA/OPENSSH
#: PRIVATE KEY"), PuTTY private key files, and JSON members of private or symmetric JWKs, so that
#: even JSON too broken to parse is recognised.
_PATTERN = r'PRIVATE\s+KEY|PuTTY-User-Key-File|Private-Lines|"(?:d|p|q|dp|dq|qi|oth|k)"\s*:|"kty"\s*:\s*"oct"'
_PRIVATE_TEXT = re.compile(_PATTERN)
_PRIVATE_BYTES = re.compile(_PATTERN.encode("ascii"))

#: PEM-style boundary lines of any label: the base64 between them is looked at on its own.
_ARMOUR = re.compile(r"-----[^\r\n]{0,100}?-----")
#: A run of base64 or base64url characters, whitespace allowed inside, long enough to hold a private key
#: (the smallest, a P-256 key in PKCS#8, is 138 characters).
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-](?:[A-Za-z0-9+/_=-]|\s){99,}")
_WHITESPACE = re.compile(r"\s+")
#: How many words before a base64 key are skipped when looking for where it starts.
_LEADING_WORDS = 8

REFUSED_MESSAGE = (
    "the input contains private key material; register only the public key (never send a private key to anyone)"
)


def _jwk_is_private(obj: Mapping[Any, Any]) -> bool:
    """True if a JSON object has private JWK members or is a symmetric key (RFC 7518 §6.4)."""
    return any(member in obj for member in PRIVATE_JWK_MEMBERS) or obj.get("kty") == "oct"


def _der_element(data: bytes, at: int) -> tuple[int, int, int] | None:
    """(tag, content offset, content length) of the DER element at `at`, or None if it is malformed (X.690 §8.1)."""
    if at + 2 > len(data):
        return None
    tag, first = data[at], data[at + 1]
    if first < 0x80:
        return tag, at + 2, first
    count = first & 0x7F
    if not 1 <= count <= 4 or at + 2 + count > len(data):
        return None
    return tag, at + 2 + count, int.from_bytes(data[at + 2:at + 2 + count], "big")


def _der_is_private(data: bytes) -> bool:
    """A DER SEQUENCE that opens with a one-byte INTEGER version (PKCS#1 RSAPrivateKey RFC 8017 A.1.2, PKCS#8 /
    OneAsymmetricKey RFC 5958 §2, ECPrivateKey RFC 5915 §3, PKCS#12 PFX RFC 7292 §4), or with a SEQUENCE and an
    OCTET STRING (EncryptedPrivateKeyInfo, RFC 5958 §3). Public keys open with a SEQUENCE and a BIT STRING
    (SubjectPublicKeyInfo), a certificate with two SEQUENCEs, an RSAPublicKey with a big INTEGER."""
    outer = _der_element(data, 0)
    if outer is None or outer[0] != 0x30:
        return False
    first = _der_element(data, outer[1])
    if first is None:
        return False
    if first[0] == 0x02:
        return first[2] == 1
    second = _der_element(data, first[1] + first[2]) if first[0] == 0x30 else None
    return second is not None and second[0] == 0x04


def _decoded(run: str) -> bytes | None:
    """A base64 (RFC 4648 §4) or base64url (§5) run as bytes up to its first padding, whitespace ignored; None
    if it is neither."""
    packed = _WHITESPACE.sub("", run).split("=", 1)[0]
    url, standard = "-" in packed or "_" in packed, "+" in packed or "/" in packed
    if url and standard:
        return None
    try:
        return base64.b64decode(packed + "=" * (-len(packed) % 4), altchars=b"-_" if url else None, validate=True)
    except (binascii.Error, ValueError):
        return None


def _has_private_der(text: str) -> bool:
    """True if the text holds a private key as bare DER in base64 or base64url, with or without line breaks or
    boundary lines of another label (docs/security.md, Pasted private key)."""
    for run in _BASE64_RUN.findall(_ARMOUR.sub("\x00", text)):
        words = run.split()
        for start in range(min(_LEADING_WORDS, len(words))):  # words before the key ("key: MIIE...")
            data = _decoded("".join(words[start:]))
            if data is not None and _der_is_private(data):
                return True
    return False


def _bytes_are_private(data: bytes) -> bool:
    """Raw DER, or text (as Latin-1, so nothing fails to decode) holding private material."""
    if _PRIVATE_BYTES.search(data) or _der_is_private(data):
        return True
    return _has_private_der(data.decode("latin-1"))


def _tree_has_private(root: object) -> bool:
    """Walk dicts, lists and strings (iteratively) looking for private material anywhere."""
    stack: list[object] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if _PRIVATE_TEXT.search(node) or _has_private_der(node):
                return True
        elif isinstance(node, bytes):
            if _bytes_are_private(node):
                return True
        elif isinstance(node, Mapping):
            if _jwk_is_private(node):
                return True
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return False


def refuse_private_material(data: object) -> None:
    """Raise PrivateKeyRefused if `data` (text, bytes or parsed JSON) holds private material anywhere."""
    if _tree_has_private(data):
        raise PrivateKeyRefused(REFUSED_MESSAGE)
