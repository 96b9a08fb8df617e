"""People (portal accounts) with their roles per organisation; the person behind an audit event.

Revision ID: 0004
Revises: 0003
Create Date: 2025-04-01 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create people and person_roles; add audit_events.actor_person (NULL for every older event)."""
    op.create_table(
        "people",
        sa.Column("username", KEY, primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("mobile", sa.String(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.Column("updated", TS, nullable=False),
    )
    op.create_table(
        "person_roles",
        sa.Column("username", KEY, sa.ForeignKey("people.username", ondelete="CASCADE"), primary_key=True),
        sa.Column("orgno", KEY, primary_key=True),
        sa.Column("role", KEY, primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index("ix_person_roles_orgno", "person_roles", ["orgno", "username"])
    op.add_column("audit_events", sa.Column("actor_person", KEY, nullable=True))


def downgrade() -> None:
    """Back to 0003: drop the person column of audit events (SQLite ≥ 3.35 drops in place) and both tables."""
    op.drop_column("audit_events", "actor_person")
    op.drop_table("person_roles")
    op.drop_table("people")
