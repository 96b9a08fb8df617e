"""How each client key was made: client_keys.origin (paste, browser, pkcs12, api; docs/protocol.md §3.3).

Revision ID: 0007
Revises: 0006
Create Date: 2025-06-01 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add client_keys.origin, NULL for every key stored before: how those were made is not known."""
    op.add_column("client_keys", sa.Column("origin", sa.String(16), nullable=True))


def downgrade() -> None:
    """Back to 0006: drop the column (SQLite ≥ 3.35 drops in place)."""
    op.drop_column("client_keys", "origin")
