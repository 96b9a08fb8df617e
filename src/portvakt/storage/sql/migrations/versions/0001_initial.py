"""The initial schema: organisations, clients and keys, scopes and access, signing keys, audit, feed, replay.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _key(name: str, *, primary_key: bool = False, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, KEY, primary_key=primary_key, nullable=nullable)


def _ts(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, TS, nullable=nullable)


def _text(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _string(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=False)


def upgrade() -> None:
    """Create every table and index of schema.py."""
    op.create_table("organisations", _key("orgno", primary_key=True), _text("name"), _ts("created"))
    _create_clients()
    _create_scopes()
    op.create_table("prefixes", _key("prefix", primary_key=True), _key("owner_orgno"))
    op.create_table(
        "signing_keys", _key("kid", primary_key=True),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("encrypted_private_key", sa.LargeBinary(), nullable=False),
        _string("state"), _ts("created"),
        _ts("activated", True), _ts("retired", True), _ts("delete_after", True),
    )
    _create_audit()
    op.create_table(
        "changes", sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        _string("kind"), _text("key"), _ts("at"), sqlite_autoincrement=True,
    )
    op.create_index("ix_changes_at", "changes", ["at"])
    op.create_table(
        "used_grants", sa.Column("key", sa.LargeBinary(32), primary_key=True), _ts("expires"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_used_grants_expires", "used_grants", ["expires"])


def _create_clients() -> None:
    op.create_table(
        "clients", _key("client_id", primary_key=True), _text("client_name"), _key("client_orgno"),
        _key("supplier_orgno", nullable=True), _string("integration_type"),
        sa.Column("scopes", sa.JSON(), nullable=False), _text("description"), _text("client_uri", True),
        _string("application_type"), _string("token_endpoint_auth_method"),
        sa.Column("grant_types", sa.JSON(), nullable=False),
        sa.Column("access_token_lifetime", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False), _ts("created"), _ts("last_updated"),
    )
    op.create_index("ix_clients_client_orgno", "clients", ["client_orgno", "client_id"])
    op.create_index("ix_clients_supplier_orgno", "clients", ["supplier_orgno", "client_id"])
    op.create_table(
        "client_keys",
        sa.Column("client_id", KEY, sa.ForeignKey("clients.client_id", ondelete="CASCADE"), primary_key=True),
        _key("kid", primary_key=True), sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("jwk", sa.JSON(), nullable=False), _ts("created"), _ts("expires"),
    )


def _create_scopes() -> None:
    op.create_table(
        "scopes", _key("name", primary_key=True), _key("prefix"), _key("subscope"), _key("owner_orgno"),
        _text("description"), _text("long_description"), _string("visibility"),
        sa.Column("at_max_age", sa.Integer(), nullable=False),
        sa.Column("allowed_integration_types", sa.JSON(), nullable=False),
        sa.Column("accessible_for_all", sa.Boolean(), nullable=False), _text("delegation_source", True),
        sa.Column("active", sa.Boolean(), nullable=False), _ts("created"), _ts("last_updated"),
    )
    op.create_index("ix_scopes_owner_orgno", "scopes", ["owner_orgno", "name"])
    op.create_table(
        "scope_access", _key("scope", primary_key=True), _key("consumer_orgno", primary_key=True),
        _key("owner_orgno"), _string("state"), _ts("created"), _ts("last_updated"),
    )
    op.create_index("ix_scope_access_consumer_orgno", "scope_access", ["consumer_orgno", "scope"])


def _create_audit() -> None:
    op.create_table(
        "audit_events", sa.Column("seq", SEQ, primary_key=True, autoincrement=True), _ts("at"),
        _key("actor_orgno", nullable=True), _key("actor_client_id", nullable=True), _string("action"),
        _string("entity_kind"), _text("entity_key"), sa.Column("org_scope", sa.JSON(), nullable=False),
        sa.Column("before", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("after", sa.JSON(none_as_null=True), nullable=True), sqlite_autoincrement=True,
    )
    op.create_table(
        "audit_event_orgs", _key("orgno", primary_key=True),
        sa.Column("seq", SEQ, sa.ForeignKey("audit_events.seq", ondelete="CASCADE"), primary_key=True),
    )


def downgrade() -> None:
    """Drop every table (children first)."""
    for table in ("used_grants", "changes", "audit_event_orgs", "audit_events", "signing_keys", "prefixes",
                  "scope_access", "scopes", "client_keys", "clients", "organisations"):
        op.drop_table(table)
