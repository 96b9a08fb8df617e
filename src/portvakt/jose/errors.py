"""The jose room's errors: `str(e)` is always safe to show a client (no key material, no token)."""

from __future__ import annotations


class JoseError(Exception):
    """Base for every error this room raises on purpose; the message is client-safe."""


class KeyFormatError(JoseError):
    """Key input that cannot be parsed, or is of a kind or size that is not accepted."""


class PrivateKeyRefused(KeyFormatError):
    """The input contained private key material, which must never be uploaded."""


class MalformedJWT(JoseError):
    """The token is not a well-formed compact JWS with JSON header and claims (RFC 7515 §7.1)."""


class UnsupportedAlgorithm(JoseError):
    """The header's `alg` is not on the caller's allow-list (RFC 8725 §3.1)."""


class BadSignature(JoseError):
    """The signature does not verify with the registered key (RFC 7515 §5.2)."""
