"""Clients and their keys in SQL (docs/protocol.md §3.2, §3.3)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from portvakt.domain.clients import kids_in_use
from portvakt.domain.errors import Conflict
from portvakt.domain.models import Client, ClientKey, IntegrationType
from portvakt.domain.ports import ClientRepository
from portvakt.storage.readonly import writes

from .. import rows
from ..schema import client_keys, clients
from .base import SqlRepository


class SqlClients(SqlRepository, ClientRepository):
    """The clients and client_keys tables: a client is always read and written with its keys."""

    def get_client(self, client_id: str) -> Client | None:
        row = self._conn.execute(sa.select(clients).where(clients.c.client_id == client_id)).first()
        return self._with_keys([row])[0] if row else None

    @writes
    def put_client(self, client: Client) -> None:
        self._tx.upsert(clients, rows.client_values(client))
        self._conn.execute(sa.delete(client_keys).where(client_keys.c.client_id == client.client_id))
        if client.keys:
            try:
                self._conn.execute(sa.insert(client_keys), rows.key_values(client.client_id, client.keys))
            except sa.exc.IntegrityError:  # uq_client_keys_kid, behind the domain's own check
                raise Conflict(kids_in_use([k.kid for k in client.keys], one_of=True)) from None

    def get_key_holders(self, kids: Sequence[str]) -> Mapping[str, str]:
        if not kids:
            return {}
        k = client_keys.c
        found = self._conn.execute(sa.select(k.kid, k.client_id).where(k.kid.in_(sorted(set(kids)))))
        return {row.kid: row.client_id for row in found}

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
        c = clients.c
        query = sa.select(clients).order_by(c.client_id).limit(limit)
        for column, wanted in ((c.client_orgno, client_orgno), (c.supplier_orgno, supplier_orgno),
                               (c.integration_type, integration_type)):
            if wanted is not None:
                query = query.where(column == str(wanted))
        if not include_inactive:
            query = query.where(c.active.is_(True))
        if after_client_id is not None:
            query = query.where(c.client_id > after_client_id)
        return self._page_with_keys(query)

    def _page_with_keys(self, query: sa.Select[Any]) -> list[Client]:
        """A page of clients joined with their keys: one statement, one round trip."""
        page, k = query.subquery("page"), client_keys.c
        joined = (sa.select(page, k.kid.label("k_kid"), k.jwk.label("k_jwk"), k.created.label("k_created"),
                            k.expires.label("k_expires"), k.origin.label("k_origin"))
                  .select_from(page.outerjoin(client_keys, k.client_id == page.c.client_id))
                  .order_by(page.c.client_id, k.position))
        found: list[Client] = []
        current: sa.Row[Any] | None = None
        keys: list[ClientKey] = []
        for row in self._conn.execute(joined).all():
            if current is None or row.client_id != current.client_id:
                if current is not None:
                    found.append(rows.to_client(current, keys))
                current, keys = row, []
            if row.k_kid is not None:
                keys.append(ClientKey(kid=row.k_kid, jwk=row.k_jwk, created=row.k_created, expires=row.k_expires,
                                      origin=rows.key_origin(row.k_origin)))
        if current is not None:
            found.append(rows.to_client(current, keys))
        return found

    def _with_keys(self, client_rows: Sequence[sa.Row[Any]]) -> list[Client]:
        """Attach the key sets of a page of clients, loaded with one query."""
        ids = [r.client_id for r in client_rows]
        keys: defaultdict[str, list[ClientKey]] = defaultdict(list)
        if ids:
            query = (sa.select(client_keys).where(client_keys.c.client_id.in_(ids))
                     .order_by(client_keys.c.client_id, client_keys.c.position))
            for k in self._conn.execute(query):
                keys[k.client_id].append(rows.to_key(k))
        return [rows.to_client(r, keys[r.client_id]) for r in client_rows]
