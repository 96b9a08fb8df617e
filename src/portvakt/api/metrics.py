"""The node's Prometheus metrics (`GET /metrics`, text format), the same across uvicorn workers.

With `PROMETHEUS_MULTIPROC_DIR` set (`portvakt serve --workers N` sets a fresh one), every worker writes its values
to files there and `/metrics` adds up all workers' files, whichever worker answers. The metrics live once per
process, so every app assembled in it shares them.

The hot path pays one pre-bound counter or histogram call per event; labels are bounded: the route template (never
the raw path), the MP code, the lookup kind.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.requests import Request
from starlette.responses import Response

from portvakt.domain.ports import ClaimOutcome, ReplayCache, ReplayClaim, first_use_all
from portvakt.oauth.delegation import DelegationLookup, DelegationUnavailable
from portvakt.oauth.minter import AccessTokenMinter, IssuedToken, TokenGrant
from portvakt.oauth.mp_codes import MP_CODES
from portvakt.oauth.registry_cache import LOOKUP_KINDS
from portvakt.oauth.systemuser import FoundSystemUser, SystemUserLookup, SystemUserUnavailable

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
REGISTRY = CollectorRegistry()
_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_REQUEST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

TOKENS_ISSUED = Counter("portvakt_tokens_issued", "Access tokens issued by /token", ["delegated"], registry=REGISTRY)
TOKEN_ERRORS = Counter("portvakt_token_errors", "/token refusals by MP code", ["code"], registry=REGISTRY)
REQUEST_SECONDS = Histogram("portvakt_request_duration_seconds", "Time to answer a request, by route template",
                            ["endpoint", "method"], buckets=_REQUEST, registry=REGISTRY)
CACHE_HITS = Counter("portvakt_registry_cache_hits", "Registry cache lookups answered from memory", ["kind"],
                     registry=REGISTRY)
CACHE_MISSES = Counter("portvakt_registry_cache_misses", "Registry cache lookups that read the store", ["kind"],
                       registry=REGISTRY)
STALENESS = Gauge("portvakt_registry_staleness_seconds", "Seconds since the registry cache was last confirmed "
                  "fresh (the stalest live worker)", multiprocess_mode="livemax", registry=REGISTRY)
DELEGATION_LOOKUPS = Counter("portvakt_delegation_lookups", "Delegation lookups of /token by answer", ["result"],
                             registry=REGISTRY)
SYSTEM_USER_LOOKUPS = Counter("portvakt_systemuser_lookups", "System-user lookups of /token by answer", ["result"],
                              registry=REGISTRY)
REPLAY_SECONDS = Histogram("portvakt_replay_store_seconds", "Time of one replay-store insert (a grant spent)",
                           buckets=_FAST, registry=REGISTRY)

_ISSUED = {True: TOKENS_ISSUED.labels(delegated="true"), False: TOKENS_ISSUED.labels(delegated="false")}
_HITS = {kind: CACHE_HITS.labels(kind=kind) for kind in LOOKUP_KINDS}
_MISSES = {kind: CACHE_MISSES.labels(kind=kind) for kind in LOOKUP_KINDS}
_DELEGATED = DELEGATION_LOOKUPS.labels(result="delegated")
_NOT_DELEGATED = DELEGATION_LOOKUPS.labels(result="not_delegated")
_UNAVAILABLE = DELEGATION_LOOKUPS.labels(result="unavailable")
_SU_FOUND = SYSTEM_USER_LOOKUPS.labels(result="found")
_SU_NOT_FOUND = SYSTEM_USER_LOOKUPS.labels(result="not_found")
_SU_UNAVAILABLE = SYSTEM_USER_LOOKUPS.labels(result="unavailable")
_ERRORS = {code: TOKEN_ERRORS.labels(code=code) for code in MP_CODES}
_ERROR_MARK = b"/errors/MP-"
_durations: dict[tuple[str, str], Histogram] = {}


def observe_lookup(kind: str, hit: bool) -> None:
    """A RegistryCache lookup (its LookupObserver): a hit, or a miss that read the store."""
    (_HITS if hit else _MISSES)[kind].inc()


def count_token_error(body: bytes) -> None:
    """A /token refusal: its MP code, from the error_uri of the body (RFC 6749 §5.2, docs/protocol.md §1.5)."""
    at = body.rfind(_ERROR_MARK)
    code = body[at + 8:at + 14].decode("ascii", "replace") if at >= 0 else ""
    child = _ERRORS.get(code)
    if child is None:
        child = TOKEN_ERRORS.labels(code="other")
    child.inc()


def observe_request(endpoint: str, method: str, seconds: float) -> None:
    """How long a request took, under its route template and method."""
    key = (endpoint, method if method in METHODS else "other")
    child = _durations.get(key)
    if child is None:
        child = _durations[key] = REQUEST_SECONDS.labels(endpoint=key[0], method=key[1])
    child.observe(seconds)


class CountingMinter(AccessTokenMinter):
    """The minter of /token's tokens, counting each as delegated (docs/protocol.md §4.2) or not."""

    def mint(self, grant: TokenGrant, now: int) -> IssuedToken:
        """AccessTokenMinter.mint, then count it."""
        issued = super().mint(grant, now)
        _ISSUED[grant.delegation_source is not None].inc()
        return issued


class CountedDelegations:
    """A DelegationLookup that counts its answers: delegated, not_delegated, unavailable."""

    def __init__(self, inner: DelegationLookup) -> None:
        self.inner = inner

    def has_delegation(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        """docs/protocol.md §4.2 step 4: the inner lookup's answer (DelegationUnavailable passes)."""
        try:
            answer = self.inner.has_delegation(consumer_orgno, supplier_orgno, scope)
        except DelegationUnavailable:
            _UNAVAILABLE.inc()
            raise
        (_DELEGATED if answer else _NOT_DELEGATED).inc()
        return answer


class CountedSystemUsers:
    """A SystemUserLookup that counts its answers: found, not_found, unavailable."""

    def __init__(self, inner: SystemUserLookup) -> None:
        self.inner = inner

    def find_system_user(self, client_id: str, vendor_orgno: str, owner_orgno: str,
                         external_ref: str) -> FoundSystemUser | None:
        """docs/protocol.md §6.5: the inner lookup's answer (SystemUserUnavailable passes)."""
        try:
            found = self.inner.find_system_user(client_id, vendor_orgno, owner_orgno, external_ref)
        except SystemUserUnavailable:
            _SU_UNAVAILABLE.inc()
            raise
        (_SU_FOUND if found is not None else _SU_NOT_FOUND).inc()
        return found


class TimedReplay:
    """A ReplayCache whose inserts are timed (portvakt_replay_store_seconds)."""

    def __init__(self, inner: ReplayCache) -> None:
        self.inner = inner

    def first_use(self, key: bytes, expires: datetime, issued_at: datetime | None = None) -> bool:
        """The inner cache's first_use (docs/protocol.md §1.3 jti), timed, failures too."""
        start = time.perf_counter()
        try:
            return self.inner.first_use(key, expires, issued_at)
        finally:
            REPLAY_SECONDS.observe(time.perf_counter() - start)

    def first_use_many(self, claims: Sequence[ReplayClaim], within: float | None = None) -> list[ClaimOutcome]:
        """The inner cache's outcomes for a batch (one round trip when it can batch), timed as one call."""
        start = time.perf_counter()
        try:
            return first_use_all(self.inner, claims, within)
        finally:
            REPLAY_SECONDS.observe(time.perf_counter() - start)

    def purge(self, now: datetime) -> int:
        """The inner cache's purge."""
        return self.inner.purge(now)


def multiprocess_dir() -> str | None:
    """The folder the workers share their values in, or None in a single process."""
    return os.environ.get(MULTIPROC_ENV) or None


def exposition() -> bytes:
    """The metrics in Prometheus text format: this process's, or every worker's summed (multiprocess mode)."""
    folder = multiprocess_dir()
    if folder is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def metrics_endpoint(staleness: Callable[[], float | None]) -> Callable[[Request], Response]:
    """GET /metrics; `staleness` gives this process's registry age (None: it has no registry), set before the
    values are read."""

    def metrics(request: Request) -> Response:
        age = staleness()
        if age is not None:
            STALENESS.set(age)
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST, headers={"cache-control": "no-store"})

    return metrics


def process_exiting() -> None:
    """This worker stops: its live gauges leave the sum (multiprocess mode); counters stay counted."""
    folder = multiprocess_dir()
    if folder is not None:
        mark_process_dead(os.getpid(), folder)  # type: ignore[no-untyped-call]
