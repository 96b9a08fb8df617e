"""Organisations in SQL (docs/protocol.md §3)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from portvakt.domain.models import Organisation
from portvakt.domain.ports import OrganisationRepository
from portvakt.storage.readonly import writes

from .. import rows
from ..schema import organisations
from .base import SqlRepository


class SqlOrganisations(SqlRepository, OrganisationRepository):
    """The organisations table."""

    def get_org(self, orgno: str) -> Organisation | None:
        row = self._conn.execute(sa.select(organisations).where(organisations.c.orgno == orgno)).first()
        return rows.to_org(row) if row else None

    @writes
    def put_org(self, org: Organisation) -> None:
        self._tx.upsert(organisations, rows.org_values(org))

    def list_orgs(self) -> Sequence[Organisation]:
        result = self._conn.execute(sa.select(organisations).order_by(organisations.c.orgno))
        return [rows.to_org(r) for r in result]
