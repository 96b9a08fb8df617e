"""Spot private key material in any key input BEFORE anything tries to parse it (RFC 7517 §9.2)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import PrivateKeyRefused

#: JWK members that only private or symmetric keys have (RFC 7518 §6.3.2, §6.4.1; RFC 8037 §2).
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})

#: In text: PEM labels of private keys of any kind (RFC 7468 §10, §11; OpenSSL "RSA/EC/DSA/OPENSSH
#: PRIVATE KEY"), PuTTY private key files, and JSON members of private or symmetric JWKs, so that
#: even JSON too broken to parse is recognised.
_PATTERN = r'PRIVATE\s+KEY|PuTTY-User-Key-File|Private-Lines|"(?:d|p|q|dp|dq|qi|oth|k)"\s*:|"kty"\s*:\s*"oct"'
_PRIVATE_TEXT = re.compile(_PATTERN)
_PRIVATE_BYTES = re.compile(_PATTERN.encode("ascii"))

REFUSED_MESSAGE = (
    "the input contains private key material; register only the public key (never send a private key to anyone)"
)


def _jwk_is_private(obj: Mapping[Any, Any]) -> bool:
    """True if a JSON object has private JWK members or is a symmetric key (RFC 7518 §6.4)."""
    return any(member in obj for member in PRIVATE_JWK_MEMBERS) or obj.get("kty") == "oct"


def _tree_has_private(root: object) -> bool:
    """Walk dicts, lists and strings (iteratively) looking for private material anywhere."""
    stack: list[object] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if _PRIVATE_TEXT.search(node):
                return True
        elif isinstance(node, bytes):
            if _PRIVATE_BYTES.search(node):
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
