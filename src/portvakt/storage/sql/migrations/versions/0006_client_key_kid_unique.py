"""A kid names one key across all clients: a unique index on client_keys.kid (docs/protocol.md §3.3, decision A17).

A database where two clients already share a kid is not changed: the upgrade stops with a message that names
each shared kid and its clients and says how to free it; the upgrade's transaction is rolled back, so the database
stays at the revision it had (decision A17).

Revision ID: 0006
Revises: 0005
Create Date: 2025-06-01 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

INDEX = "uq_client_keys_kid"
SHOWN = 10  # shared kids named in the message; the count says how many more there are


class SharedKids(SystemExit):
    """The upgrade's refusal: a SystemExit, so `portvakt init` and `serve` print the message and exit 1, with no
    traceback, and the transaction the upgrade runs in is rolled back."""


def _shared_kids() -> list[tuple[str, list[str]]]:
    """(kid, sorted client ids) for every kid that more than one client holds, sorted by kid."""
    keys = sa.table("client_keys", sa.column("kid"), sa.column("client_id"))
    shared = sa.select(keys.c.kid).group_by(keys.c.kid).having(sa.func.count() > 1)
    rows = op.get_bind().execute(sa.select(keys.c.kid, keys.c.client_id).where(keys.c.kid.in_(shared))
                                 .order_by(keys.c.kid, keys.c.client_id)).all()
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row.kid, []).append(row.client_id)
    return list(found.items())


def refusal(shared: list[tuple[str, list[str]]]) -> str:
    """The operator's message: what is wrong, which kids on which clients, and how to go on."""
    lines = [f'  kid "{kid}" on clients {", ".join(ids)}' for kid, ids in shared[:SHOWN]]
    if len(shared) > SHOWN:
        lines.append(f"  … and {len(shared) - SHOWN} more shared kids")
    return "\n".join([
        "portvakt cannot upgrade the database: a kid must name one key across all clients (docs/protocol.md §3.3), "
        "and these kids are registered on more than one client:",
        *lines,
        "Nothing was changed: the database stays at the revision it had. With the portvakt version that runs now, give "
        "each of these clients but one its key under another kid (POST /api/v1/clients/{client_id}/jwks with a "
        'new "kid"; the key itself may stay) and tell its owner to sign grants with the new kid, then upgrade '
        "again.",
    ])


def upgrade() -> None:
    """Refuse (SharedKids) if two clients share a kid; else create the unique index on client_keys.kid."""
    shared = _shared_kids()
    if shared:
        raise SharedKids(refusal(shared))
    op.create_index(INDEX, "client_keys", ["kid"], unique=True)


def downgrade() -> None:
    """Back to 0005: drop the index."""
    op.drop_index(INDEX, table_name="client_keys")
