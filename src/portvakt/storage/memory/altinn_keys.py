"""The Altinn side's own signing keys in memory (docs/protocol.md §6.7), kept apart from the token service's."""

from __future__ import annotations

from collections.abc import Sequence

from portvakt.domain.models import SigningKey
from portvakt.domain.ports import AltinnKeyRepository
from portvakt.storage.readonly import writes

from .state import MemoryRepository


class MemoryAltinnKeys(MemoryRepository, AltinnKeyRepository):
    """Altinn signing keys by kid, listed oldest first."""

    def list_altinn_keys(self) -> Sequence[SigningKey]:
        return sorted(self._state.altinn_keys.values(), key=lambda k: (k.created, k.kid))

    @writes
    def put_altinn_key(self, key: SigningKey) -> None:
        self._state.altinn_keys[key.kid] = key

    @writes
    def delete_altinn_key(self, kid: str) -> None:
        self._state.altinn_keys.pop(kid, None)
