"""The rate limits of POST /token (docs/security.md, Token flood): whom a request counts against, and the checks, in
this process's memory and, with Redis, on counts that every node shares.

Where each check runs (api/token.py:TokenEndpoint):
1. the source address is charged one slot in memory, on the event loop, before the body is read;
2. the client the grant names (its `iss`, not yet verified) is only checked in memory, before the checks;
3. with shared counts, before the checks, in a worker thread (api.claims's, batched with other requests': one Redis
   round trip for the batch): the address charged and the client checked there;
4. when a token was issued, the client is charged, in memory and (with the next batch of that thread) in the shared
   counts.

A client's slots are spent only by tokens issued to it, so only the holder of its key can use them up: a flood of
junk grants naming a client, or a captured grant replayed (MP-012), costs its sender the address's slots and never
the client's (decision H23). The memory counts go on while the shared ones are used, so they are warm when Redis
fails, and they decide alone until it answers again: the limits guard capacity, not who gets a token.
"""

from __future__ import annotations

import ipaddress
from collections.abc import MutableMapping, Sequence
from typing import Any

from portvakt.jose import MalformedJWT, UnverifiedJWT, peek
from portvakt.oauth.ratelimit import Gcra, Limit, RateCounter
from portvakt.settings import RateLimitSettings

from .runtime import Runtime

WINDOW = 60.0
_MAX_ISS = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> IPAddress | None:
    """The IP address in `text` ("[...]" and an IPv4-mapped IPv6 address unwrapped), or None."""
    try:
        found = ipaddress.ip_address(text.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def _source_key(text: str, found: IPAddress | None) -> str:
    """What a source counts as: an IPv4 address itself, an IPv6 address its /64 (what one subscriber is usually
    given, so an attacker can't take a fresh address per request), anything else its first 64 characters."""
    if isinstance(found, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((found, 64), strict=False))
    return str(found) if found is not None else text.strip()[:64]


class SourceAddress:
    """The source of a request (docs/security.md, Token flood): the TCP peer; when the peer is a trusted proxy, the
    right-most X-Forwarded-For entry that is not a trusted proxy (the entries left of it are the caller's own say)."""

    def __init__(self, trusted_proxies: Sequence[str]) -> None:
        self._trusted = tuple(ipaddress.ip_network(n, strict=False) for n in trusted_proxies)

    def _is_trusted(self, found: IPAddress | None) -> bool:
        return found is not None and any(found in network for network in self._trusted)

    def __call__(self, scope: MutableMapping[str, Any]) -> str:
        """The key this request's source counts under."""
        client = scope.get("client")
        peer = str(client[0]) if client else "unknown"
        if not self._trusted and ":" not in peer:
            return peer  # IPv4 (or a test client's name) as the server gave it: the common case, no parsing
        found = _address(peer)
        if not self._is_trusted(found):
            return _source_key(peer, found)
        entries = [e for name, value in scope["headers"] if name == b"x-forwarded-for"
                   for e in bytes(value).decode("latin-1").split(",") if e.strip()]
        for entry in reversed(entries):
            hop = _address(entry)
            if not self._is_trusted(hop):
                return _source_key(entry, hop)
        return _source_key(entries[0], _address(entries[0])) if entries else _source_key(peer, found)


#: The form's one assertion and its decoded (not verified) JWT.
PeekedAssertion = tuple[str, UnverifiedJWT]


def peek_assertion(form: list[tuple[str, str]], max_length: int) -> PeekedAssertion | None:
    """The form's assertion decoded without verifying anything (RFC 7515 §5.2 steps 1-7), so that the token service
    can reuse it; None when the form has not exactly one assertion that reads as a JWT (the token service refuses
    those)."""
    assertions = [v for k, v in form if k == "assertion"]
    if len(assertions) != 1:
        return None
    try:
        return assertions[0], peek(assertions[0], max_length=max_length)
    except MalformedJWT:
        return None


def issuer_of(peeked: PeekedAssertion | None) -> str | None:
    """The client_id a decoded grant names (its `iss`, RFC 7523 §3 item 1), not verified; None unless it is a
    non-empty string of at most 2048 characters."""
    if peeked is None:
        return None
    iss = peeked[1].claims.get("iss")
    return iss if isinstance(iss, str) and 0 < len(iss) <= _MAX_ISS else None


class TokenLimits:
    """/token's limits per source address and per client, a minute each (docs/security.md, Token flood); `local`
    counts in this process, `shared` (optional) on every node's counts. The checks answer the seconds to wait, 0
    when the request may go on."""

    def __init__(self, settings: RateLimitSettings, *, local: RateCounter | None = None,
                 shared: RateCounter | None = None) -> None:
        self.source = SourceAddress(settings.trusted_proxies)
        self.shared = shared
        self._local: RateCounter = local or Gcra()
        self._per_address = settings.per_address_per_minute
        self._per_client = settings.per_client_per_minute

    def _of_address(self, address: str) -> Limit:
        return ("token:address:" + address, self._per_address, WINDOW)

    def _of_client(self, client: str) -> Limit:
        return ("token:client:" + client, self._per_client, WINDOW)

    def address_wait(self, address: str) -> float:
        """Step 1, in memory: charge the address; or, when it has no slot left, the seconds to wait."""
        return self._local.admit([self._of_address(address)])

    def client_wait(self, client: str) -> float:
        """Step 2, in memory: whether the client has a slot left (nothing charged)."""
        return self._local.admit((), [self._of_client(client)])

    def shared_batch(self, admits: Sequence[tuple[str, str | None]], issued: Sequence[str]) -> list[float]:
        """Steps 3 and 4 on the shared counts for many requests at once, blocking (a worker thread), one round trip:
        for each (address, client) of `admits` the address charged and the client checked, then each client of
        `issued` charged. 0 for every admit when there are no shared counts or they can't answer (then the memory
        counts decided)."""
        if self.shared is None:
            return [0.0] * len(admits)
        try:
            return self.shared.admit_all(
                [([self._of_address(a)], [self._of_client(c)] if c else []) for a, c in admits],
                [[self._of_client(c)] for c in issued])
        except OSError:
            return [0.0] * len(admits)

    def charge_local(self, client: str) -> None:
        """Step 4 in memory: a token was issued to the client."""
        self._local.charge([self._of_client(client)])


def token_limits(rt: Runtime) -> TokenLimits | None:
    """/token's limits on this runtime (PORTVAKT_RATELIMIT__*), with the shared counts if it was given them; None
    when the limits are off."""
    settings = rt.settings.ratelimit
    if not settings.enabled:
        return None
    return TokenLimits(settings, shared=rt.rate_counter)
