"""Adding one public key to a system's key set (docs/protocol.md §3.3: PUT replaces the whole set, at most 5 keys)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from portvakt.jose import JoseError, PrivateKeyRefused, PublicKey, parse_public_key, thumbprint
from portvakt.wire.clients import JwkOut
from portvakt.wire.protocol import MAX_KEYS_PER_CLIENT

from .backend import Backend
from .models import live_keys, public_jwk


class KeyRefused(Exception):
    """The portal refuses a key before the API sees it: a catalogue key and its values."""

    def __init__(self, message: str, **values: str) -> None:
        super().__init__(message)
        self.message, self.values = message, values


def read_public_key(text: str, *, private_message: str, invalid_message: str) -> PublicKey:
    """An RSA public key from PEM or JWK text; private material is refused here and goes nowhere (RFC 7517 §9.2)."""
    try:
        return parse_public_key(text)
    except PrivateKeyRefused:
        raise KeyRefused(private_message) from None
    except JoseError as exc:
        raise KeyRefused(invalid_message, reason=str(exc)) from None


def check_kid(key: PublicKey, claimed: str) -> None:
    """A kid made in the browser must be the key's RFC 7638 thumbprint (the JS computes it the same way)."""
    if claimed and claimed != thumbprint(key.jwk):
        raise KeyRefused("browser.kid_mismatch")


def for_signing(jwk: dict[str, Any]) -> dict[str, Any]:
    """The JWK with `"use": "sig"`, which the API requires of every key (docs/protocol.md §3.3): a pasted JWK may lack
    it, and so may a key registered before the rule; any other `use` was refused when the key was read."""
    return jwk if "use" in jwk else {**jwk, "use": "sig"}


def _same(a: dict[str, Any], b: JwkOut) -> bool:
    return a.get("kid") == b.kid or (a.get("n") == b.n and a.get("e") == b.e)


async def add_key(backend: Backend, client_id: str, current: list[JwkOut], jwk: dict[str, Any],
                  now: datetime) -> None:
    """PUT the unexpired keys plus the new one, each with `"use": "sig"`; expired keys are dropped, not renewed by the
    re-post."""
    live = live_keys(current, now)
    if any(_same(jwk, k) for k in live):
        raise KeyRefused("keys.duplicate")
    if len(live) >= MAX_KEYS_PER_CLIENT:
        raise KeyRefused("keys.full")
    await backend.put_keys(client_id, [*(for_signing(public_jwk(k)) for k in live), for_signing(jwk)])
