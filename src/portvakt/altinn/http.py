"""The delegation lookup against a remote Altinn side's lookup endpoint (docs/protocol.md §4.2), cached briefly, fail
closed."""

from __future__ import annotations

import json
from typing import Any

from portvakt.altinn.remote import HttpLookup
from portvakt.oauth.delegation import DelegationUnavailable

LOOKUP_PATH = "/accessmanagement/api/v1/maskinporten/delegations"
MAX_ANSWER_BYTES = 1 << 20
Key = tuple[str, str, str]


class HttpDelegationLookup(HttpLookup[Key, bool]):
    """Asks `GET {base_url}/accessmanagement/api/v1/maskinporten/delegations` with a delegations.admin token.

    A "yes" is cached for `positive_ttl` seconds (so a revocation takes effect within that time), a "no"
    for `negative_ttl` seconds; failures are never cached. Timeouts, connection errors, 5xx, 401/403
    (a misconfiguration), other statuses, an answer over 1 MiB and unreadable answers raise DelegationUnavailable:
    never "not delegated". Thread-safe; the bearer token is never logged nor put in an error.
    """

    path = LOOKUP_PATH
    required_scope = "altinn:maskinporten/delegations.admin"
    what = "delegation lookup"
    source = "the delegation source"
    error = DelegationUnavailable
    max_bytes = MAX_ANSWER_BYTES

    def has_delegation(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        """docs/protocol.md §4.2 step 4: the cached answer while fresh, else ask the Altinn side."""
        return self._answer((consumer_orgno, supplier_orgno, scope),
                            lambda: self._ask(consumer_orgno, supplier_orgno, scope), bool)

    def _ask(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        """One lookup call (docs/protocol.md §4.2 "Altinn lookup endpoint")."""
        body = self._remote.get({"supplierorg": supplier_orgno, "consumerorg": consumer_orgno, "scope": scope})
        return self._read(body, consumer_orgno, supplier_orgno, scope)

    def _read(self, body: bytes, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        """Non-empty array with an entry for this pair naming the scope ⇒ delegated (docs/protocol.md §4.2)."""
        entries = _entries(body)
        if entries is None:
            raise self._remote.unavailable(f"{self.url} did not answer a JSON array of delegations")
        return any(e.get("consumer_org") == consumer_orgno and e.get("supplier_org") == supplier_orgno
                   and scope in e["scopes"] for e in entries)


def _entries(body: bytes) -> list[dict[str, Any]] | None:
    """The answer's entries, each an object with a `scopes` array of strings; None if unreadable."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, list):
        return None
    for entry in data:
        scopes = entry.get("scopes") if isinstance(entry, dict) else None
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            return None
    return data
