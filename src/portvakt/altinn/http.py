"""The delegation lookup against a remote Altinn side's lookup endpoint (docs/protocol.md §4.2), cached briefly, fail
closed."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from portvakt.domain.blocking import may_block
from portvakt.oauth.delegation import DelegationUnavailable

log = logging.getLogger("portvakt.altinn")

LOOKUP_PATH = "/accessmanagement/api/v1/maskinporten/delegations"
MAX_ANSWER_BYTES = 1 << 20
Key = tuple[str, str, str]


class HttpDelegationLookup:
    """Asks `GET {base_url}/accessmanagement/api/v1/maskinporten/delegations` with a delegations.admin token.

    A "yes" is cached for `positive_ttl` seconds (so a revocation takes effect within that time), a "no"
    for `negative_ttl` seconds; failures are never cached. Timeouts, connection errors, 5xx, 401/403
    (a misconfiguration) and unreadable answers raise DelegationUnavailable: never "not delegated".
    Thread-safe; the bearer token is never logged nor put in an error.
    """

    def __init__(self, base_url: str, token_source: Callable[[], str], *, timeout: float = 2.0,
                 positive_ttl: float = 30.0, negative_ttl: float = 3.0, http: httpx.Client | None = None,
                 clock: Callable[[], float] = time.monotonic, max_entries: int = 100_000) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("base_url must be the Altinn side's http(s) URL")
        if timeout <= 0 or positive_ttl < 0 or negative_ttl < 0 or max_entries < 1:
            raise ValueError("timeout must be > 0, the TTLs >= 0 and max_entries >= 1")
        self.url = base_url.rstrip("/") + LOOKUP_PATH
        self._token_source = token_source
        self._timeout = timeout
        self._ttl = {True: positive_ttl, False: negative_ttl}
        self._http = http if http is not None else httpx.Client(follow_redirects=False)
        self._owns_http = http is None
        self._clock = clock
        self._max_entries = max_entries
        self._cache: dict[Key, tuple[bool, float]] = {}
        self._lock = threading.Lock()

    def has_delegation(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        """docs/protocol.md §4.2 step 4: the cached answer while fresh, else ask the Altinn side."""
        key = (consumer_orgno, supplier_orgno, scope)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and self._clock() < hit[1]:
            return hit[0]
        answer = self._ask(consumer_orgno, supplier_orgno, scope)
        self._remember(key, answer)
        return answer

    def close(self) -> None:
        """Close the HTTP client if this lookup made it."""
        if self._owns_http:
            self._http.close()

    def _remember(self, key: Key, answer: bool) -> None:
        ttl = self._ttl[answer]
        if ttl <= 0:
            return
        now = self._clock()
        with self._lock:
            if len(self._cache) >= self._max_entries:
                self._cache = {k: v for k, v in self._cache.items() if v[1] > now}
                if len(self._cache) >= self._max_entries:
                    self._cache.clear()
            self._cache[key] = (answer, now + ttl)

    def _ask(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        """One lookup call (docs/protocol.md §4.2 "Altinn lookup endpoint")."""
        may_block()
        try:
            token = self._token_source()
        except Exception as exc:  # noqa: BLE001 - the token source is the caller's code: any failure = cannot ask
            log.warning("delegation lookup: no access token (%s)", type(exc).__name__)
            raise DelegationUnavailable("could not obtain an access token for the delegation lookup") from None
        params = {"supplierorg": supplier_orgno, "consumerorg": consumer_orgno, "scope": scope}
        try:
            request = self._http.build_request("GET", self.url, params=params, timeout=self._timeout,
                                               headers={"Authorization": f"Bearer {token}",
                                                        "Accept": "application/json"})
            resp = self._http.send(request)
        except httpx.TimeoutException:
            raise self._unavailable(f"{self.url} did not answer within {self._timeout} s") from None
        except httpx.HTTPError as exc:
            raise self._unavailable(f"cannot reach {self.url}: {type(exc).__name__}") from None
        return self._read(resp, consumer_orgno, supplier_orgno, scope)

    def _read(self, resp: httpx.Response, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        """Non-empty array with an entry for this pair naming the scope ⇒ delegated (docs/protocol.md §4.2)."""
        if resp.status_code in (401, 403):
            raise self._unavailable(
                f"{self.url} refused the lookup token (HTTP {resp.status_code}): the token must carry "
                "altinn:maskinporten/delegations.admin and come from an issuer the Altinn side trusts")
        if resp.status_code != 200:
            raise self._unavailable(f"{self.url} answered HTTP {resp.status_code}")
        entries = _entries(resp)
        if entries is None:
            raise self._unavailable(f"{self.url} did not answer a JSON array of delegations")
        return any(e.get("consumer_org") == consumer_orgno and e.get("supplier_org") == supplier_orgno
                   and scope in e["scopes"] for e in entries)

    @staticmethod
    def _unavailable(reason: str) -> DelegationUnavailable:
        log.warning("delegation lookup failed: %s", reason)
        return DelegationUnavailable(f"the delegation source could not answer: {reason}")


def _entries(resp: httpx.Response) -> list[dict[str, Any]] | None:
    """The answer's entries, each an object with a `scopes` array of strings; None if unreadable."""
    if len(resp.content) > MAX_ANSWER_BYTES:
        return None
    try:
        data = json.loads(resp.content)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, list):
        return None
    for entry in data:
        scopes = entry.get("scopes") if isinstance(entry, dict) else None
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            return None
    return data
