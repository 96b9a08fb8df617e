"""Verify grants and sign access tokens with RS256/RS384/RS512 (RFC 7515 §5, RFC 7518 §3.3).

The hot path uses the cryptography key objects imported once per key: a verify or sign costs the RSA
operation plus a few microseconds of base64url and JSON work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.hashes import SHA256, SHA384, SHA512, HashAlgorithm
from joserfc.util import urlsafe_b64encode

from ._json import dumps_compact
from .compact import UnverifiedJWT
from .errors import BadSignature, JoseError, UnsupportedAlgorithm
from .keys import GRANT_ALGORITHMS, PublicKey, check_kid, cryptography_public_key
from .private import PrivateKeyHandle

__all__ = ["GRANT_ALGORITHMS", "Signer", "Verifier"]

_HASHES: dict[str, HashAlgorithm] = {"RS256": SHA256(), "RS384": SHA384(), "RS512": SHA512()}
_PADDING = PKCS1v15()
_RESERVED_HEADERS = frozenset({"alg", "kid", "crit", "b64"})


class Verifier:
    """Checks signatures with one registered PublicKey, imported once (cache one per client key)."""

    __slots__ = ("_key_alg", "_public", "key")

    def __init__(self, key: PublicKey) -> None:
        self.key = key
        self._public = cryptography_public_key(key)
        self._key_alg = key.jwk.get("alg")

    @classmethod
    def _of_imported(cls, key: PublicKey, public: RSAPublicKey) -> Verifier:
        """A Verifier whose cryptography key the caller already imported from `key`'s n and e and checked."""
        verifier = cls.__new__(cls)
        verifier.key, verifier._public, verifier._key_alg = key, public, key.jwk.get("alg")
        return verifier

    def verify(self, jwt: UnverifiedJWT, algorithms: Sequence[str] = GRANT_ALGORITHMS) -> None:
        """Verify with an explicit alg allow-list; the header never picks the key type (RFC 8725 §3.1)."""
        alg = jwt.header.get("alg")
        if not isinstance(alg, str) or alg not in algorithms or alg not in _HASHES:
            allowed = ", ".join(a for a in algorithms if a in _HASHES) or "none"
            raise UnsupportedAlgorithm(f"the JWT alg is not accepted; accepted: {allowed}")
        if self._key_alg is not None and alg != self._key_alg:
            raise UnsupportedAlgorithm("the JWT alg differs from the key's registered alg (RFC 7517 §4.4)")
        try:
            self._public.verify(jwt._signature, jwt._signing_input, _PADDING, _HASHES[alg])
        except InvalidSignature:
            raise BadSignature("the JWT signature does not verify with the registered key") from None


class Signer:
    """Signs compact JWS tokens whose protected header is {"kid", "alg"}, or {"alg", "x5c"}, plus optional extras."""

    __slots__ = ("_alg", "_hash", "_header", "_header_segment", "_key", "_reserved", "kid", "x5c")

    def __init__(self, key: PrivateKeyHandle, *, alg: str = "RS256", kid: str | None = None,
                 x5c: Sequence[str] | None = None) -> None:
        if alg not in _HASHES:
            raise UnsupportedAlgorithm("tokens can be signed with RS256, RS384 or RS512 only")
        self._alg = alg
        self._hash = _HASHES[alg]
        self._key = key._key
        self.x5c: tuple[str, ...] | None
        self.kid: str | None
        if x5c is None:
            self.kid, self.x5c = key.kid if kid is None else check_kid(kid), None
            self._header: dict[str, Any] = {"kid": self.kid, "alg": alg}
            self._reserved = _RESERVED_HEADERS
        else:
            if kid is not None:
                raise JoseError("a JWS header names its key by kid or carries x5c, not both")
            self.kid, self.x5c = None, _checked_x5c(x5c)
            self._header = {"alg": alg, "x5c": list(self.x5c)}
            self._reserved = _RESERVED_HEADERS | {"x5c"}
        self._header_segment = urlsafe_b64encode(dumps_compact(self._header))

    def sign(self, claims: Mapping[str, Any], *, header: Mapping[str, Any] | None = None) -> str:
        """Serialize the claims once and return a compact JWS (RFC 7515 §5.1, §7.1)."""
        header_segment = self._header_segment if not header else self._extended_header(header)
        try:
            payload = dumps_compact(claims if isinstance(claims, dict) else dict(claims))
        except (TypeError, ValueError):
            raise JoseError("the claims are not JSON-serializable") from None
        signing_input = header_segment + b"." + urlsafe_b64encode(payload)
        signature = self._key.sign(signing_input, _PADDING, self._hash)
        return (signing_input + b"." + urlsafe_b64encode(signature)).decode("ascii")

    def _extended_header(self, extras: Mapping[str, Any]) -> bytes:
        """Encode the header plus extras; extras may not override it or add crit/b64 (RFC 7515 §4.1)."""
        if self._reserved.intersection(extras):
            raise JoseError(f"header extras may not set {', '.join(sorted(self._reserved))}")
        try:
            return urlsafe_b64encode(dumps_compact({**self._header, **extras}))
        except (TypeError, ValueError):
            raise JoseError("the header extras are not JSON-serializable") from None


def _checked_x5c(x5c: Sequence[str]) -> tuple[str, ...]:
    """x5c's shape (RFC 7517 §4.7): a non-empty array of strings. Their content is the verifier's to judge, so a
    test can still sign with a certificate that is not the key's."""
    if isinstance(x5c, str | bytes) or not x5c or not all(isinstance(entry, str) and entry for entry in x5c):
        raise JoseError("x5c must be a non-empty list of base64 DER certificates (RFC 7517 §4.7)")
    return tuple(x5c)
