"""Organisations in memory (docs/protocol.md §3)."""

from __future__ import annotations

from collections.abc import Sequence

from portvakt.domain.models import Organisation
from portvakt.domain.ports import OrganisationRepository
from portvakt.storage.readonly import writes

from .state import MemoryRepository


class MemoryOrganisations(MemoryRepository, OrganisationRepository):
    """Organisations by orgno."""

    def get_org(self, orgno: str) -> Organisation | None:
        return self._state.orgs.get(orgno)

    @writes
    def put_org(self, org: Organisation) -> None:
        self._state.orgs[org.orgno] = org

    def list_orgs(self) -> Sequence[Organisation]:
        return sorted(self._state.orgs.values(), key=lambda o: o.orgno)
