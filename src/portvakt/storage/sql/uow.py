"""One SQL transaction implementing the UnitOfWork port (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from portvakt.domain.errors import Conflict
from portvakt.domain.models import (
    AuditEvent,
    Client,
    ClientKey,
    DelegationSource,
    IntegrationType,
    Organisation,
    Scope,
    ScopeAccess,
    SigningKey,
)
from portvakt.storage.readonly import writes

from . import rows
from .schema import (
    audit_event_orgs,
    audit_events,
    changes,
    client_keys,
    clients,
    delegation_sources,
    organisations,
    prefixes,
    scope_access,
    scopes,
    signing_keys,
)
from .uow_altinn import AltinnUnitOfWork


class SqlUnitOfWork(AltinnUnitOfWork):
    """The domain's reads and writes inside one database transaction (read_only: writes raise first)."""

    def get_org(self, orgno: str) -> Organisation | None:
        row = self._conn.execute(sa.select(organisations).where(organisations.c.orgno == orgno)).first()
        return rows.to_org(row) if row else None

    @writes
    def put_org(self, org: Organisation) -> None:
        self._upsert(organisations, rows.org_values(org))

    def list_orgs(self) -> Sequence[Organisation]:
        result = self._conn.execute(sa.select(organisations).order_by(organisations.c.orgno))
        return [rows.to_org(r) for r in result]

    def get_client(self, client_id: str) -> Client | None:
        row = self._conn.execute(sa.select(clients).where(clients.c.client_id == client_id)).first()
        return self._with_keys([row])[0] if row else None

    @writes
    def put_client(self, client: Client) -> None:
        self._upsert(clients, rows.client_values(client))
        self._conn.execute(sa.delete(client_keys).where(client_keys.c.client_id == client.client_id))
        if client.keys:
            self._conn.execute(sa.insert(client_keys), rows.key_values(client.client_id, client.keys))

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
                            k.expires.label("k_expires"))
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
                keys.append(ClientKey(kid=row.k_kid, jwk=row.k_jwk, created=row.k_created, expires=row.k_expires))
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

    def get_scope(self, name: str) -> Scope | None:
        row = self._conn.execute(sa.select(scopes).where(scopes.c.name == name)).first()
        return rows.to_scope(row) if row else None

    @writes
    def put_scope(self, scope: Scope) -> None:
        self._upsert(scopes, rows.scope_values(scope))

    def list_scopes(
        self, *, owner_orgno: str | None = None, include_inactive: bool = False,
    ) -> Sequence[Scope]:
        query = sa.select(scopes).order_by(scopes.c.name)
        if owner_orgno is not None:
            query = query.where(scopes.c.owner_orgno == owner_orgno)
        if not include_inactive:
            query = query.where(scopes.c.active.is_(True))
        return [rows.to_scope(r) for r in self._conn.execute(query)]

    def _access_key(self, scope: str, consumer_orgno: str) -> sa.ColumnElement[bool]:
        return sa.and_(scope_access.c.scope == scope, scope_access.c.consumer_orgno == consumer_orgno)

    def get_access(self, scope: str, consumer_orgno: str) -> ScopeAccess | None:
        query = sa.select(scope_access).where(self._access_key(scope, consumer_orgno))
        row = self._conn.execute(query).first()
        return rows.to_access(row) if row else None

    @writes
    def put_access(self, access: ScopeAccess) -> None:
        self._upsert(scope_access, rows.access_values(access))

    @writes
    def delete_access(self, scope: str, consumer_orgno: str) -> None:
        self._conn.execute(sa.delete(scope_access).where(self._access_key(scope, consumer_orgno)))

    def list_access(
        self, *, scope: str | None = None, consumer_orgno: str | None = None,
    ) -> Sequence[ScopeAccess]:
        query = sa.select(scope_access).order_by(scope_access.c.scope, scope_access.c.consumer_orgno)
        if scope is not None:
            query = query.where(scope_access.c.scope == scope)
        if consumer_orgno is not None:
            query = query.where(scope_access.c.consumer_orgno == consumer_orgno)
        return [rows.to_access(r) for r in self._conn.execute(query)]

    def get_prefix_owner(self, prefix: str) -> str | None:
        query = sa.select(prefixes.c.owner_orgno).where(prefixes.c.prefix == prefix)
        owner: str | None = self._conn.execute(query).scalar_one_or_none()
        return owner

    @writes
    def put_prefix(self, prefix: str, owner_orgno: str) -> None:
        self._upsert(prefixes, {"prefix": prefix, "owner_orgno": owner_orgno})

    def list_prefixes(self, owner_orgno: str | None = None) -> Sequence[tuple[str, str]]:
        query = sa.select(prefixes.c.prefix, prefixes.c.owner_orgno).order_by(prefixes.c.prefix)
        if owner_orgno is not None:
            query = query.where(prefixes.c.owner_orgno == owner_orgno)
        return [(r.prefix, r.owner_orgno) for r in self._conn.execute(query)]

    def get_delegation_source(self, name: str) -> DelegationSource | None:
        query = sa.select(delegation_sources).where(delegation_sources.c.name == name)
        row = self._conn.execute(query).first()
        return rows.to_delegation_source(row) if row else None

    @writes
    def put_delegation_source(self, source: DelegationSource) -> None:
        d = delegation_sources.c
        query = sa.select(d.name).where(d.issuer == source.issuer, d.name != source.name)
        if (other := self._conn.execute(query).scalar_one_or_none()) is not None:
            raise Conflict(f"issuer {source.issuer} belongs to delegation source {other}")
        self._upsert(delegation_sources, rows.delegation_source_values(source))

    def list_delegation_sources(self) -> Sequence[DelegationSource]:
        query = sa.select(delegation_sources).order_by(delegation_sources.c.name)
        return [rows.to_delegation_source(r) for r in self._conn.execute(query)]

    def list_signing_keys(self) -> Sequence[SigningKey]:
        query = sa.select(signing_keys).order_by(signing_keys.c.created, signing_keys.c.kid)
        return [rows.to_signing_key(r) for r in self._conn.execute(query)]

    @writes
    def put_signing_key(self, key: SigningKey) -> None:
        self._upsert(signing_keys, rows.signing_key_values(key))

    @writes
    def delete_signing_key(self, kid: str) -> None:
        self._conn.execute(sa.delete(signing_keys).where(signing_keys.c.kid == kid))

    @writes
    def append_audit(self, event: AuditEvent) -> None:
        result = self._conn.execute(sa.insert(audit_events).values(rows.audit_values(event)))
        seq = result.inserted_primary_key[0]  # type: ignore[index]
        visible = [{"orgno": orgno, "seq": seq} for orgno in dict.fromkeys(event.org_scope)]
        if visible:
            self._conn.execute(sa.insert(audit_event_orgs), visible)

    def list_audit(
        self, *, org: str, entity_kind: str | None = None, entity_key: str | None = None,
        since: datetime | None = None, limit: int = 100,
    ) -> Sequence[AuditEvent]:
        e, o = audit_events.c, audit_event_orgs.c
        query = (sa.select(audit_events).join(audit_event_orgs, o.seq == e.seq)
                 .where(o.orgno == org).order_by(o.seq.desc()).limit(limit))
        for column, wanted in ((e.entity_kind, entity_kind), (e.entity_key, entity_key)):
            if wanted is not None:
                query = query.where(column == wanted)
        if since is not None:
            query = query.where(e.at >= since)
        return [rows.to_audit(r) for r in self._conn.execute(query)]

    @writes
    def record_change(self, kind: str, key: str) -> None:
        self._conn.execute(sa.insert(changes).values(kind=kind, key=key, at=datetime.now(UTC)))
