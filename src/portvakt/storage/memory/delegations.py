"""Delegation sources, schemes and delegations in memory (docs/protocol.md §3.4, §4.1–§4.3)."""

from __future__ import annotations

from collections.abc import Sequence

from portvakt.domain.errors import Conflict, NotFound
from portvakt.domain.models import Delegation, DelegationScheme, DelegationSource
from portvakt.domain.ports import DelegationRepository
from portvakt.storage.readonly import writes

from .state import MemoryRepository


class MemoryDelegations(MemoryRepository, DelegationRepository):
    """Sources by name (one issuer each), schemes by scheme_id, delegations by delegation_id."""

    def get_delegation_source(self, name: str) -> DelegationSource | None:
        return self._state.delegation_sources.get(name)

    @writes
    def put_delegation_source(self, source: DelegationSource) -> None:
        for other in self._state.delegation_sources.values():
            if other.issuer == source.issuer and other.name != source.name:
                raise Conflict(f"issuer {source.issuer} belongs to delegation source {other.name}")
        self._state.delegation_sources[source.name] = source

    def list_delegation_sources(self) -> Sequence[DelegationSource]:
        return sorted(self._state.delegation_sources.values(), key=lambda s: s.name)

    def get_scheme(self, scheme_id: str) -> DelegationScheme | None:
        return self._state.schemes.get(scheme_id)

    @writes
    def put_scheme(self, scheme: DelegationScheme) -> None:
        self._state.schemes[scheme.scheme_id] = scheme

    def list_schemes(self, *, owner_orgno: str | None = None, scope: str | None = None,
                     include_inactive: bool = False) -> Sequence[DelegationScheme]:
        found = [s for s in self._state.schemes.values()
                 if (owner_orgno is None or s.owner_orgno == owner_orgno)
                 and (scope is None or scope in s.scopes)
                 and (include_inactive or s.active)]
        return sorted(found, key=lambda s: s.scheme_id)

    def get_delegation(self, delegation_id: str) -> Delegation | None:
        return self._state.delegations.get(delegation_id)

    @writes
    def put_delegation(self, delegation: Delegation) -> None:
        if delegation.scheme_id not in self._state.schemes:
            raise NotFound(f"no delegation scheme {delegation.scheme_id}")
        self._state.delegations[delegation.delegation_id] = delegation

    def list_delegations(self, *, consumer_orgno: str | None = None, supplier_orgno: str | None = None,
                         scheme_id: str | None = None, include_revoked: bool = False) -> Sequence[Delegation]:
        found = [d for d in self._state.delegations.values()
                 if (consumer_orgno is None or d.consumer_orgno == consumer_orgno)
                 and (supplier_orgno is None or d.supplier_orgno == supplier_orgno)
                 and (scheme_id is None or d.scheme_id == scheme_id)
                 and (include_revoked or d.active)]
        return sorted(found, key=lambda d: (d.created, d.delegation_id))

    def has_delegation(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        """docs/protocol.md §4.2 step 4: an active delegation of an active scheme that names the scope."""
        for d in self._state.delegations.values():
            if d.consumer_orgno == consumer_orgno and d.supplier_orgno == supplier_orgno and d.active:
                scheme = self._state.schemes.get(d.scheme_id)
                if scheme is not None and scheme.active and scope in scheme.scopes:
                    return True
        return False
