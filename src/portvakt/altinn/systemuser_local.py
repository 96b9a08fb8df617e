"""The system-user lookup on the same database as the Altinn side (docs/protocol.md §6.5), without a cache."""

from __future__ import annotations

import logging

from portvakt.domain.ports import TokenStore
from portvakt.oauth.systemuser import FoundSystemUser, SystemUserUnavailable

log = logging.getLogger("portvakt.altinn")


class LocalSystemUserLookup:
    """Asks the store in a read-only unit of work. Wrap it in `oauth.systemuser.CachedSystemUserLookup`, fed by the
    change feed, so a deleted system user, system or client id refuses new tokens within the feed's poll."""

    def __init__(self, store: TokenStore) -> None:
        self._store = store

    def find_system_user(self, client_id: str, vendor_orgno: str, owner_orgno: str,
                         external_ref: str) -> FoundSystemUser | None:
        """docs/protocol.md §6.5: the owner's system user, not deleted, with this external_ref, of a system not deleted
        of this vendor that lists client_id; SystemUserUnavailable if the store cannot be read (fail closed)."""
        try:
            with self._store.read() as uow:
                user = uow.find_system_user(client_id, vendor_orgno, owner_orgno, external_ref)
        except Exception as exc:  # the store's own errors (e.g. the database is down): fail closed
            log.warning("system-user lookup failed: %s", type(exc).__name__)
            raise SystemUserUnavailable("the system register could not be read") from exc
        if user is None or user.deleted or user.owner_orgno != owner_orgno:
            return None
        return FoundSystemUser(user.system_user_id, user.system_id, user.owner_orgno, user.external_ref)
