"""Delegation schemes (with one row per scope they name) and delegations (docs/protocol.md §4.1).

Revision ID: 0003
Revises: 0002
Create Date: 2025-03-01 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create delegation_schemes, delegation_scheme_scopes and delegations with their indexes."""
    op.create_table(
        "delegation_schemes",
        sa.Column("scheme_id", KEY, primary_key=True),
        sa.Column("owner_orgno", KEY, nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.Column("last_updated", TS, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_delegation_schemes_owner_orgno", "delegation_schemes", ["owner_orgno", "scheme_id"])
    op.create_table(
        "delegation_scheme_scopes",
        sa.Column("scheme_id", KEY, sa.ForeignKey("delegation_schemes.scheme_id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("scope", KEY, primary_key=True),
    )
    op.create_index("ix_delegation_scheme_scopes_scope", "delegation_scheme_scopes", ["scope", "scheme_id"])
    op.create_table(
        "delegations",
        sa.Column("delegation_id", KEY, primary_key=True),
        sa.Column("consumer_orgno", KEY, nullable=False),
        sa.Column("supplier_orgno", KEY, nullable=False),
        sa.Column("scheme_id", KEY, sa.ForeignKey("delegation_schemes.scheme_id"), nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("revoked", TS, nullable=True),
        sa.Column("revoked_by", sa.Text(), nullable=True),
    )
    op.create_index("ix_delegations_supplier_consumer", "delegations", ["supplier_orgno", "consumer_orgno"])
    op.create_index("ix_delegations_consumer_orgno", "delegations", ["consumer_orgno"])
    op.create_index("ix_delegations_scheme_id", "delegations", ["scheme_id"])


def downgrade() -> None:
    """Back to 0002: drop the three tables (children first; their indexes go with them)."""
    for table in ("delegations", "delegation_scheme_scopes", "delegation_schemes"):
        op.drop_table(table)
