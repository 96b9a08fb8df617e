"""The server's own signing keys in SQL (docs/protocol.md §2.5, decisions K3 and K4)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from portvakt.domain.models import SigningKey
from portvakt.domain.ports import SigningKeyRepository
from portvakt.storage.readonly import writes

from .. import rows
from ..schema import signing_keys
from .base import SqlRepository


class SqlSigningKeys(SqlRepository, SigningKeyRepository):
    """The signing_keys table (private keys encrypted, decision K3)."""

    def list_signing_keys(self) -> Sequence[SigningKey]:
        query = sa.select(signing_keys).order_by(signing_keys.c.created, signing_keys.c.kid)
        return [rows.to_signing_key(r) for r in self._conn.execute(query)]

    @writes
    def put_signing_key(self, key: SigningKey) -> None:
        self._tx.upsert(signing_keys, rows.signing_key_values(key))

    @writes
    def delete_signing_key(self, kid: str) -> None:
        self._conn.execute(sa.delete(signing_keys).where(signing_keys.c.kid == kid))
