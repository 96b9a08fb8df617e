"""HTTP for the key cache: RFC 8414 discovery, the JWK Set fetch (RFC 7517 §5) and its freshness (RFC 9111)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import httpx

from portvakt.jose import KeyFormatError, PublicKey, parse_jwks, parse_public_key

log = logging.getLogger("portvakt.resource")

#: A key set larger than this is refused: a few keys with certificate chains fit in far less.
MAX_JWKS_BYTES = 1 << 20
WELL_KNOWN = "/.well-known/oauth-authorization-server"


class FetchFailed(Exception):
    """The issuer could not be reached or answered something unusable; the message is for logs."""


def same_issuer(a: str, b: str) -> bool:
    """Equal issuer identifiers, tolerating one trailing-slash difference (RFC 8414 §2, docs/protocol.md §2.2)."""
    return a == b or a.removesuffix("/") == b.removesuffix("/")


def get_json(http: httpx.Client, url: str, timeout: float) -> tuple[Any, httpx.Headers]:
    """GET `url` and return the decoded JSON body and the headers; FetchFailed on anything but a 200."""
    try:
        request = http.build_request("GET", url, headers={"Accept": "application/json"}, timeout=timeout)
        resp = http.send(request)
    except httpx.HTTPError as exc:
        raise FetchFailed(f"cannot reach {url}: {type(exc).__name__}") from exc
    if resp.status_code != 200:
        raise FetchFailed(f"{url} answered HTTP {resp.status_code}")
    if len(resp.content) > MAX_JWKS_BYTES:
        raise FetchFailed(f"{url} answered more than {MAX_JWKS_BYTES} bytes")
    try:
        return json.loads(resp.content), resp.headers
    except (ValueError, RecursionError):
        raise FetchFailed(f"{url} did not answer JSON") from None


def discover_jwks_uri(http: httpx.Client, issuer: str, timeout: float) -> str:
    """The jwks_uri from the issuer's metadata, whose `issuer` must match (RFC 8414 §3, §3.3)."""
    url = issuer.removesuffix("/") + WELL_KNOWN
    meta, _ = get_json(http, url, timeout)
    if not isinstance(meta, dict):
        raise FetchFailed(f"{url} is not a JSON object")
    if not isinstance(meta.get("issuer"), str) or not same_issuer(meta["issuer"], issuer):
        raise FetchFailed(f"{url} names another issuer than {issuer} (RFC 8414 §3.3)")
    jwks_uri = meta.get("jwks_uri")
    if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
        raise FetchFailed(f"{url} has no usable jwks_uri (RFC 8414 §2)")
    return jwks_uri


def parse_key_set(data: Any, url: str) -> list[PublicKey]:
    """All keys via parse_jwks; if one is unusable, keep the usable ones (RFC 7517 §5 SHOULD ignore)."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise FetchFailed(f'{url} is not a JWK Set with a "keys" array (RFC 7517 §5)')
    try:
        return parse_jwks(data)
    except KeyFormatError as err:
        log.warning("JWK Set at %s: %s; ignoring the keys that cannot be used", url, err)
    keys: dict[str, PublicKey] = {}
    ambiguous: set[str] = set()
    for member in data["keys"]:
        try:
            key = parse_public_key(member) if isinstance(member, Mapping) else None
        except KeyFormatError:
            continue
        if key is not None and key.kid in keys:
            ambiguous.add(key.kid)
        elif key is not None:
            keys[key.kid] = key
    return [key for kid, key in keys.items() if kid not in ambiguous]


def freshness(headers: httpx.Headers, max_age: float) -> float:
    """Seconds the set stays fresh: Cache-Control max-age minus Age, bounded by max_age (RFC 9111 §4.2)."""
    lifetime = max_age
    for directive in headers.get("cache-control", "").split(","):
        name, _, value = directive.strip().partition("=")
        name = name.lower()
        if name in ("no-cache", "no-store"):
            return 0.0
        if name == "max-age":
            value = value.strip('"')
            lifetime = min(lifetime, float(value)) if value.isdigit() else 0.0
    age = headers.get("age", "")
    if age.isdigit():
        lifetime -= float(age)
    return max(0.0, lifetime)
