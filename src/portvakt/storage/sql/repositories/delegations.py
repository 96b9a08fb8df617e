"""Delegation sources, schemes and delegations in SQL (docs/protocol.md §3.4, §4.1–§4.3)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from portvakt.domain.errors import Conflict, NotFound
from portvakt.domain.models import Delegation, DelegationScheme, DelegationSource
from portvakt.domain.ports import DelegationRepository
from portvakt.storage.readonly import writes

from .. import rows
from ..schema import delegation_scheme_scopes, delegation_schemes, delegation_sources, delegations
from .base import SqlRepository


class SqlDelegations(SqlRepository, DelegationRepository):
    """The delegation_sources, delegation_schemes (with their scopes) and delegations tables."""

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
        self._tx.upsert(delegation_sources, rows.delegation_source_values(source))

    def list_delegation_sources(self) -> Sequence[DelegationSource]:
        query = sa.select(delegation_sources).order_by(delegation_sources.c.name)
        return [rows.to_delegation_source(r) for r in self._conn.execute(query)]

    def get_scheme(self, scheme_id: str) -> DelegationScheme | None:
        query = sa.select(delegation_schemes).where(delegation_schemes.c.scheme_id == scheme_id)
        row = self._conn.execute(query).first()
        return rows.to_scheme(row) if row else None

    @writes
    def put_scheme(self, scheme: DelegationScheme) -> None:
        self._tx.upsert(delegation_schemes, rows.scheme_values(scheme))
        ss = delegation_scheme_scopes.c
        self._conn.execute(sa.delete(delegation_scheme_scopes).where(ss.scheme_id == scheme.scheme_id))
        if scheme.scopes:
            self._conn.execute(sa.insert(delegation_scheme_scopes), rows.scheme_scope_values(scheme))

    def list_schemes(self, *, owner_orgno: str | None = None, scope: str | None = None,
                     include_inactive: bool = False) -> Sequence[DelegationScheme]:
        s, ss = delegation_schemes.c, delegation_scheme_scopes.c
        query = sa.select(delegation_schemes)
        if scope is not None:  # in ix_delegation_scheme_scopes_scope order: no sort
            query = (query.join(delegation_scheme_scopes, ss.scheme_id == s.scheme_id).where(ss.scope == scope)
                     .order_by(ss.scheme_id))
        else:
            query = query.order_by(s.scheme_id)
        if owner_orgno is not None:
            query = query.where(s.owner_orgno == owner_orgno)
        if not include_inactive:
            query = query.where(s.active.is_(True))
        return [rows.to_scheme(r) for r in self._conn.execute(query)]

    def get_delegation(self, delegation_id: str) -> Delegation | None:
        query = sa.select(delegations).where(delegations.c.delegation_id == delegation_id)
        row = self._conn.execute(query).first()
        return rows.to_delegation(row) if row else None

    @writes
    def put_delegation(self, delegation: Delegation) -> None:
        s = delegation_schemes.c
        if self._conn.execute(sa.select(s.scheme_id).where(s.scheme_id == delegation.scheme_id)).first() is None:
            raise NotFound(f"no delegation scheme {delegation.scheme_id}")
        self._tx.upsert(delegations, rows.delegation_values(delegation))

    def list_delegations(self, *, consumer_orgno: str | None = None, supplier_orgno: str | None = None,
                         scheme_id: str | None = None, include_revoked: bool = False) -> Sequence[Delegation]:
        d = delegations.c
        query = sa.select(delegations).order_by(d.created, d.delegation_id)
        for column, wanted in ((d.consumer_orgno, consumer_orgno), (d.supplier_orgno, supplier_orgno),
                               (d.scheme_id, scheme_id)):
            if wanted is not None:
                query = query.where(column == wanted)
        if not include_revoked:
            query = query.where(d.revoked.is_(None))
        return [rows.to_delegation(r) for r in self._conn.execute(query)]

    def has_delegation(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        """docs/protocol.md §4.2 step 4 in one statement: the (supplier, consumer) index, then each scheme and its
        scope by primary key."""
        d, s, ss = delegations.c, delegation_schemes.c, delegation_scheme_scopes.c
        found = (sa.select(sa.literal(1))
                 .select_from(delegations)
                 .join(delegation_schemes, s.scheme_id == d.scheme_id)
                 .join(delegation_scheme_scopes, sa.and_(ss.scheme_id == d.scheme_id, ss.scope == scope))
                 .where(d.supplier_orgno == supplier_orgno, d.consumer_orgno == consumer_orgno,
                        d.revoked.is_(None), s.active.is_(True)))
        return bool(self._conn.execute(sa.select(found.exists())).scalar())
