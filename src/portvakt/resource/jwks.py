"""A thread-safe cache of the issuer's signing keys, refreshed on an unknown kid and on age (docs/protocol.md §2.5)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType

import httpx

from portvakt.jose import KeyFormatError, PublicKey, Verifier

from ._fetch import FetchFailed, discover_jwks_uri, freshness, get_json, log, parse_key_set
from .errors import JwksUnavailable

_EMPTY: Mapping[str, Verifier] = MappingProxyType({})


class JwksCache:
    """The issuer's JWK Set (RFC 7517 §5) as one Verifier per kid, each built once.

    Lookups of a known kid in a fresh set take no lock. A fetch happens when there is no set, when the
    set is older than its freshness (Cache-Control max-age, at most `max_age`), or when a token names
    an unknown kid; attempts are at least `min_refresh_interval` seconds apart, so a flood of bogus
    kids or an issuer outage costs the issuer one request per interval. When a fetch fails the cached
    set stays in use; with no set at all, `verifier` raises JwksUnavailable.
    """

    def __init__(self, jwks_uri: str, *, http: httpx.Client | None = None, min_refresh_interval: float = 30.0,
                 max_age: float = 86400.0, timeout: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not jwks_uri.startswith(("https://", "http://")):
            raise ValueError("the jwks_uri must be an http(s) URL (RFC 8414 §2)")
        if min_refresh_interval < 0 or max_age < 0 or timeout <= 0:
            raise ValueError("min_refresh_interval and max_age must be >= 0 and timeout > 0")
        self._uri: str | None = jwks_uri
        self._issuer: str | None = None
        self._http = http
        self._owns_http = http is None
        self._min_interval = float(min_refresh_interval)
        self._max_age = float(max_age)
        self._timeout = float(timeout)
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: Mapping[str, Verifier] | None = None
        self._expires = 0.0
        self._last_attempt: float | None = None
        self._last_failure = ""

    @classmethod
    def from_issuer(cls, issuer: str, *, http: httpx.Client | None = None, min_refresh_interval: float = 30.0,
                    max_age: float = 86400.0, timeout: float = 5.0,
                    clock: Callable[[], float] = time.monotonic) -> JwksCache:
        """A cache whose jwks_uri is read from the issuer's metadata at the first fetch (RFC 8414 §3)."""
        cache = cls(issuer, http=http, min_refresh_interval=min_refresh_interval, max_age=max_age, timeout=timeout,
                    clock=clock)
        cache._uri, cache._issuer = None, issuer
        return cache

    @property
    def jwks_uri(self) -> str | None:
        """The key set's URL (None until discovered)."""
        return self._uri

    @property
    def kids(self) -> frozenset[str]:
        """The kids of the cached set (empty before the first successful fetch)."""
        return frozenset(self._keys or _EMPTY)

    def verifier(self, kid: str) -> Verifier | None:
        """The Verifier for `kid`, refreshing if due; None if the issuer does not publish that kid."""
        keys = self._keys
        if keys is None:
            self._refresh(blocking=True)
            if self._keys is None:
                raise JwksUnavailable(self._last_failure or "no key set fetched yet", self._retry_after())
        elif self._clock() >= self._expires:
            self._refresh(blocking=False)  # a stale set is still usable: never wait for another fetch
        elif kid not in keys:
            self._refresh(blocking=True)  # perhaps a rotation: wait for a fetch already under way
        return (self._keys or _EMPTY).get(kid)

    def refresh(self) -> None:
        """Fetch now, ignoring the interval (e.g. at startup); JwksUnavailable if that fails."""
        with self._lock:
            if not self._fetch():
                raise JwksUnavailable(self._last_failure, self._retry_after())

    def close(self) -> None:
        """Close the HTTP client if this cache made it."""
        if self._owns_http and self._http is not None:
            self._http.close()
            self._http = None

    def _refresh(self, *, blocking: bool) -> None:
        """Fetch unless another attempt is under way (non-blocking) or was made within the interval."""
        if not self._lock.acquire(blocking=blocking):
            return
        try:
            last = self._last_attempt
            if last is None or self._clock() - last >= self._min_interval:
                self._fetch()
        finally:
            self._lock.release()

    def _fetch(self) -> bool:
        """One attempt (lock held): swap in the new set and its expiry; on failure keep the old set."""
        now = self._clock()
        self._last_attempt = now
        try:
            http = self._client()
            if self._uri is None:
                self._uri = discover_jwks_uri(http, self._issuer or "", self._timeout)
            data, headers = get_json(http, self._uri, self._timeout)
            keys = parse_key_set(data, self._uri)
        except FetchFailed as err:
            self._last_failure = str(err)
            log.warning("JWKS refresh failed (%s); %s", err,
                        "keeping the cached keys" if self._keys is not None else "no keys cached")
            return False
        self._keys = self._verifiers(keys)
        self._expires = now + freshness(headers, self._max_age)
        log.info("JWKS refreshed from %s: %d key(s)", self._uri, len(self._keys))
        return True

    def _verifiers(self, keys: list[PublicKey]) -> Mapping[str, Verifier]:
        """A Verifier per key, reusing the old one when the kid's JWK is unchanged."""
        old = self._keys or _EMPTY
        built: dict[str, Verifier] = {}
        for key in keys:
            previous = old.get(key.kid)
            if previous is not None and previous.key == key:
                built[key.kid] = previous
                continue
            try:
                built[key.kid] = Verifier(key)
            except KeyFormatError as err:
                log.warning("JWKS key %s ignored: %s", key.kid, err)
        return MappingProxyType(built)

    def _client(self) -> httpx.Client:
        """The injected client, or one made on first use (no redirects: the URL is configured)."""
        if self._http is None:
            self._http = httpx.Client(timeout=self._timeout, follow_redirects=False)
        return self._http

    def _retry_after(self) -> int:
        """Whole seconds until the next attempt is allowed (for Retry-After, RFC 9110 §10.2.3)."""
        if self._last_attempt is None:
            return 1
        return math.ceil(self._min_interval - (self._clock() - self._last_attempt))
