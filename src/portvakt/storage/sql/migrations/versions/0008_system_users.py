"""System users: the system register, requests, system users, agents' clients, client relationships and the Altinn
side's own signing keys (docs/protocol.md §6).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, TS, nullable=nullable)


def upgrade() -> None:
    """Create systems, system_client_ids, system_user_requests, system_users, agent_clients, client_relationships
    and altinn_signing_keys with their indexes; nothing older changes."""
    op.create_table(
        "systems",
        sa.Column("system_id", KEY, primary_key=True),
        sa.Column("internal_id", KEY, nullable=False),
        sa.Column("vendor_orgno", KEY, nullable=False),
        sa.Column("name", sa.JSON(), nullable=False),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column("rights", sa.JSON(), nullable=False),
        sa.Column("access_packages", sa.JSON(), nullable=False),
        sa.Column("client_ids", sa.JSON(), nullable=False),
        sa.Column("allowed_redirect_urls", sa.JSON(), nullable=False),
        sa.Column("is_visible", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        _ts("created"),
        _ts("last_updated"),
    )
    op.create_index("uq_systems_internal_id", "systems", ["internal_id"], unique=True)
    op.create_index("ix_systems_vendor_orgno", "systems", ["vendor_orgno", "system_id"])
    op.create_table(
        "system_client_ids",
        sa.Column("system_id", KEY, sa.ForeignKey("systems.system_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("client_id", KEY, primary_key=True),
        sa.Column("client_id_folded", KEY, nullable=False),
    )
    op.create_index("uq_system_client_ids_folded", "system_client_ids", ["client_id_folded"], unique=True)
    op.create_table(
        "system_user_requests",
        sa.Column("request_id", KEY, primary_key=True),
        sa.Column("user_type", sa.String(), nullable=False),
        sa.Column("system_id", KEY, sa.ForeignKey("systems.system_id"), nullable=False),
        sa.Column("vendor_orgno", KEY, nullable=False),
        sa.Column("party_orgno", KEY, nullable=False),
        sa.Column("external_ref", KEY, nullable=False),
        sa.Column("integration_title", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("rights", sa.JSON(), nullable=False),
        sa.Column("access_packages", sa.JSON(), nullable=False),
        sa.Column("redirect_url", sa.Text(), nullable=True),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("system_user_id", KEY, nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        _ts("created"),
        _ts("last_updated"),
    )
    op.create_index("ix_system_user_requests_key", "system_user_requests",
                    ["system_id", "party_orgno", "external_ref", "user_type"])
    op.create_index("ix_system_user_requests_system", "system_user_requests",
                    ["system_id", "user_type", "created", "request_id"])
    op.create_table(
        "system_users",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("system_user_id", KEY, nullable=False),
        sa.Column("user_type", sa.String(), nullable=False),
        sa.Column("system_id", KEY, sa.ForeignKey("systems.system_id"), nullable=False),
        sa.Column("vendor_orgno", KEY, nullable=False),
        sa.Column("owner_orgno", KEY, nullable=False),
        sa.Column("external_ref", KEY, nullable=False),
        sa.Column("integration_title", sa.Text(), nullable=False),
        sa.Column("rights", sa.JSON(), nullable=False),
        sa.Column("access_packages", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("request_id", KEY, nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        _ts("created"),
        _ts("last_updated"),
        sa.UniqueConstraint("system_user_id", name="uq_system_users_system_user_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_system_users_owner_ref", "system_users", ["owner_orgno", "external_ref", "seq"])
    op.create_index("ix_system_users_system_id", "system_users", ["system_id", "seq"])
    op.create_table(
        "agent_clients",
        sa.Column("system_user_id", KEY, sa.ForeignKey("system_users.system_user_id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("client_orgno", KEY, primary_key=True),
        _ts("added"),
        sa.Column("added_by", sa.Text(), nullable=True),
    )
    op.create_table(
        "client_relationships",
        sa.Column("client_orgno", KEY, sa.ForeignKey("organisations.orgno"), primary_key=True),
        sa.Column("facilitator_orgno", KEY, sa.ForeignKey("organisations.orgno"), primary_key=True),
        sa.Column("role", KEY, primary_key=True),
        _ts("created"),
        sa.Column("created_by", sa.Text(), nullable=True),
    )
    op.create_index("ix_client_relationships_facilitator", "client_relationships",
                    ["facilitator_orgno", "client_orgno"])
    op.create_table(
        "altinn_signing_keys",
        sa.Column("kid", KEY, primary_key=True),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("encrypted_private_key", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        _ts("created"),
        _ts("activated", nullable=True),
        _ts("retired", nullable=True),
        _ts("delete_after", nullable=True),
    )


def downgrade() -> None:
    """Back to 0007: drop the seven tables (their rows go with them)."""
    for table in ("altinn_signing_keys", "client_relationships", "agent_clients", "system_users",
                  "system_user_requests", "system_client_ids", "systems"):
        op.drop_table(table)
