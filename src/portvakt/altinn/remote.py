"""What the HTTP lookups against a remote Altinn side share (docs/protocol.md §4.2, §6.5): `HttpLookup`, their
base (the settings), `BearerGet`, one bounded GET with a bearer token whose every failure is the lookup's own
"unavailable" error, and `TtlCache`, the short cache of answers."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import ClassVar, Generic, TypeVar

import httpx

from portvakt.domain.blocking import may_block

log = logging.getLogger("portvakt.altinn")

K = TypeVar("K")
V = TypeVar("V")


class HttpLookup(Generic[K, V]):
    """The base of a lookup asked over HTTP: its settings, its endpoint (`self._remote`, at `self.url`) and its
    cache (`self._cache`, read through `_answer`). A subclass names the endpoint in its class attributes and asks and
    reads it itself.

    A "yes" is kept `positive_ttl` seconds, a "no" `negative_ttl`; failures are never kept.
    """

    #: The endpoint's path under the base URL, and the scope its token must carry.
    path: ClassVar[str]
    required_scope: ClassVar[str]
    #: The lookup's name in logs ("delegation lookup"), who could not answer ("the delegation source"), its error.
    what: ClassVar[str]
    source: ClassVar[str]
    error: ClassVar[type[Exception]]
    #: The largest answer read.
    max_bytes: ClassVar[int]

    def __init__(self, base_url: str, token_source: Callable[[], str], *, timeout: float = 2.0,
                 positive_ttl: float = 30.0, negative_ttl: float = 3.0, http: httpx.Client | None = None,
                 clock: Callable[[], float] = time.monotonic, max_entries: int = 100_000) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("base_url must be the Altinn side's http(s) URL")
        if timeout <= 0 or positive_ttl < 0 or negative_ttl < 0 or max_entries < 1:
            raise ValueError("timeout must be > 0, the TTLs >= 0 and max_entries >= 1")
        self.url = base_url.rstrip("/") + self.path
        self._remote = BearerGet(self.url, token_source, what=self.what, source=self.source,
                                 required_scope=self.required_scope, error=self.error, max_bytes=self.max_bytes,
                                 timeout=timeout, http=http)
        self._cache: TtlCache[K, V] = TtlCache(positive_ttl=positive_ttl, negative_ttl=negative_ttl, clock=clock,
                                                max_entries=max_entries)

    def _answer(self, key: K, ask: Callable[[], V], positive: Callable[[V], bool]) -> V:
        """The cached answer for `key` while fresh, else `ask()`'s, kept for the TTL of a "yes" or a "no" as
        `positive` says; a failure raised by `ask` is never kept."""
        hit = self._cache.get(key)
        if hit is not None:
            return hit[0]
        answer = ask()
        self._cache.put(key, answer, positive=positive(answer))
        return answer

    def close(self) -> None:
        """Close the HTTP client if this lookup made it."""
        self._remote.close()


class BearerGet:
    """One GET endpoint of the Altinn side, asked with a token from `token_source`; fails closed.

    Every failure (no token, a timeout, a transport error, 401/403, another status, an answer over `max_bytes`)
    raises `error` with a readable reason and is logged as "<what> failed: <reason>"; the token is never logged
    nor put in an error.
    """

    def __init__(self, url: str, token_source: Callable[[], str], *, what: str, source: str, required_scope: str,
                 error: type[Exception], max_bytes: int, timeout: float, http: httpx.Client | None) -> None:
        self.url = url
        self._token_source = token_source
        self._what = what
        self._source = source
        self._required_scope = required_scope
        self._error = error
        self._max_bytes = max_bytes
        self._timeout = timeout
        self._http = http if http is not None else httpx.Client(follow_redirects=False)
        self._owns_http = http is None

    def get(self, params: Mapping[str, str]) -> bytes:
        """The body of a 200 answer; anything else raises the lookup's error."""
        status, body = self._send(params)
        return self._ok(status, body)

    def get_or_none(self, params: Mapping[str, str]) -> bytes | None:
        """Like `get`, but a 404 (the endpoint's "there is none") is None."""
        status, body = self._send(params)
        return None if status == 404 else self._ok(status, body)

    def unavailable(self, reason: str) -> Exception:
        """The lookup's error for `reason` (logged), to raise when the answer cannot be read."""
        log.warning("%s failed: %s", self._what, reason)
        return self._error(f"{self._source} could not answer: {reason}")

    def close(self) -> None:
        """Close the HTTP client if this endpoint made it."""
        if self._owns_http:
            self._http.close()

    def _send(self, params: Mapping[str, str]) -> tuple[int, bytes | None]:
        may_block()
        try:
            token = self._token_source()
        except Exception as exc:  # noqa: BLE001 - the token source is the caller's code: any failure = cannot ask
            log.warning("%s: no access token (%s)", self._what, type(exc).__name__)
            raise self._error(f"could not obtain an access token for the {self._what}") from None
        try:
            request = self._http.build_request("GET", self.url, params=params, timeout=self._timeout,
                                               headers={"Authorization": f"Bearer {token}",
                                                        "Accept": "application/json"})
            resp = self._http.send(request, stream=True)
            try:
                return resp.status_code, self._bounded_body(resp)
            finally:
                resp.close()
        except httpx.TimeoutException:
            raise self.unavailable(f"{self.url} did not answer within {self._timeout} s") from None
        except httpx.HTTPError as exc:
            raise self.unavailable(f"cannot reach {self.url}: {type(exc).__name__}") from None

    def _ok(self, status: int, body: bytes | None) -> bytes:
        if status in (401, 403):
            raise self.unavailable(
                f"{self.url} refused the lookup token (HTTP {status}): the token must carry "
                f"{self._required_scope} and come from an issuer the Altinn side trusts")
        if status != 200:
            raise self.unavailable(f"{self.url} answered HTTP {status}")
        if body is None:
            raise self.unavailable(f"{self.url} answered more than {self._max_bytes} bytes")
        return body

    def _bounded_body(self, resp: httpx.Response) -> bytes | None:
        """The body, read at most max_bytes (+1) far; None when it is longer."""
        body = bytearray()
        for chunk in resp.iter_bytes():
            body += chunk
            if len(body) > self._max_bytes:
                return None
        return bytes(body)


class TtlCache(Generic[K, V]):
    """Answers kept `positive_ttl` seconds for a "yes", `negative_ttl` for a "no" (0 = not kept), at most
    `max_entries` of them. Thread-safe."""

    def __init__(self, *, positive_ttl: float, negative_ttl: float, clock: Callable[[], float],
                 max_entries: int) -> None:
        self._ttl = {True: positive_ttl, False: negative_ttl}
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[K, tuple[V, float]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many answers are kept, fresh or not."""
        return len(self._entries)

    def get(self, key: K) -> tuple[V] | None:
        """`(answer,)` while the answer for `key` is fresh, else None (an answer may itself be None)."""
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and self._clock() < hit[1]:
            return (hit[0],)
        return None

    def put(self, key: K, answer: V, *, positive: bool) -> None:
        """Keep `answer` for the TTL of a "yes" (`positive`) or a "no"; a full cache first drops what is stale,
        then, if still full, everything."""
        ttl = self._ttl[positive]
        if ttl <= 0:
            return
        now = self._clock()
        with self._lock:
            if key not in self._entries and len(self._entries) >= self._max_entries:
                self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
                if len(self._entries) >= self._max_entries:
                    self._entries.clear()
            self._entries[key] = (answer, now + ttl)
