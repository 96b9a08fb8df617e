"""Scopes, access lists and prefixes in memory (docs/protocol.md §3.4)."""

from __future__ import annotations

from collections.abc import Sequence

from portvakt.domain.models import Scope, ScopeAccess
from portvakt.domain.ports import ScopeRepository
from portvakt.storage.readonly import writes

from .state import MemoryRepository


class MemoryScopes(MemoryRepository, ScopeRepository):
    """Scopes by name, access entries by (scope, consumer), prefixes by prefix."""

    def get_scope(self, name: str) -> Scope | None:
        return self._state.scopes.get(name)

    @writes
    def put_scope(self, scope: Scope) -> None:
        self._state.scopes[scope.name] = scope

    def list_scopes(self, *, owner_orgno: str | None = None, include_inactive: bool = False) -> Sequence[Scope]:
        found = [s for s in self._state.scopes.values()
                 if (owner_orgno is None or s.owner_orgno == owner_orgno) and (include_inactive or s.active)]
        return sorted(found, key=lambda s: s.name)

    def get_access(self, scope: str, consumer_orgno: str) -> ScopeAccess | None:
        return self._state.access.get((scope, consumer_orgno))

    @writes
    def put_access(self, access: ScopeAccess) -> None:
        self._state.access[(access.scope, access.consumer_orgno)] = access

    @writes
    def delete_access(self, scope: str, consumer_orgno: str) -> None:
        self._state.access.pop((scope, consumer_orgno), None)

    def list_access(self, *, scope: str | None = None, consumer_orgno: str | None = None) -> Sequence[ScopeAccess]:
        found = [a for a in self._state.access.values()
                 if (scope is None or a.scope == scope)
                 and (consumer_orgno is None or a.consumer_orgno == consumer_orgno)]
        return sorted(found, key=lambda a: (a.scope, a.consumer_orgno))

    def get_prefix_owner(self, prefix: str) -> str | None:
        return self._state.prefixes.get(prefix)

    @writes
    def put_prefix(self, prefix: str, owner_orgno: str) -> None:
        self._state.prefixes[prefix] = owner_orgno

    def list_prefixes(self, owner_orgno: str | None = None) -> Sequence[tuple[str, str]]:
        return sorted((p, o) for p, o in self._state.prefixes.items() if owner_orgno in (None, o))
