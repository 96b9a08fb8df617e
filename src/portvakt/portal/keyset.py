"""Changing a system's key set one key at a time (docs/protocol.md §3.3: PUT replaces the whole set, at most 5 keys).

Every change is a read-modify-write guarded by the set's ETag (RFC 9110 §13.1.1 If-Match), so two people adding a
key at the same time never lose one: `register_key` adds, `remove_key` removes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from portvakt.jose import PublicKey, thumbprint
from portvakt.wire.clients import JwkOut
from portvakt.wire.protocol import MAX_KEYS_PER_CLIENT

from .backend import Backend, KeySet, KeySetChanged
from .models import live_keys, public_jwk


class KeyRefused(Exception):
    """The portal refuses a key before the API sees it: a catalogue key and its values."""

    def __init__(self, message: str, **values: str) -> None:
        super().__init__(message)
        self.message, self.values = message, values


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


def _with_key(current: list[JwkOut], jwk: dict[str, Any], now: datetime, origin: str | None) -> list[dict[str, Any]]:
    """The unexpired keys plus the new one, each with `"use": "sig"`; expired keys are dropped, not renewed by the
    re-post (docs/protocol.md §3.3)."""
    live = live_keys(current, now)
    if any(_same(jwk, k) for k in live):
        raise KeyRefused("keys.duplicate")
    if len(live) >= MAX_KEYS_PER_CLIENT:
        raise KeyRefused("keys.full")
    added = for_signing(jwk)
    if origin is not None:
        added = {**added, "origin": origin}
    return [*(for_signing(public_jwk(k)) for k in live), added]


async def register_key(backend: Backend, client_id: str, jwk: dict[str, Any], now: datetime, *,
                       origin: str | None = None) -> KeySet:
    """Add one public key: read the set and its ETag, PUT the unexpired keys plus this one with If-Match (RFC 9110
    §13.1.1); when the set changed meanwhile (412), read it again and try once more. Raises KeyRefused
    ("keys.duplicate", "keys.full", or "system.keys.changed" after a second 412) or the API's PortalError.
    `origin` says how the key was made ("paste", "browser", "pkcs12"; the API keeps it with the key)."""
    for attempt in (1, 2):
        current = await backend.key_set(client_id)
        body = _with_key(current.keys, jwk, now, origin)
        try:
            return await backend.put_keys(client_id, body, if_match=current.etag)
        except KeySetChanged:
            if attempt == 2:
                raise KeyRefused("system.keys.changed") from None
    raise AssertionError("unreachable")  # pragma: no cover


async def remove_key(backend: Backend, client_id: str, kid: str, etag: str | None, now: datetime) -> KeySet:
    """Remove the key `kid` from the set read with `etag`: PUT the other unexpired keys with If-Match (RFC 9110
    §13.1.1). No retry: the person confirmed the set they saw, so a 412 (KeySetChanged) goes back to them."""
    current = await backend.key_set(client_id)
    if etag is not None and current.etag is not None and current.etag != etag:
        raise KeySetChanged("the key set changed since it was shown")
    if not any(k.kid == kid for k in current.keys):
        raise KeyRefused("system.remove_key.gone", kid=kid)
    kept = [for_signing(public_jwk(k)) for k in live_keys(current.keys, now) if k.kid != kid]
    return await backend.put_keys(client_id, kept, if_match=etag or current.etag)

