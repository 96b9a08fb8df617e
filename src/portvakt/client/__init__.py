"""For vendors: build JWT grants, fetch tokens, and cache them as an httpx.Auth (imports no server room)."""

from .auth import MaskinportenAuth
from .grants import SYSTEM_USER_TYPE, GrantSigner, TokenError, fetch_token, systemuser_details
from .keys import KeyFileKind, key_file_kind, load_certificate, load_chain, load_private_jwk, load_private_key

__all__ = [
    "SYSTEM_USER_TYPE",
    "GrantSigner",
    "KeyFileKind",
    "MaskinportenAuth",
    "TokenError",
    "fetch_token",
    "key_file_kind",
    "load_certificate",
    "load_chain",
    "load_private_jwk",
    "load_private_key",
    "systemuser_details",
]
