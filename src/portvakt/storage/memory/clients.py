"""Clients and their keys in memory (docs/protocol.md §3.2, §3.3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from portvakt.domain.clients import kids_in_use
from portvakt.domain.errors import Conflict
from portvakt.domain.models import Client, IntegrationType
from portvakt.domain.ports import ClientRepository
from portvakt.storage.readonly import writes

from .state import MemoryRepository


class MemoryClients(MemoryRepository, ClientRepository):
    """Clients by client_id; keyset pages sorted by client_id (decision A7)."""

    def get_client(self, client_id: str) -> Client | None:
        return self._state.clients.get(client_id)

    @writes
    def put_client(self, client: Client) -> None:
        taken = sorted(kid for kid, holder in self.get_key_holders([k.kid for k in client.keys]).items()
                       if holder != client.client_id)
        if taken:
            raise Conflict(kids_in_use(taken))
        self._state.clients[client.client_id] = client

    def get_key_holders(self, kids: Sequence[str]) -> Mapping[str, str]:
        wanted = set(kids)
        if not wanted:
            return {}
        return {k.kid: c.client_id for c in self._state.clients.values() for k in c.keys if k.kid in wanted}

    def list_clients(
        self,
        *,
        client_orgno: str | None = None,
        supplier_orgno: str | None = None,
        integration_type: IntegrationType | None = None,
        include_inactive: bool = False,
        after_client_id: str | None = None,
        limit: int = 100,
    ) -> Sequence[Client]:
        found = [
            c for c in self._state.clients.values()
            if (client_orgno is None or c.client_orgno == client_orgno)
            and (supplier_orgno is None or c.supplier_orgno == supplier_orgno)
            and (integration_type is None or c.integration_type == integration_type)
            and (include_inactive or c.active)
            and (after_client_id is None or c.client_id > after_client_id)
        ]
        return sorted(found, key=lambda c: c.client_id)[:limit]
