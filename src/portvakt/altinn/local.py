"""The delegation lookup on the same database as the Altinn side (docs/protocol.md §4.2 step 4), without a cache."""

from __future__ import annotations

import logging

from portvakt.domain.ports import TokenStore
from portvakt.oauth.delegation import DelegationUnavailable

log = logging.getLogger("portvakt.altinn")


class LocalDelegationLookup:
    """Asks the store in a read-only unit of work; a revocation stops new tokens within about a quarter of a second
    on every node (the change feed's poll, `PORTVAKT_CACHE_POLL_SECONDS`)."""

    def __init__(self, store: TokenStore) -> None:
        self._store = store

    def has_delegation(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        """docs/protocol.md §4.2 step 4; DelegationUnavailable if the store cannot be read (fail closed)."""
        try:
            with self._store.read() as uow:
                return uow.has_delegation(consumer_orgno, supplier_orgno, scope)
        except Exception as exc:  # the store's own errors (e.g. the database is down): fail closed
            log.warning("delegation lookup failed: %s", type(exc).__name__)
            raise DelegationUnavailable("the delegation registry could not be read") from exc
