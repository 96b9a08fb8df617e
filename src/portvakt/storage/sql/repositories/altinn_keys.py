"""The Altinn side's own signing keys in SQL (docs/protocol.md §6.7): altinn_signing_keys, apart from signing_keys."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from portvakt.domain.models import SigningKey
from portvakt.domain.ports import AltinnKeyRepository
from portvakt.storage.readonly import writes

from .. import rows
from ..schema import altinn_signing_keys
from .base import SqlRepository


class SqlAltinnKeys(SqlRepository, AltinnKeyRepository):
    """The altinn_signing_keys table (private keys encrypted under the key-encryption key, as in signing_keys)."""

    def list_altinn_keys(self) -> Sequence[SigningKey]:
        k = altinn_signing_keys.c
        return [rows.to_signing_key(r) for r in self._conn.execute(sa.select(altinn_signing_keys)
                                                                   .order_by(k.created, k.kid))]

    @writes
    def put_altinn_key(self, key: SigningKey) -> None:
        self._tx.upsert(altinn_signing_keys, rows.signing_key_values(key))

    @writes
    def delete_altinn_key(self, kid: str) -> None:
        self._conn.execute(sa.delete(altinn_signing_keys).where(altinn_signing_keys.c.kid == kid))
