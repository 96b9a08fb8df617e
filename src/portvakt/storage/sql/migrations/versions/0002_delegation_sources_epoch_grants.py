"""Delegation sources; used_grants.expires in epoch seconds without an index (the table is recreated).

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01 00:00:00

The used grant keys are dropped: they only guard grants that expire within about two minutes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create delegation_sources; recreate used_grants with integer expires and no expires index."""
    op.create_table(
        "delegation_sources",
        sa.Column("name", KEY, primary_key=True),
        sa.Column("issuer", KEY, nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.Column("last_updated", TS, nullable=False),
        sa.UniqueConstraint("issuer", name="uq_delegation_sources_issuer"),
    )
    op.drop_index("ix_used_grants_expires", table_name="used_grants")
    op.drop_table("used_grants")
    _create_used_grants(sa.BigInteger())


def downgrade() -> None:
    """Back to 0001: used_grants with timestamp expires and its index; no delegation_sources."""
    op.drop_table("used_grants")
    _create_used_grants(TS)
    op.create_index("ix_used_grants_expires", "used_grants", ["expires"])
    op.drop_table("delegation_sources")


def _create_used_grants(expires: sa.types.TypeEngine[Any]) -> None:
    op.create_table(
        "used_grants",
        sa.Column("key", sa.LargeBinary(32), primary_key=True),
        sa.Column("expires", expires, nullable=False),
        sqlite_with_rowid=False,
    )
