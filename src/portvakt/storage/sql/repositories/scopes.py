"""Scopes, access lists and prefixes in SQL (docs/protocol.md §3.4)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from portvakt.domain.models import Scope, ScopeAccess
from portvakt.domain.ports import ScopeRepository
from portvakt.storage.readonly import writes

from .. import rows
from ..schema import prefixes, scope_access, scopes
from .base import SqlRepository


class SqlScopes(SqlRepository, ScopeRepository):
    """The scopes, scope_access and prefixes tables."""

    def get_scope(self, name: str) -> Scope | None:
        row = self._conn.execute(sa.select(scopes).where(scopes.c.name == name)).first()
        return rows.to_scope(row) if row else None

    @writes
    def put_scope(self, scope: Scope) -> None:
        self._tx.upsert(scopes, rows.scope_values(scope))

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
        self._tx.upsert(scope_access, rows.access_values(access))

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
        self._tx.upsert(prefixes, {"prefix": prefix, "owner_orgno": owner_orgno})

    def list_prefixes(self, owner_orgno: str | None = None) -> Sequence[tuple[str, str]]:
        query = sa.select(prefixes.c.prefix, prefixes.c.owner_orgno).order_by(prefixes.c.prefix)
        if owner_orgno is not None:
            query = query.where(prefixes.c.owner_orgno == owner_orgno)
        return [(r.prefix, r.owner_orgno) for r in self._conn.execute(query)]
