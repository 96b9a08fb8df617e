"""The server's own signing keys in memory (docs/protocol.md §2.5, decision K4)."""

from __future__ import annotations

from collections.abc import Sequence

from portvakt.domain.models import SigningKey
from portvakt.domain.ports import SigningKeyRepository
from portvakt.storage.readonly import writes

from .state import MemoryRepository


class MemorySigningKeys(MemoryRepository, SigningKeyRepository):
    """Signing keys by kid, listed oldest first."""

    def list_signing_keys(self) -> Sequence[SigningKey]:
        return sorted(self._state.signing_keys.values(), key=lambda k: k.created)

    @writes
    def put_signing_key(self, key: SigningKey) -> None:
        self._state.signing_keys[key.kid] = key

    @writes
    def delete_signing_key(self, kid: str) -> None:
        self._state.signing_keys.pop(kid, None)
