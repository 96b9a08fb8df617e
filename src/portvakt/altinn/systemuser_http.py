"""The system-user lookup against a remote Altinn side's byExternalId endpoint (docs/protocol.md §6.5), cached
briefly, fail closed."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from portvakt.domain.blocking import may_block
from portvakt.oauth.systemuser import FoundSystemUser, SystemUserUnavailable

log = logging.getLogger("portvakt.altinn")

LOOKUP_PATH = "/authentication/api/v1/systemuser/byExternalId"
#: The largest answer read; a SystemUserExternalDTO is a few hundred bytes.
MAX_ANSWER_BYTES = 64 * 1024
_MAX_ID = 200
Key = tuple[str, str, str, str]


class HttpSystemUserLookup:
    """Asks `GET {base_url}/authentication/api/v1/systemuser/byExternalId` with a systemuser.read token.

    A found system user is cached for `positive_ttl` seconds (so a deleted one still gets tokens for at most that
    long), a 404 for `negative_ttl` seconds; failures are never cached. Timeouts, connection errors, 5xx, 401/403
    (a misconfiguration), other statuses, an answer over 64 KiB and unreadable answers raise SystemUserUnavailable:
    never "no system user". Thread-safe; the bearer token is never logged nor put in an error.
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
        self._positive_ttl = positive_ttl
        self._negative_ttl = negative_ttl
        self._http = http if http is not None else httpx.Client(follow_redirects=False)
        self._owns_http = http is None
        self._clock = clock
        self._max_entries = max_entries
        self._cache: dict[Key, tuple[FoundSystemUser | None, float]] = {}
        self._lock = threading.Lock()

    def find_system_user(self, client_id: str, vendor_orgno: str, owner_orgno: str,
                         external_ref: str) -> FoundSystemUser | None:
        """docs/protocol.md §6.5: the cached answer while fresh, else ask the Altinn side."""
        key = (client_id, vendor_orgno, owner_orgno, external_ref)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and self._clock() < hit[1]:
            return hit[0]
        found = self._ask(key)
        self._remember(key, found)
        return found

    def close(self) -> None:
        """Close the HTTP client if this lookup made it."""
        if self._owns_http:
            self._http.close()

    def _remember(self, key: Key, found: FoundSystemUser | None) -> None:
        ttl = self._positive_ttl if found is not None else self._negative_ttl
        if ttl <= 0:
            return
        now = self._clock()
        with self._lock:
            if key not in self._cache and len(self._cache) >= self._max_entries:
                self._cache = {k: v for k, v in self._cache.items() if v[1] > now}
                if len(self._cache) >= self._max_entries:
                    self._cache.clear()
            self._cache[key] = (found, now + ttl)

    def _ask(self, key: Key) -> FoundSystemUser | None:
        """One lookup call (docs/protocol.md §6.5): 200 the system user, 404 none, anything else unavailable."""
        may_block()
        client_id, vendor_orgno, owner_orgno, external_ref = key
        try:
            token = self._token_source()
        except Exception as exc:  # noqa: BLE001 - the token source is the caller's code: any failure = cannot ask
            log.warning("system-user lookup: no access token (%s)", type(exc).__name__)
            raise SystemUserUnavailable("could not obtain an access token for the system-user lookup") from None
        params = {"clientId": client_id, "systemProviderOrgNo": vendor_orgno, "systemUserOwnerOrgNo": owner_orgno,
                  "externalRef": external_ref}
        try:
            request = self._http.build_request("GET", self.url, params=params, timeout=self._timeout,
                                               headers={"Authorization": f"Bearer {token}",
                                                        "Accept": "application/json"})
            resp = self._http.send(request, stream=True)
            try:
                status, body = resp.status_code, _bounded_body(resp)
            finally:
                resp.close()
        except httpx.TimeoutException:
            raise self._unavailable(f"{self.url} did not answer within {self._timeout} s") from None
        except httpx.HTTPError as exc:
            raise self._unavailable(f"cannot reach {self.url}: {type(exc).__name__}") from None
        if status == 404:
            return None
        if status in (401, 403):
            raise self._unavailable(
                f"{self.url} refused the lookup token (HTTP {status}): the token must carry "
                "altinn:maskinporten/systemuser.read and come from an issuer the Altinn side trusts")
        if status != 200:
            raise self._unavailable(f"{self.url} answered HTTP {status}")
        if body is None:
            raise self._unavailable(f"{self.url} answered more than {MAX_ANSWER_BYTES} bytes")
        return self._read(body, owner_orgno, external_ref)

    def _read(self, body: bytes, owner_orgno: str, external_ref: str) -> FoundSystemUser | None:
        """A SystemUserExternalDTO for this owner (and this externalRef, if it names one); a deleted one is none."""
        dto = _object(body)
        if dto is None:
            raise self._unavailable(f"{self.url} did not answer a system user object")
        user_id, system_id, owner = dto.get("id"), dto.get("systemId"), dto.get("reporteeOrgNo")
        if not (_short_str(user_id) and _short_str(system_id) and isinstance(owner, str)):
            raise self._unavailable(f"{self.url} answered a system user without id, systemId or reporteeOrgNo")
        if owner.removeprefix("0192:") != owner_orgno:
            raise self._unavailable(f"{self.url} answered a system user of another owner")
        ref = dto.get("externalRef")
        if ref is not None and ref != external_ref:
            raise self._unavailable(f"{self.url} answered a system user with another externalRef")
        if dto.get("isDeleted") is True:
            return None
        return FoundSystemUser(str(user_id), str(system_id), owner_orgno, external_ref)

    @staticmethod
    def _unavailable(reason: str) -> SystemUserUnavailable:
        log.warning("system-user lookup failed: %s", reason)
        return SystemUserUnavailable(f"the system register could not answer: {reason}")


def _bounded_body(resp: httpx.Response) -> bytes | None:
    """The body, read at most MAX_ANSWER_BYTES (+1) far; None when it is longer."""
    body = bytearray()
    for chunk in resp.iter_bytes():
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            return None
    return bytes(body)


def _short_str(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _MAX_ID


def _object(body: bytes) -> dict[str, Any] | None:
    """The answer as a JSON object, or None if it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None
