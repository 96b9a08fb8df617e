"""Scopes the operator marks platform-only: only the operator puts them on a client, with the CLI
(docs/security.md, Privilege escalation).

Revision ID: 0005
Revises: 0004
Create Date: 2025-05-01 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add scopes.platform_only (false for every existing scope; the built-in ones are platform-only anyway)."""
    op.add_column("scopes", sa.Column("platform_only", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    """Back to 0004: drop the column (SQLite ≥ 3.35 drops in place)."""
    op.drop_column("scopes", "platform_only")
